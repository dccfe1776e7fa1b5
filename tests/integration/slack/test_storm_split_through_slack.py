"""Splitting an alert out of the alert storm incident from Slack: each storm line in the room
carries a Split out button; the IC's click splits the alert into an incident of its own,
assembled with its own room, and the line says where it went; anyone else's click is refused
privately, saying who may; a double click splits once. Over Socket Mode, against the fake Slack."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.services.incident_opener import is_storm
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.state import Message
from tests.integration.slack.test_lifecycle_through_slack import eventually
from tests.integration.slack.world import SlackWorld, socket_mode_world
from tests.support.payloads import oncall_payload

ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: U0ALICE}
  - {name: Bob Okafor, email: bob@example.com}
  - {name: Carol Nguyen, email: carol@example.com, chat_id: U0CAROL}
teams:
  payments: [alice@example.com, bob@example.com, carol@example.com]
services:
  checkout: payments
  search: payments
  ledger: payments
rotations:
  default: {primary: alice@example.com, secondary: bob@example.com}
"""
ALICE, CAROL = "U0ALICE", "U0CAROL"
SPLIT_OUT = "alert.split"


@dataclass
class Storm:
    world: SlackWorld
    slack: FakeSlack
    incident: Incident

    @property
    def channel(self) -> str:
        assert self.incident.channel is not None
        return self.incident.channel.id

    async def current(self) -> Incident:
        found = await self.world.store.get(self.incident.id)
        assert found is not None
        return found

    def line_of(self, title: str) -> Message:
        [line] = [
            m for m in self.slack.messages[self.channel] if f"Alert storm: {title} (" in m.text
        ]
        return line

    def buttons_of(self, message: Message) -> list[dict[str, Any]]:
        return [
            e
            for b in message.blocks or []
            for e in b.get("elements", [])
            if e.get("action_id") == SPLIT_OUT
        ]

    def ephemeral_texts(self, user: str) -> list[str]:
        return [e.text for e in self.slack.ephemerals[self.channel] if e.user == user]

    def room_texts(self) -> list[str]:
        return [m.text for m in self.slack.messages[self.channel]]

    async def split_out_of_it(self) -> list[Incident]:
        """Incidents (other than the storm) holding an alert that was in the storm."""
        found = await self.world.store.recent()
        return [i for i in found if i.previous_incident_id == self.incident.id]


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with socket_mode_world(
        slack, tmp_path, ROSTER, settings={"INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE": "1"}
    ) as built:
        yield built


async def fire(world: SlackWorld, group: str, service: str) -> None:
    body = oncall_payload(
        group=group,
        title=f"Down {service}",
        labels={"alertname": "Down", "service": service, "severity": "critical"},
    )
    await world.intake.accept("grafana-oncall", json.dumps(body).encode())


@pytest.fixture
async def storm(world: SlackWorld, slack: FakeSlack) -> Storm:
    """Three services fail within a minute over a cap of one: checkout gets its own incident,
    search and ledger go to the storm incident, whose room has a line (and a button) for each."""
    await fire(world, "ISTORM001", "checkout")
    await eventually(lambda: world.store.find_by_alert_group("grafana-oncall:ISTORM001"))

    async def storm_holding(count: int) -> Incident | None:
        found = [i for i in await world.store.recent() if is_storm(i)]
        return found[0] if found and len(found[0].alerts) == count else None

    for n, (group, service) in enumerate((("ISTORM002", "search"), ("ISTORM003", "ledger"))):
        await fire(world, group, service)
        await eventually(lambda n=n: storm_holding(n + 1))  # one after the other, in order

    async def announced() -> Incident | None:
        incident = await storm_holding(2)
        if incident is None or incident.status is not IncidentStatus.ASSEMBLED:
            return None
        assert incident.channel is not None
        lines = [m for m in slack.messages[incident.channel.id] if m.text.startswith("Alert st")]
        return incident if len(lines) == 2 else None

    return Storm(world, slack, await eventually(announced))


