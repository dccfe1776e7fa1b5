"""LinearIssueTracker against the fake Linear over HTTP, on a clock the tests move by hand:
the HTTP policy's waits (backoff, Retry-After) advance it instead of sleeping, and the fake's
request budget refills by it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence

import pytest

from incident_response.adapters.linear.client import LinearGraphQL
from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.http import BreakerPolicy, CallPolicy, OutboundHttp
from tests.fakes.linear import DEFAULT_TEAM, FakeLinear, ManualClock

PROJECT = "3c2f7e1a-8b4d-4f6a-9e2c-1d5b7a9c3e10"
LABELS = ("a1b2c3d4-e5f6-4a7b-8c9d-0e1f2a3b4c5d", "b2c3d4e5-f6a7-4b8c-9d0e-1f2a3b4c5d6e")
USERS = [
    {
        "id": "0f6f7a7e-9c1b-4a51-8b8e-1f5f1d8c9a01",
        "name": "Alice Martin",
        "email": "alice@example.com",
    },
    {
        "id": "7d3c2b1a-5e4f-4a3b-9c2d-8e7f6a5b4c02",
        "name": "Bob Okafor",
        "email": "bob@example.com",
    },
]
TEAM_ID = DEFAULT_TEAM["id"]
# short per-attempt timeouts keep the timeout tests quick; waits between attempts are on `ticks`
POLICY = CallPolicy(timeout=0.3, attempts=3)

Connect = Callable[..., LinearIssueTracker]


@pytest.fixture
def ticks() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def linear(ticks: ManualClock) -> AsyncIterator[FakeLinear]:
    async with FakeLinear(users=USERS, projects=[PROJECT], labels=LABELS, clock=ticks) as fake:
        yield fake
    # every request any test sent was one Linear's schema accepts
    assert not fake.violations, fake.violations


@pytest.fixture
async def http(ticks: ManualClock) -> AsyncIterator[OutboundHttp]:
    outbound = OutboundHttp(sleep=ticks.sleep, monotonic=ticks)
    yield outbound
    await outbound.aclose()


@pytest.fixture
def connect(linear: FakeLinear, http: OutboundHttp) -> Connect:
    """A tracker as the factory builds one, with what a test changes (another process is
    another call: its own per-key locks, the same Linear)."""

    def tracker(
        *,
        api_key: str | None = None,
        team_id: str = TEAM_ID,
        project_id: str | None = None,
        label_ids: Sequence[str] = (),
        breaker: BreakerPolicy | None = None,
    ) -> LinearIssueTracker:
        client = http.vendor(
            "linear",
            base_url=linear.api_url,
            headers={"Authorization": linear.api_key if api_key is None else api_key},
            policy=POLICY,
            breaker=breaker,
        )
        return LinearIssueTracker(
            LinearGraphQL(client), team_id=team_id, project_id=project_id, label_ids=label_ids
        )

    return tracker


@pytest.fixture
def tracker(connect: Connect) -> LinearIssueTracker:
    return connect()
