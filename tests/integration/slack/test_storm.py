"""An alert storm through Slack: 50 incidents at once, each assembled by the real
WarRoomAssembler with SlackChat against the fake's tier limits. Every room is made and fully
staffed, and no 429 goes unhandled: the pacer queues calls at the tiers' rates and waits out
any 429 the fake still sends."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapters.slack import RateTable
from incident_response.domain.alert import Alert, AlertEventKind, AlertSource, Severity, delivery_id
from incident_response.domain.clock import SystemClock
from incident_response.domain.incident import IncidentStatus
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import PEOPLE
from tests.integration.slack.world import SlackWorld, build_slack_world

INCIDENTS = 50
TEAM = ["alice", "bob", "carol", "dan", "erin"]
ROSTER = (
    "people:\n"
    "  - {name: Alice Martin, email: alice@example.com, chat_id: U0ALICE}\n"
    "  - {name: Bob Okafor, email: bob@example.com}\n"
    "  - {name: Carol Nguyen, email: carol@example.com, chat_id: U0CAROL}\n"
    "  - {name: Dan Kowalski, email: dan@example.com, chat_id: U0DAN}\n"
    "  - {name: Erin Silva, email: erin@example.com}\n"
    f"teams:\n  payments: [{', '.join(f'{p}@example.com' for p in TEAM)}]\n"
    "services:\n"
    + "".join(f"  svc{i}: payments\n" for i in range(INCIDENTS))
    + "rotations:\n  payments: {primary: alice@example.com, secondary: bob@example.com}\n"
)
STAFF = {f"U0{p.upper()}" for p in TEAM}


def alert(i: int) -> Alert:
    now = SystemClock().now()
    return Alert(
        source=AlertSource.GRAFANA_ONCALL,
        kind=AlertEventKind.FIRING,
        source_event="alert group created",
        alert_group_id=f"STORM{i:03d}",
        title=f"High error rate on svc{i}",
        labels={"service": f"svc{i}", "alertname": "HighErrorRate"},
        severity=Severity.P1,
        fired_at=now,
        received_at=now,
        delivery_id=delivery_id("storm", str(i), now.isoformat()),
    )


async def storm(world: SlackWorld) -> list[str]:
    opened = await asyncio.gather(
        *(world.opener.open_or_attach(alert(i)) for i in range(INCIDENTS))
    )
    ids = [o.incident.id for o in opened if o.incident is not None]
    assert len(ids) == INCIDENTS
    await asyncio.gather(*(world.assembler.assemble(i) for i in ids))
    return ids


@pytest.fixture
async def storm_world(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    time_scale, call_timeout = request.param
    roster_path = tmp_path / "roster.yaml"
    roster_path.write_text(ROSTER)
    async with FakeSlack(users=PEOPLE, time_scale=time_scale, latency=0.01) as slack:
        world = await build_slack_world(
            slack=slack,
            data_dir=tmp_path,
            rates=RateTable().scaled(time_scale),
            call_timeout_seconds=call_timeout,
        )
        yield world
        await world.aclose()
    assert not slack.violations, slack.violations


# A Slack minute lasts 1.2 s in the fast run; the slow run uses real minutes (about 2 minutes).
@pytest.mark.parametrize(
    "storm_world",
    [
        pytest.param((0.02, 10.0), id="scaled-minute"),
        pytest.param((1.0, 300.0), id="real-minute", marks=pytest.mark.slow),
    ],
    indirect=True,
)
async def test_fifty_incidents_at_once_all_get_staffed_rooms(storm_world: SlackWorld) -> None:
    world, slack = storm_world, storm_world.slack
    ids = await storm(world)
    incidents = [await world.store.get(i) for i in ids]
    assert all(i is not None and i.status is IncidentStatus.ASSEMBLED for i in incidents)
    degraded = {i.id: i.assembly_steps["assembled"]["degraded"] for i in incidents if i}
    assert degraded == {i: [] for i in ids}
    rooms = [i.channel.id for i in incidents if i and i.channel]
    assert len(set(rooms)) == INCIDENTS
    understaffed = [r for r in rooms if not slack.channels[r].members >= STAFF]
    assert understaffed == []
    assert all(len(slack.pins[r]) == 1 for r in rooms)
    # every 429 the fake sent was waited out and sent again by the pacer
    assert world.chat.pacer.rate_limited == slack.rate_limited
    assert len(slack.calls_to("conversations.invite")) == INCIDENTS
    looked_up = sorted(c.params["email"] for c in slack.calls_to("users.lookupByEmail"))
    assert looked_up == ["bob@example.com", "erin@example.com"]