async def test_each_storm_line_in_the_room_has_a_split_out_button(storm: Storm) -> None:
    for alert in storm.incident.alerts:
        line = storm.line_of(alert.title)
        [button] = storm.buttons_of(line)
        assert button["text"]["text"] == "Split out"
        assert button["value"] == alert.delivery_id
        assert "confirm" in button  # Slack asks before a new war room is opened and paged


async def test_the_ics_click_splits_the_alert_into_an_assembled_incident(storm: Storm) -> None:
    slack, world = storm.slack, storm.world
    assert storm.incident.ic == "alice@example.com"
    search, ledger = storm.incident.alerts
    line = storm.line_of("Down search")

    ack = await slack.send_block_action(
        user_id=ALICE, channel_id=storm.channel, action_id=SPLIT_OUT, message_ts=line.ts
    )
    assert ack.latency < 3

    async def assembled() -> Incident | None:
        found = await world.store.find_by_alert_group(search.alert_group_key)
        ready = found is not None and found.status is IncidentStatus.ASSEMBLED
        return found if ready and found.id != storm.incident.id else None

    new = await eventually(assembled)
    assert (new.title, new.service) == ("Down search", "search")
    assert new.channel is not None
    assert new.channel.id != storm.channel
    assert ALICE in slack.channels[new.channel.id].members  # staffed, in a room of its own
    left = await storm.current()
    assert [a.delivery_id for a in left.alerts] == [ledger.delivery_id]
    [record] = await world.audit.find(storm.incident.id, AuditEventType.ALERT_SPLIT)
    assert (record.data["to"], record.actor) == (new.id, "alice@example.com")

    said = f"Split 'Down search' out into incident {new.id}"
    await eventually(lambda: _async(any(t.startswith(said) for t in storm.room_texts())))
    settled = storm.line_of("Down search")
    assert f"was split out into incident {new.id}" in settled.text
    assert storm.buttons_of(settled) == []  # nothing left to press on that line
    assert storm.buttons_of(storm.line_of("Down ledger"))  # the other alert's still there


async def test_someone_who_is_not_the_ic_is_told_privately_who_may(storm: Storm) -> None:
    slack = storm.slack
    line = storm.line_of("Down search")

    await slack.send_block_action(
        user_id=CAROL, channel_id=storm.channel, action_id=SPLIT_OUT, message_ts=line.ts
    )

    [refusal] = await eventually(
        lambda: _async([t for t in storm.ephemeral_texts(CAROL) if "may not" in t])
    )
    assert "carol@example.com may not split an alert out into its own incident" in refusal
    assert "only the incident commander (alice@example.com) or an approver can" in refusal
    current = await storm.current()
    assert len(current.alerts) == 2
    assert await storm.split_out_of_it() == []
    assert await storm.world.audit.find(storm.incident.id, AuditEventType.ALERT_SPLIT) == []
    assert storm.buttons_of(storm.line_of("Down search"))  # still there for the IC
    assert not any(t.startswith("Split ") for t in storm.room_texts())


async def test_a_double_click_splits_once(storm: Storm) -> None:
    slack, world = storm.slack, storm.world
    line = storm.line_of("Down search")
    # both clicks leave the browser before the first one's work is done
    clicks = [
        slack.block_action_payload(
            user_id=ALICE, channel_id=storm.channel, action_id=SPLIT_OUT, message_ts=line.ts
        )
        for _ in range(2)
    ]
    for click in clicks:
        await slack.hub.deliver("interactive", click, accepts_response_payload=False)

    [already] = await eventually(
        lambda: _async([t for t in storm.ephemeral_texts(ALICE) if "split out already" in t])
    )
    [new] = await storm.split_out_of_it()
    assert f"into incident {new.id}" in already
    assert new.status is IncidentStatus.ASSEMBLED
    assert len(await world.audit.find(storm.incident.id, AuditEventType.ALERT_SPLIT)) == 1
    assert len(await world.audit.find(new.id, AuditEventType.INCIDENT_OPENED)) == 1
    told = [t for t in storm.room_texts() if t.startswith("Split 'Down search' out")]
    assert len(told) == 1  # the room hears of it once
    assert len((await storm.current()).alerts) == 1


async def _async(value: Any) -> Any:
    return value
