"""`/incident-response declare` in Slack: the command opens the Declare incident modal at once
(views.open with the command's trigger), and its submission declares an incident that assembles
like an alerted one. Every request is checked against Slack's contract by the fake Slack."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from incident_response.domain.alert import AlertSource
from incident_response.domain.incident import Incident, IncidentStatus
from tests.fakes.slack import FakeSlack
from tests.integration.slack.test_lifecycle_through_slack import eventually
from tests.integration.slack.world import SlackWorld, socket_mode_world

ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: U0ALICE}
  - {name: Bob Okafor, email: bob@example.com}
  - {name: Carol Nguyen, email: carol@example.com, chat_id: U0CAROL}
teams:
  payments: [alice@example.com, bob@example.com, carol@example.com]
services:
  checkout: payments
rotations:
  payments: {primary: bob@example.com, secondary: carol@example.com}
"""
ALICE, CAROL, DAN = "U0ALICE", "U0CAROL", "U0DAN"  # dan is in Slack, not in the roster


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with socket_mode_world(slack, tmp_path, ROSTER) as built:
        yield built


def entered(title: str, *, ic: str = ALICE) -> dict[str, dict[str, Any]]:
    return {
        "declare_title": {"title_input": title},
        "declare_severity": {"severity_input": "P1"},
        "declare_service": {"service_input": "checkout"},
        "declare_summary": {"summary_input": "Latency doubled at 09:10 UTC."},
        "declare_ic": {"ic_input": ic},
    }


async def test_the_command_opens_the_modal_and_its_submission_declares_an_assembled_incident(
    world: SlackWorld, slack: FakeSlack
) -> None:
    general = slack.add_channel("general", is_private=False, members=[ALICE, CAROL])
    ack = await slack.send_slash_command(
        text="declare P1 checkout: Checkout is slow", user_id=ALICE, channel_id=general.id
    )
    assert ack.latency < 3
    [opened] = slack.views
    assert opened.view["callback_id"] == "incident.declare"
    blocks = {b["block_id"]: b["element"] for b in opened.view["blocks"]}
    # what was typed after `declare` is filled in
    assert blocks["declare_title"]["initial_value"] == "Checkout is slow"
    assert blocks["declare_service"]["initial_value"] == "checkout"
    assert blocks["declare_severity"]["initial_option"]["value"] == "P1"
    assert blocks["declare_ic"]["initial_user"] == ALICE  # the IC: whoever declares
    assert [o["value"] for o in blocks["declare_severity"]["options"]] == ["P1", "P2", "P3", "P4"]

    refused = await slack.send_view_submission(
        user_id=ALICE, callback_id="incident.declare", values=entered("  ")
    )
    assert refused.payload is not None
    assert refused.payload["response_action"] == "errors"
    assert "title is empty" in refused.payload["errors"]["declare_title"]
    assert await world.store.recent() == []

    await slack.send_view_submission(
        user_id=ALICE, callback_id="incident.declare", values=entered("Checkout is slow", ic=CAROL)
    )

    async def assembled() -> Incident | None:
        found = await world.store.recent(statuses=[IncidentStatus.ASSEMBLED])
        return found[0] if found else None

    incident = await eventually(assembled)
    assert incident.source is AlertSource.MANUAL
    assert incident.declared_by == "alice@example.com"
    assert incident.ic == "carol@example.com"
    assert incident.severity.value == "P1"
    assert incident.channel is not None
    room = slack.channels[incident.channel.id]
    # the declarer, the IC they chose and who is on call for checkout are in the room
    assert {ALICE, CAROL} <= room.members
    assert slack.pins[incident.channel.id], "the checklist is pinned"
    replies = [e.text for e in slack.ephemerals[general.id] if e.user == ALICE]
    assert any(f"Declared P1 incident {incident.id}" in text for text in replies)


async def test_someone_slack_knows_but_the_roster_does_not_is_told_and_nothing_opens(
    world: SlackWorld, slack: FakeSlack
) -> None:
    general = slack.add_channel("general", is_private=False, members=[DAN])
    await slack.send_slash_command(text="declare", user_id=DAN, channel_id=general.id)
    [opened] = slack.views
    assert "initial_value" not in opened.view["blocks"][0]["element"]
    await slack.send_view_submission(
        user_id=DAN, callback_id="incident.declare", values=entered("Everything is down", ic=DAN)
    )

    async def told() -> list[str]:
        return [e.text for e in slack.ephemerals[general.id] if e.user == DAN]

    [reply] = await eventually(told)
    assert "You cannot declare an incident" in reply
    assert "not in the roster" in reply
    assert await world.store.recent() == []
