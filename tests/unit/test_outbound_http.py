"""The outbound HTTP policy against a real local server: what is retried and what is not, how
long it waits, when the breaker opens and closes, and what a caller is told."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from aiohttp import web
from hypothesis import given
from hypothesis import strategies as st

from incident_response.http import (
    BreakerPolicy,
    CallPolicy,
    CircuitOpen,
    OutboundHttp,
    Pacer,
    VendorError,
    retry_after_seconds,
)
from tests.fakes.vendor_server import FakeVendorServer


class Echo(FakeVendorServer):
    name = "echo"

    def __init__(self) -> None:
        super().__init__()
        self.created = 0

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/things", self.endpoint(self._things))
        app.router.add_post("/things", self.endpoint(self._create))
        app.router.add_get("/missing", self.endpoint(self._missing))
        app.router.add_get("/refused", self.endpoint(self._refused))

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == "Key k"

    async def _things(self, request: web.Request) -> web.Response:
        return web.json_response({"things": [1, 2]})

    async def _create(self, request: web.Request) -> web.Response:
        self.created += 1
        return web.json_response({"id": self.created}, status=201)

    async def _missing(self, request: web.Request) -> web.Response:
        return web.json_response({"message": "no such thing"}, status=404)

    async def _refused(self, request: web.Request) -> web.Response:
        return web.json_response({"error": {"message": "team id is not a UUID"}}, status=400)


class Clock:
    """Monotonic time the test moves; `sleep` records waits and moves time instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
async def echo() -> AsyncIterator[Echo]:
    async with Echo() as server:
        yield server


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
async def outbound(clock: Clock) -> AsyncIterator[OutboundHttp]:
    http = OutboundHttp(sleep=clock.sleep, monotonic=clock.monotonic)
    yield http
    await http.aclose()


async def test_a_read_is_retried_through_5xx_with_backoff(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})
    echo.fail_next(2, status=503)

    response = await client.request("GET", "/things")

    assert response.json() == {"things": [1, 2]}
    assert len(echo.calls_to("GET", "/things")) == 3
    assert len(clock.slept) == 2
    assert all(0 <= wait <= CallPolicy().backoff_max for wait in clock.slept)


async def test_a_create_answered_5xx_is_not_sent_again(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})
    echo.fail_next(1, status=503)

    with pytest.raises(VendorError) as raised:
        await client.request("POST", "/things", json={"name": "x"})

    assert len(echo.calls_to("POST", "/things")) == 1
    assert raised.value.status == 503
    assert raised.value.transient
    assert "echo POST /things failed: HTTP 503" in str(raised.value)


async def test_a_create_the_caller_marks_idempotent_is_retried(
    outbound: OutboundHttp, echo: Echo
) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})
    echo.fail_next(1, status=502)

    response = await client.request("POST", "/things", json={}, idempotent=True)

    assert response.status_code == 201
    assert len(echo.calls_to("POST", "/things")) == 2


@pytest.mark.parametrize("status", [429, 420])
async def test_a_rate_limited_create_waits_exactly_retry_after_then_goes_through(
    outbound: OutboundHttp, echo: Echo, clock: Clock, status: int
) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})
    echo.fail_next(1, status=status, retry_after=2)

    response = await client.request("POST", "/things", json={})

    assert response.status_code == 201
    assert clock.slept == [2.0]
    assert echo.created == 1


async def test_a_retry_after_longer_than_the_cap_fails_at_once(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor(
        "echo",
        base_url=echo.url,
        headers={"Authorization": "Key k"},
        policy=CallPolicy(max_retry_after=10),
    )
    echo.fail_next(1, status=429, retry_after=3600)

    with pytest.raises(VendorError) as raised:
        await client.request("GET", "/things")

    assert clock.slept == []
    assert raised.value.retry_after == 3600
    assert raised.value.transient


async def test_a_refusal_is_not_retried_and_says_why(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})

    with pytest.raises(VendorError) as raised:
        await client.request("GET", "/refused")

    assert len(echo.calls_to("GET", "/refused")) == 1
    assert not raised.value.transient
    assert "HTTP 400: team id is not a UUID" in str(raised.value)


async def test_bad_credentials_are_a_refusal_not_an_outage(
    outbound: OutboundHttp, echo: Echo
) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key wrong"})

    with pytest.raises(VendorError) as raised:
        await client.request("GET", "/things")

    assert raised.value.status == 401
    assert not raised.value.transient


async def test_an_expected_status_is_an_answer(outbound: OutboundHttp, echo: Echo) -> None:
    client = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})

    response = await client.request("GET", "/missing", ok_statuses=frozenset({404}))

    assert response.status_code == 404


async def test_a_slow_vendor_times_out_per_attempt(outbound: OutboundHttp, echo: Echo) -> None:
    client = outbound.vendor(
        "echo",
        base_url=echo.url,
        headers={"Authorization": "Key k"},
        policy=CallPolicy(timeout=0.2, attempts=2),
    )
    echo.stall_next(2, seconds=1.0)

    with pytest.raises(VendorError) as raised:
        await client.request("GET", "/things")

    assert "no answer within 0.2 s" in str(raised.value)
    assert raised.value.transient
    assert len(echo.calls_to("GET", "/things")) == 2


