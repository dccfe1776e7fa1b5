"""Linear failing: rate limits, 5xx, timeouts, an open circuit, GraphQL errors, bad settings."""

from __future__ import annotations

import pytest

from incident_response.adapters.linear.client import LinearError
from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.http import BreakerPolicy, CircuitOpen, VendorError
from tests.fakes.linear import FakeLinear, ManualClock
from tests.integration.linear.conftest import Connect

UNKNOWN_TEAM = "00000000-0000-4000-8000-000000000000"


async def test_a_429_is_retried_after_the_retry_after_linear_gave(
    linear: FakeLinear, tracker: LinearIssueTracker, ticks: ManualClock
) -> None:
    linear.limit_requests(2, period=20)  # then one more request every 10 s
    await tracker.find_postmortem("inc-1")
    await tracker.find_postmortem("inc-2")

    assert await tracker.find_postmortem("inc-3") is None

    assert linear.rate_limited == 1
    assert ticks.slept == [10.0]  # exactly Linear's Retry-After, not a guess
    assert linear.requested() == ["issues"] * 4


async def test_queries_are_retried_on_5xx(linear: FakeLinear, tracker: LinearIssueTracker) -> None:
    filed = await tracker.file_postmortem(key="inc-1", title="PM", body="b")
    linear.fail_next_call("issues", 2, status=502)

    assert await tracker.find_postmortem("inc-1") == filed
    assert linear.requested()[-3:] == ["issues", "issues", "issues"]


async def test_a_query_that_times_out_is_retried(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.stall_next(1, seconds=1.0)  # the attempt timeout is 0.3 s

    assert await tracker.find_postmortem("inc-1") is None
    assert linear.requested() == ["issues", "issues"]


async def test_an_open_circuit_fails_fast_until_it_resets(
    linear: FakeLinear, connect: Connect, ticks: ManualClock
) -> None:
    tracker = connect(breaker=BreakerPolicy(failures=3, reset_after=30))
    linear.fail_next(3, status=503)
    with pytest.raises(VendorError, match="HTTP 503"):
        await tracker.find_postmortem("inc-1")
    seen = len(linear.calls)

    with pytest.raises(CircuitOpen, match="circuit open"):
        await tracker.file_postmortem(key="inc-1", title="PM", body="b")
    assert len(linear.calls) == seen  # Linear was not called

    ticks.now += 31
    filed = await tracker.file_postmortem(key="inc-1", title="PM", body="b")
    assert list(linear.issues) == [filed.id]


@pytest.mark.parametrize(
    ("extensions", "transient"),
    [
        ({"type": "lock timeout", "code": "LOCK_TIMEOUT"}, True),
        ({"type": "internal error", "code": "INTERNAL_ERROR"}, True),
        ({"type": "invalid input", "code": "INPUT_ERROR"}, False),
    ],
)
async def test_graphql_errors_in_a_200_answer_are_a_clear_error(
    linear: FakeLinear, tracker: LinearIssueTracker, extensions: dict[str, str], transient: bool
) -> None:
    linear.fail_next(
        1,
        status=200,
        body={"data": None, "errors": [{"message": "Something broke", "extensions": extensions}]},
    )

    with pytest.raises(LinearError) as raised:
        await tracker.find_postmortem("inc-1")

    assert str(raised.value) == "linear find postmortem failed: Something broke"
    assert raised.value.transient is transient


async def test_ratelimited_in_a_graphql_error_is_transient_and_says_when(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.fail_next(
        1,
        status=400,
        retry_after=20,
        body={
            "errors": [{"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}]
        },
    )

    with pytest.raises(LinearError, match="rate limited by Linear") as raised:
        await tracker.find_postmortem("inc-1")

    assert raised.value.transient
    assert raised.value.retry_after == 20


async def test_a_wrong_api_key_is_a_clear_error_naming_linear_api_key(
    linear: FakeLinear, connect: Connect
) -> None:
    tracker = connect(api_key="lin_api_revoked")

    with pytest.raises(LinearError, match="LINEAR_API_KEY") as raised:
        await tracker.file_postmortem(key="inc-1", title="PM", body="b")

    assert not raised.value.transient
    assert raised.value.status == 400  # Linear's answer to a bad key
    assert "Authentication required" in str(raised.value)
    assert linear.issues == {}


async def test_a_team_that_does_not_exist_is_a_clear_error_naming_linear_team_id(
    linear: FakeLinear, connect: Connect
) -> None:
    tracker = connect(team_id=UNKNOWN_TEAM)

    with pytest.raises(LinearError, match="LINEAR_TEAM_ID") as raised:
        await tracker.file_postmortem(key="inc-1", title="PM", body="b")

    assert "Entity not found: Team" in str(raised.value)
    assert not raised.value.transient
    assert linear.issues == {}


async def test_the_probe_names_the_team_and_who_the_key_is(tracker: LinearIssueTracker) -> None:
    assert await tracker.probe() == "team 'ENG' (Engineering) reachable as Alice Martin"


async def test_the_probe_of_a_team_that_does_not_exist_names_linear_team_id(
    connect: Connect,
) -> None:
    with pytest.raises(LinearError, match=f"LINEAR_TEAM_ID {UNKNOWN_TEAM} is not a team"):
        await connect(team_id=UNKNOWN_TEAM).probe()


async def test_the_probe_with_a_wrong_key_names_linear_api_key(connect: Connect) -> None:
    with pytest.raises(LinearError, match="check LINEAR_API_KEY"):
        await connect(api_key="lin_api_revoked").probe()


@pytest.mark.parametrize("body", ["Unauthorized", {"message": "Forbidden"}])
async def test_a_401_without_graphql_errors_still_names_linear_api_key(
    linear: FakeLinear, tracker: LinearIssueTracker, body: object
) -> None:
    linear.fail_next(1, status=401, body=body)

    with pytest.raises(LinearError, match="check LINEAR_API_KEY") as raised:
        await tracker.find_postmortem("inc-1")

    assert not raised.value.transient


async def test_an_answer_that_is_not_graphql_is_a_clear_error(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.fail_next(1, status=200, body={"ok": True})

    with pytest.raises(VendorError, match="find postmortem failed: HTTP 200 without a GraphQL"):
        await tracker.find_postmortem("inc-1")
