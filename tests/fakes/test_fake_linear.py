"""The fake Linear itself: it must refuse what Linear's schema refuses and limit what Linear
limits, or the adapter's tests against it prove nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.fakes.linear import DEFAULT_TEAM, FakeLinear

VIEWER = "query Who { viewer { id name } }"
CREATE = """
mutation Create($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier } }
}
"""


@pytest.fixture
async def linear() -> AsyncIterator[FakeLinear]:
    async with FakeLinear() as fake:
        yield fake


async def post(
    linear: FakeLinear, body: Any, *, key: str | None = None, **kwargs: Any
) -> httpx.Response:
    async with httpx.AsyncClient() as client:
        return await client.post(
            linear.api_url,
            json=body,
            headers={"Authorization": linear.api_key if key is None else key},
            **kwargs,
        )


async def test_a_valid_query_is_answered_with_the_request_budget(linear: FakeLinear) -> None:
    answer = await post(linear, {"query": VIEWER})

    assert answer.status_code == 200
    assert answer.json() == {
        "data": {"viewer": {"id": linear.viewer["id"], "name": "Alice Martin"}}
    }
    assert answer.headers["X-RateLimit-Requests-Limit"] == "5000"
    assert answer.headers["X-RateLimit-Requests-Remaining"] == "4999"
    assert int(answer.headers["X-RateLimit-Requests-Reset"]) > 1_700_000_000_000  # epoch ms
    assert linear.violations == []


@pytest.mark.parametrize(
    ("body", "code", "problem"),
    [
        ({"query": "query { viewer { nickname } }"}, "GRAPHQL_VALIDATION_FAILED", "nickname"),
        ({"query": "query { viewer { id }"}, "GRAPHQL_PARSE_FAILED", "Syntax Error"),
        (
            {"query": "{ issues(filter: {title: {eq: 1}}) { nodes { id } } }"},
            "GRAPHQL_VALIDATION_FAILED",
            "String",
        ),
        (
            {"query": CREATE, "variables": {"input": {"title": "PM", "priority": "high"}}},
            "BAD_USER_INPUT",
            "teamId",
        ),
        (
            {"query": CREATE, "variables": {"input": {"teamId": "t", "priority": "high"}}},
            "BAD_USER_INPUT",
            "Int cannot represent",
        ),
        ({"variables": {}}, "BAD_REQUEST", "query"),
    ],
)
async def test_a_request_the_schema_refuses_is_refused_and_recorded(
    linear: FakeLinear, body: dict[str, Any], code: str, problem: str
) -> None:
    answer = await post(linear, body)

    assert answer.status_code == 400
    errors = answer.json()["errors"]
    assert {e["extensions"]["code"] for e in errors} == {code}
    assert any(problem in e["message"] for e in errors)
    [violation] = linear.violations
    assert any(problem in p for p in violation.problems)
    assert linear.issues == {}


async def test_an_issue_id_that_is_not_a_uuid_v4_is_refused(linear: FakeLinear) -> None:
    variables = {"input": {"id": "inc-1", "teamId": DEFAULT_TEAM["id"], "title": "PM"}}

    answer = await post(linear, {"query": CREATE, "variables": variables})

    assert answer.json()["errors"][0]["extensions"]["code"] == "INPUT_ERROR"
    assert linear.issues == {}
    assert len(linear.violations) == 1


async def test_a_filter_the_fake_does_not_model_is_a_violation_not_a_silent_answer(
    linear: FakeLinear,
) -> None:
    query = "{ issues(filter: {priority: {eq: 1}}) { nodes { id } } }"

    answer = await post(linear, {"query": query})

    assert "does not model" in answer.json()["errors"][0]["message"]
    assert len(linear.violations) == 1


@pytest.mark.parametrize("key", ["", "lin_api_other", "Bearer lin_api_fake0123456789"])
async def test_a_wrong_key_gets_linears_authentication_error(linear: FakeLinear, key: str) -> None:
    answer = await post(linear, {"query": VIEWER}, key=key)

    assert answer.status_code == 400
    [error] = answer.json()["errors"]
    assert error["extensions"]["code"] == "AUTHENTICATION_ERROR"
    assert error["extensions"]["type"] == "authentication error"
    # a personal key sent as an OAuth bearer token is the client breaking the contract
    assert len(linear.violations) == (1 if key.startswith("Bearer") else 0)


async def test_over_the_budget_linear_answers_429_ratelimited_with_retry_after(
    linear: FakeLinear,
) -> None:
    linear.limit_requests(2, period=60)
    for _ in range(2):
        assert (await post(linear, {"query": VIEWER})).status_code == 200

    answer = await post(linear, {"query": VIEWER})

    assert answer.status_code == 429
    assert answer.json()["errors"][0]["extensions"]["code"] == "RATELIMITED"
    assert answer.headers["Retry-After"] == "30"
    assert answer.headers["X-RateLimit-Requests-Remaining"] == "0"
    assert linear.rate_limited == 1


async def test_a_team_that_does_not_exist_is_an_error_in_a_200_answer(linear: FakeLinear) -> None:
    query = 'query { team(id: "00000000-0000-4000-8000-000000000000") { id } }'

    answer = await post(linear, {"query": query})

    assert answer.status_code == 200
    assert answer.json()["data"] is None
    [error] = answer.json()["errors"]
    assert error["message"] == "Entity not found: Team"
    assert error["path"] == ["team"]
    assert linear.violations == []