async def test_an_unreachable_vendor_is_transient(outbound: OutboundHttp, clock: Clock) -> None:
    client = outbound.vendor("gone", base_url="http://127.0.0.1:9", policy=CallPolicy(attempts=2))

    with pytest.raises(VendorError) as raised:
        await client.request("POST", "/things", json={})

    assert "cannot connect" in str(raised.value)
    assert raised.value.transient
    assert len(clock.slept) == 1  # never reached: safe to try a create again


async def test_the_breaker_opens_fails_fast_and_closes_after_a_good_trial(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor(
        "echo",
        base_url=echo.url,
        headers={"Authorization": "Key k"},
        policy=CallPolicy(attempts=1),
        breaker=BreakerPolicy(failures=3, reset_after=30),
    )
    echo.fail_next(3, status=500)
    for _ in range(3):
        with pytest.raises(VendorError):
            await client.request("GET", "/things")
    seen = len(echo.calls)

    with pytest.raises(CircuitOpen) as raised:
        await client.request("GET", "/things")
    assert len(echo.calls) == seen  # failed fast: the vendor saw nothing
    assert "circuit open after 3 failures" in str(raised.value)
    assert raised.value.transient

    clock.now += 30
    response = await client.request("GET", "/things")  # the trial call
    assert response.status_code == 200
    assert outbound.breakers["echo"].state == "closed"


async def test_a_failed_trial_opens_the_breaker_again(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor(
        "echo",
        base_url=echo.url,
        headers={"Authorization": "Key k"},
        policy=CallPolicy(attempts=1),
        breaker=BreakerPolicy(failures=1, reset_after=10),
    )
    echo.fail_next(2, status=500)
    with pytest.raises(VendorError):
        await client.request("GET", "/things")
    clock.now += 10

    with pytest.raises(VendorError):
        await client.request("GET", "/things")  # the trial fails
    with pytest.raises(CircuitOpen):
        await client.request("GET", "/things")


async def test_rate_limits_do_not_open_the_breaker(
    outbound: OutboundHttp, echo: Echo, clock: Clock
) -> None:
    client = outbound.vendor(
        "echo",
        base_url=echo.url,
        headers={"Authorization": "Key k"},
        policy=CallPolicy(attempts=1),
        breaker=BreakerPolicy(failures=2),
    )
    echo.fail_next(3, status=429, retry_after=1)
    for _ in range(3):
        with pytest.raises(VendorError):
            await client.request("GET", "/things")

    assert outbound.breakers["echo"].state == "closed"


async def test_clients_of_one_vendor_share_its_breaker(outbound: OutboundHttp, echo: Echo) -> None:
    one = outbound.vendor(
        "echo",
        base_url=echo.url,
        headers={"Authorization": "Key k"},
        policy=CallPolicy(attempts=1),
        breaker=BreakerPolicy(failures=1),
    )
    other = outbound.vendor("echo", base_url=echo.url, headers={"Authorization": "Key k"})
    echo.fail_next(1, status=500)
    with pytest.raises(VendorError):
        await one.request("GET", "/things")

    with pytest.raises(CircuitOpen):
        await other.request("GET", "/things")


async def test_guard_times_out_an_sdk_call_and_counts_it(
    outbound: OutboundHttp, echo: Echo
) -> None:
    client = outbound.vendor("sdk", base_url="", breaker=BreakerPolicy(failures=1))

    async def never() -> str:
        import asyncio

        await asyncio.sleep(10)
        return "late"

    with pytest.raises(VendorError) as raised:
        await client.guard("converse", never, deadline=0.05)
    assert "sdk converse failed: no answer within 0.05 s" in str(raised.value)
    with pytest.raises(CircuitOpen):
        await client.guard("converse", never, deadline=0.05)


async def test_the_pacer_spreads_calls_evenly(clock: Clock) -> None:
    pacer = Pacer(4.0, monotonic=clock.monotonic, sleep=clock.sleep)

    for _ in range(5):
        await pacer.wait_turn()

    assert clock.slept == pytest.approx([0.25, 0.25, 0.25, 0.25])


def test_retry_after_reads_seconds_and_http_dates() -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=90), usegmt=True)

    assert retry_after_seconds({"retry-after": "7"}) == 7
    assert retry_after_seconds({"retry-after": later}, now=now) == 90
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None


@given(st.integers(min_value=1, max_value=8))
def test_full_jitter_waits_stay_inside_the_window(attempt: int) -> None:
    from tenacity import RetryCallState

    from incident_response.http import _BackoffOrRetryAfter

    policy = CallPolicy(backoff_initial=0.25, backoff_max=5.0)
    wait = _BackoffOrRetryAfter(policy)
    state = RetryCallState(retry_object=None, fn=None, args=(), kwargs={})  # type: ignore[arg-type]
    state.attempt_number = attempt

    seconds = wait(state)

    assert 0 <= seconds <= min(5.0, 0.25 * 2**attempt)


async def test_guard_does_not_count_a_refusal_against_the_vendor(outbound: OutboundHttp) -> None:
    client = outbound.vendor("sdk", base_url="", breaker=BreakerPolicy(failures=1))

    async def refused() -> str:
        raise VendorError("sdk", "converse", "ValidationException: bad model id")

    for _ in range(3):
        with pytest.raises(VendorError):
            await client.guard("converse", refused, deadline=1)

    assert outbound.breakers["sdk"].state == "closed"
