"""`POST /api/incidents`: declaring an incident over the API, as the token's owner."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

DECLARATION = {
    "title": "Checkout is slow for EU customers",
    "severity": "P2",
    "service": "checkout",
    "summary": "Latency doubled at 09:10 UTC.",
}


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


@pytest.fixture
async def api(world: ConsoleWorld) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=world.app), base_url=world.container.base_url
    ) as client:
        yield client


def bearer(world: ConsoleWorld, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(email)}"}


async def test_a_declaration_answers_201_with_the_incident_as_get_shows_it(
    world: ConsoleWorld, api: httpx.AsyncClient
) -> None:
    answer = await api.post(
        "/api/incidents", json=DECLARATION, headers=bearer(world, "dan@example.com")
    )
    assert answer.status_code == 201, answer.text
    body = answer.json()
    assert answer.headers["location"] == f"/api/incidents/{body['id']}"
    assert body["title"] == DECLARATION["title"]
    assert body["severity"] == "P2"
    assert body["service"] == "checkout"
    assert body["source"] == "manual"
    assert body["ic"]["email"] == "dan@example.com"
    assert body["status"] == "alert_received"
    assert [e["type"] for e in body["audit"]][:2] == ["INCIDENT_DECLARED", "IC_ASSIGNED"]
    shown = await api.get(f"/api/incidents/{body['id']}", headers=bearer(world, "dan@example.com"))
    assert set(shown.json()) == set(body)

    await world.process()
    assembled = await api.get(
        f"/api/incidents/{body['id']}", headers=bearer(world, "dan@example.com")
    )
    assert assembled.json()["status"] == "assembled"
    assert assembled.json()["channel"]["id"]
    assert assembled.json()["checklist"]


async def test_the_ic_may_be_someone_else_in_the_roster(
    world: ConsoleWorld, api: httpx.AsyncClient
) -> None:
    answer = await api.post(
        "/api/incidents",
        json={**DECLARATION, "ic": "carol@example.com"},
        headers=bearer(world, "dan@example.com"),
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["ic"]["email"] == "carol@example.com"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"title": ""}, "title: say in a few words what is wrong"),
        ({"severity": "P0"}, "severity: 'P0' is not a severity: choose one of P1, P2, P3, P4"),
        ({"ic": "nobody@example.com"}, "ic: nobody@example.com is not in the roster"),
        ({"title": 42}, "title: Input should be a valid string"),
    ],
)
async def test_bad_input_answers_422_saying_what_is_wrong_and_opens_nothing(
    world: ConsoleWorld, api: httpx.AsyncClient, change: dict[str, object], says: str
) -> None:
    answer = await api.post(
        "/api/incidents", json={**DECLARATION, **change}, headers=bearer(world, "dan@example.com")
    )
    assert answer.status_code == 422
    assert says in answer.json()["error"]
    assert await world.container.store.recent() == []


async def test_without_a_valid_token_of_someone_in_the_roster_nothing_is_declared(
    world: ConsoleWorld, api: httpx.AsyncClient
) -> None:
    nobody = await api.post("/api/incidents", json=DECLARATION)
    assert nobody.status_code == 401
    outsider = await api.post(
        "/api/incidents", json=DECLARATION, headers=bearer(world, "mallory@example.com")
    )
    assert outsider.status_code == 401
    assert await world.container.store.recent() == []


async def test_a_retried_post_with_an_idempotency_key_returns_the_same_incident(
    world: ConsoleWorld, api: httpx.AsyncClient
) -> None:
    headers = {**bearer(world, "dan@example.com"), "Idempotency-Key": "3f0c9a"}
    first = await api.post("/api/incidents", json=DECLARATION, headers=headers)
    again = await api.post("/api/incidents", json=DECLARATION, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    assert again.headers["idempotency-replayed"] == "true"
    assert "idempotency-replayed" not in first.headers
    # without the key, a second POST is a second incident
    other = await api.post(
        "/api/incidents", json=DECLARATION, headers=bearer(world, "dan@example.com")
    )
    assert other.json()["id"] != first.json()["id"]
    assert len(await world.container.store.recent()) == 2
