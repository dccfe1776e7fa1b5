"""`/incident-response insights` in Slack: the weekly figures come back to the person who asked,
in the room, over Socket Mode against the fake Slack (every request checked against Slack's
contract)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.domain.incident import Incident, IncidentStatus
from tests.fakes.slack import FakeSlack
from tests.integration.slack.test_lifecycle_through_slack import CAROL, ROSTER, eventually
from tests.integration.slack.world import SlackWorld, socket_mode_world
from tests.support.payloads import oncall_payload


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with socket_mode_world(slack, tmp_path, ROSTER) as built:
        yield built


async def test_insights_answer_the_person_who_asked(world: SlackWorld, slack: FakeSlack) -> None:
    body = oncall_payload(
        group="ISLACKINSIGHTS",
        title="HighErrorRate checkout",
        labels={"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
    )
    await world.intake.accept("grafana-oncall", json.dumps(body).encode())

    async def assembled() -> Incident | None:
        found = await world.store.recent(statuses=[IncidentStatus.ASSEMBLED])
        return found[0] if found else None

    incident = await eventually(assembled)
    assert incident.channel is not None
    room = incident.channel.id

    ack = await slack.send_slash_command(
        text="insights weeks 2 service checkout", user_id=CAROL, channel_id=room
    )
    assert ack.latency < 3

    async def answered() -> list[str]:
        return [e.text for e in slack.ephemerals[room] if e.user == CAROL and "Insights" in e.text]

    [reply] = await eventually(answered)
    first = reply.splitlines()[0]
    assert "(checkout): 1 incident, 1 still open; MTTA " in first
    assert "MTTR no data" in first  # still open: counted, not in MTTR
    assert "checkout 1" in reply.splitlines()[1]
