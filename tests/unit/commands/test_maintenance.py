"""`maintenance`: scheduled maintenance from any command box, through the same desk and gate as
the console and the API: approvers schedule and approve exactly the version they read."""

from __future__ import annotations

import pytest

from incident_response.domain.maintenance import Maintenance
from incident_response.services.maintenance import MaintenanceDesk
from tests.unit.commands.test_authority_matrix import make_dan_an_approver
from tests.unit.commands.world import World

APPROVER = "dan@example.com"
SCHEDULE = (
    "maintenance schedule 2026-12-05 02:00Z 04:00Z Payments, Checkout: "
    "Payments database upgrade | Checkout may be slow for a few minutes."
)
TEXT = "Checkout may be slow for a few minutes."


def desk(world: World) -> MaintenanceDesk:
    found = world.container.maintenance
    assert found is not None
    return found


async def stored(world: World) -> list[Maintenance]:
    return await desk(world).recent(actor=APPROVER)


async def test_an_approver_schedules_a_maintenance_outside_any_incident(world: World) -> None:
    await make_dan_an_approver(world)

    reply = await world.command(SCHEDULE, actor=APPROVER, incident_id=None)

    assert reply.ok, reply.text
    [made] = await stored(world)
    [draft] = made.drafts
    assert draft.title == "Payments database upgrade"
    assert draft.body == TEXT
    assert draft.component_names == ("Payments", "Checkout")
    assert (draft.scheduled_for.isoformat(), draft.scheduled_until.isoformat()) == (  # type: ignore[union-attr]
        "2026-12-05T02:00:00+00:00",
        "2026-12-05T04:00:00+00:00",
    )
    assert f"Maintenance {made.id} is drafted (version 1)" in reply.text
    assert "nothing is public until an approver approves it" in reply.text
    assert f"`maintenance approve {made.id} 1`" in reply.text
    assert reply.data["maintenance"]["id"] == made.id
    assert await world.status_page.maintenances() == []  # drafted, not published


@pytest.mark.parametrize(
    ("when", "start", "end"),
    [
        ("2026-12-05T02:00:00Z 2026-12-05T04:00:00Z", "02:00", "04:00"),
        ("2026-12-05 02:00 UTC 2026-12-06 01:30 UTC", "02:00", "01:30"),
        ("2026-12-05 3:00+01:00 2026-12-05 05:00+0100", "02:00", "04:00"),
    ],
)
async def test_times_may_be_written_as_people_write_them(
    world: World, when: str, start: str, end: str
) -> None:
    await make_dan_an_approver(world)

    reply = await world.command(
        f"maintenance schedule {when} Payments: {TEXT}", actor=APPROVER, incident_id=None
    )

    assert reply.ok, reply.text
    [made] = await stored(world)
    draft = made.drafts[0]
    assert draft.scheduled_for is not None
    assert draft.scheduled_until is not None
    assert (f"{draft.scheduled_for:%H:%M}", f"{draft.scheduled_until:%H:%M}") == (start, end)
    assert draft.title == "Scheduled maintenance: Payments"  # no `name |`: named for them


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("maintenance schedule", "say when, which components and what customers will read"),
        ("maintenance schedule tomorrow 04:00Z Payments: x", "`tomorrow` is not a start time"),
        ("maintenance schedule 2026-12-05 02:00Z Payments: x", "`Payments:` is not an end time"),
        ("maintenance schedule 2026-12-05 02:00 04:00 Payments: x", "has no time zone"),
        ("maintenance schedule 2026-12-05 02:00Z 25:00Z Payments: x", "`25:00Z` is not a real"),
        ("maintenance schedule 2026-12-05 02:00Z 04:00Z Payments x", "then a colon and the text"),
        ("maintenance schedule 2026-12-05 02:00Z 04:00Z : x", "name at least one status-page"),
        ("maintenance schedule 2026-12-05 02:00Z 04:00Z Payments:  ", "say what customers"),
        ("maintenance schedule 2026-12-05 04:00Z 02:00Z Payments: x", "must end after it starts"),
        ("maintenance schedule 2026-11-20 02:00Z 04:00Z Payments: x", "already over"),
        ("maintenance schedule 2026-12-05 02:00Z 04:00Z Payments: | x", "name is empty"),
        ("maintenance reschedule", "`maintenance reschedule` is not something maintenance does"),
    ],
)
async def test_bad_input_is_named_and_nothing_is_stored(world: World, text: str, says: str) -> None:
    await make_dan_an_approver(world)

    reply = await world.command(text, actor=APPROVER, incident_id=None)

    assert not reply.ok
    assert says in reply.text, reply.text
    assert "Usage: `maintenance [schedule <start> <end> <components>:" in reply.text
    assert await stored(world) == []


