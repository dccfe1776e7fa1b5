"""`/incident-response maintenance` in Slack, outside any incident: an approver schedules planned
work and approves exactly the version shown, then the built-in status page lists it; a
non-approver is told who may. Over Socket Mode against the fake Slack (every request checked
against Slack's contract)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.fakes.slack import FakeSlack
from tests.integration.slack.test_lifecycle_through_slack import ALICE, CAROL, ROSTER, eventually
from tests.integration.slack.world import SlackWorld, socket_mode_world

TEXT = "Checkout may be slow for a few minutes."


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with socket_mode_world(
        slack, tmp_path, ROSTER + "approvers: [alice@example.com]\n"
    ) as built:
        yield built


async def test_an_approver_schedules_and_publishes_maintenance_from_slack(
    world: SlackWorld, slack: FakeSlack
) -> None:
    general = slack.add_channel("general", is_private=False, members=[ALICE, CAROL])
    start = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    window = f"{start:%Y-%m-%d %H:%M}Z {start + timedelta(hours=2):%Y-%m-%d %H:%M}Z"

    async def command(text: str, user: str) -> str:
        """The answer shown to `user` only, for `/incident-response <text>` typed in #general."""

        def mine() -> list[str]:
            return [e.text for e in slack.ephemerals[general.id] if e.user == user]

        before = len(mine())
        ack = await slack.send_slash_command(text=text, user_id=user, channel_id=general.id)
        assert ack.latency < 3

        async def answered() -> str | None:
            found = mine()
            return found[before] if len(found) > before else None

        return str(await eventually(answered))

    drafted = await command(
        f"maintenance schedule {window} Payments, Checkout: Payments database upgrade | {TEXT}",
        ALICE,
    )
    desk = world.container.maintenance
    assert desk is not None
    [maintenance] = await desk.recent(actor="alice@example.com")
    assert f"Maintenance {maintenance.id} is drafted (version 1)" in drafted
    assert f"`maintenance approve {maintenance.id} 1`" in drafted
    assert (await world.status_page.summary())["scheduled_maintenances"] == []

    refused = await command(f"maintenance approve {maintenance.id} 1", CAROL)
    assert "carol@example.com may not manage the status page's subscribers" in refused
    assert "only an approver" in refused
    assert (await world.status_page.summary())["scheduled_maintenances"] == []

    listed = await command("maintenance", CAROL)
    assert f"- {maintenance.id} 'Payments database upgrade': {start:%Y-%m-%d %H:%M} UTC" in listed
    assert "upcoming; Payments, Checkout; version 1 awaiting approval" in listed

    published = await command(f"maintenance approve {maintenance.id} 1", ALICE)
    assert f"Maintenance {maintenance.id} version 1 is published on the status page" in published
    [shown] = (await world.status_page.summary())["scheduled_maintenances"]
    assert shown["name"] == "Payments database upgrade"
    assert shown["status"] == "scheduled"
    assert shown["incident_updates"][0]["body"] == TEXT
    assert [c["name"] for c in shown["components"]] == ["Payments", "Checkout"]
