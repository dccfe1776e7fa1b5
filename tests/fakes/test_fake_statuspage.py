"""The fake Statuspage itself: it must refuse what Statuspage refuses and limit what it limits,
or the adapter's tests against it prove nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.statuspage import FakeStatuspage


@pytest.fixture
async def fake() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as server:
        yield server


@pytest.fixture
async def client(fake: FakeStatuspage) -> AsyncIterator[httpx.AsyncClient]:
    headers = {"Authorization": f"OAuth {fake.api_key}"}
    async with httpx.AsyncClient(base_url=fake.url, headers=headers) as http:
        yield http


def incidents(fake: FakeStatuspage) -> str:
    return f"/v1/pages/{fake.page_id}/incidents"


async def test_a_wrong_key_is_401_and_a_wrong_page_404(
    fake: FakeStatuspage, client: httpx.AsyncClient
) -> None:
    refused = await client.get(incidents(fake), headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    missing = await client.get("/v1/pages/otherpage/incidents")
    assert (missing.status_code, missing.json()) == (
        404,
        {"message": "The requested resource could not be found."},
    )


@pytest.mark.parametrize(
    ("incident", "problem"),
    [
        ({"name": "Down", "status": "down"}, "incident[status] 'down' is not one of"),
        ({"name": "Down", "impact_override": "huge"}, "incident[impact_override] 'huge'"),
        ({"name": "Down", "components": {"cmpx": "operational"}}, "component cmpx is not on"),
        ({"name": "Down", "metadata": {"incident_response": "k"}}, "top-level values must be"),
        ({"name": "Down", "impact": "major"}, "unknown field incident[impact]"),
        ({"status": "investigating"}, "name can't be blank"),
    ],
)
async def test_a_body_that_breaks_the_contract_is_422_and_recorded(
    fake: FakeStatuspage, client: httpx.AsyncClient, incident: dict[str, Any], problem: str
) -> None:
    answer = await client.post(incidents(fake), json={"incident": incident})
    assert answer.status_code == 422
    assert problem in answer.json()["message"]
    assert problem in fake.violations[0]
    assert fake.incidents == {}


async def test_over_the_limit_is_420_with_retry_after_and_does_nothing(
    fake: FakeStatuspage, client: httpx.AsyncClient
) -> None:
    fake.rate_limited_at(1.0, window=60.0)
    body = {"incident": {"name": "Down", "status": "investigating", "body": "Looking."}}
    answers = [await client.post(incidents(fake), json=body) for _ in range(61)]
    assert [a.status_code for a in answers[:60]] == [201] * 60
    assert answers[60].status_code == 420
    assert int(answers[60].headers["Retry-After"]) >= 1
    assert len(fake.incidents) == 60


async def test_listings_are_paged_newest_first(
    fake: FakeStatuspage, client: httpx.AsyncClient
) -> None:
    for n in range(3):
        await client.post(incidents(fake), json={"incident": {"name": f"I{n}", "body": "x"}})
    page = await client.get(incidents(fake), params={"limit": 2, "page": 1})
    assert [i["name"] for i in page.json()] == ["I2", "I1"]
    second = await client.get(incidents(fake), params={"limit": 2, "page": 2})
    assert [i["name"] for i in second.json()] == ["I0"]
    too_big = await client.get(f"/v1/pages/{fake.page_id}/components", params={"per_page": 500})
    assert too_big.status_code == 400