@pytest.mark.parametrize("who", ["alice@example.com", "carol@example.com"])
async def test_only_an_approver_schedules_or_approves(world: World, who: str) -> None:
    await world.open_incident()  # alice is its IC: still no approver of the page
    await make_dan_an_approver(world)
    made = await world.command(SCHEDULE, actor=APPROVER, incident_id=None)
    maintenance_id = made.data["maintenance"]["id"]

    for text in (SCHEDULE, f"maintenance approve {maintenance_id} 1"):
        reply = await world.command(text, actor=who)
        assert not reply.ok
        assert reply.data["not_permitted"] is True
        assert f"{who} may not manage the status page's subscribers and scheduled maintenance" in (
            reply.text
        )
        assert "only an approver (INCIDENT_RESPONSE_APPROVERS or the roster's approvers)" in (
            reply.text
        )
    assert len(await stored(world)) == 1
    assert await world.status_page.maintenances() == []


async def test_approve_publishes_exactly_the_version_named(world: World) -> None:
    await make_dan_an_approver(world)
    made = await world.command(SCHEDULE, actor=APPROVER, incident_id=None)
    maintenance_id, draft_id = made.data["maintenance"]["id"], made.data["maintenance"]["draft_id"]
    await desk(world).edit(
        maintenance_id,
        draft_id,
        actor=APPROVER,
        expected_version=1,
        title="Payments database upgrade (v15)",
        body=TEXT,
        scheduled_for="2026-12-05T02:00:00Z",
        scheduled_until="2026-12-05T04:00:00Z",
        components=["Payments"],
    )

    stale = await world.command(f"maintenance approve {maintenance_id} 1", actor=APPROVER)
    unread = await world.command(f"maintenance approve {maintenance_id}", actor=APPROVER)

    assert not stale.ok
    assert (
        f"draft {draft_id} is at version 2, not 1: it changed since you read it; "
        "review the current text"
    ) in stale.text  # the API's 409 text
    assert not unread.ok
    assert "Payments database upgrade (v15)" in unread.text
    assert f"To publish exactly this: `maintenance approve {maintenance_id} 2`" in unread.text
    assert "Nothing was published" in unread.text
    assert await world.status_page.maintenances() == []

    done = await world.command(f"maintenance approve {maintenance_id} 2", actor=APPROVER)

    assert done.ok, done.text
    assert f"Maintenance {maintenance_id} version 2 is published on the status page" in done.text
    [public] = await world.status_page.maintenances()
    assert public["name"] == "Payments database upgrade (v15)"
    assert public["incident_updates"][0]["body"] == TEXT
    again = await world.command(f"maintenance approve {maintenance_id} 2", actor=APPROVER)
    assert again.ok, again.text
    assert len(await world.status_page.maintenances()) == 1  # published once


async def test_approve_names_an_unknown_maintenance_and_a_bad_version(world: World) -> None:
    await make_dan_an_approver(world)
    for text, says in [
        ("maintenance approve mnt_nothere 1", "there is no maintenance mnt_nothere"),
        ("maintenance approve mnt_nothere two", "The version is a whole number, not `two`"),
        ("maintenance approve", "Say which maintenance and the version you read"),
    ]:
        reply = await world.command(text, actor=APPROVER, incident_id=None)
        assert not reply.ok
        assert says in reply.text


async def test_the_list_shows_upcoming_and_in_progress_maintenance(world: World) -> None:
    await make_dan_an_approver(world)
    empty = await world.command("maintenance", actor="carol@example.com", incident_id=None)
    assert empty.ok
    assert "No maintenance is upcoming or in progress" in empty.text
    later = await world.command(SCHEDULE, actor=APPROVER, incident_id=None)
    soon = await world.command(
        "maintenance schedule 2026-11-26 10:00Z 2026-11-26 11:00Z Search: Search reindex",
        actor=APPROVER,
        incident_id=None,
    )
    soon_id = soon.data["maintenance"]["id"]
    await world.command(f"maintenance approve {soon_id} 1", actor=APPROVER)
    world.clock.advance(hours=1)  # the search window (10:00-11:00 UTC) is under way

    reply = await world.command("maintenance", actor="carol@example.com")

    assert reply.ok, reply.text
    lines = reply.text.splitlines()
    assert lines[0] == "Scheduled maintenance (upcoming and in progress):"
    assert lines[1] == (
        f"- {soon_id} 'Scheduled maintenance: Search': 2026-11-26 10:00 UTC to "
        "2026-11-26 11:00 UTC, in progress; Search; version 1 published"
    )
    later_id = later.data["maintenance"]["id"]
    assert lines[2] == (
        f"- {later_id} 'Payments database upgrade': 2026-12-05 02:00 UTC to 2026-12-05 04:00 UTC, "
        f"upcoming; Payments, Checkout; version 1 awaiting approval "
        f"(`maintenance approve {later_id} 1`)"
    )
    assert [m["id"] for m in reply.data["maintenances"]] == [soon_id, later_id]
    world.clock.advance(hours=2)  # the search window is over: no longer listed
    after = await world.command("maintenance", actor="carol@example.com")
    assert soon_id not in after.text
    assert later_id in after.text
