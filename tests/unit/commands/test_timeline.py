"""`timeline`: the incident's story in UTC; `timeline --audit`: the audit log, readable."""

from __future__ import annotations

from incident_response.domain.audit import AuditEventType
from tests.unit.commands.world import World


async def test_timeline_tells_the_story_in_words_without_bookkeeping(world: World) -> None:
    await world.open_incident()
    world.clock.advance(minutes=3)
    await world.command("note rolled back checkout 1.2.3", actor="bob@example.com")
    await world.command("checklist done 2", actor="bob@example.com")
    await world.command("timeline --audit")

    reply = await world.command("timeline")

    assert reply.ok
    assert reply.text.splitlines() == [
        "Timeline of inc-0001 (2 moments, times in UTC):",
        "2026-11-26 09:00:00 UTC  Opened  (system)",
        "2026-11-26 09:03:00 UTC  rolled back checkout 1.2.3  (Bob Okafor)",
        "(`timeline --audit` lists the audit log itself.)",
    ]
    assert reply.data["entries"][1] == {
        "at": "2026-11-26T09:03:00Z",
        "who": "bob@example.com",
        "kind": "note",
        "text": "rolled back checkout 1.2.3",
    }


async def test_timeline_audit_lists_audit_events_with_utc_times(world: World) -> None:
    await world.open_incident()
    world.clock.advance(minutes=7, seconds=30)
    await world.command("checklist done 2", actor="bob@example.com")

    reply = await world.command("timeline --audit")

    lines = reply.text.splitlines()
    assert reply.ok
    assert lines[0] == "Audit log of inc-0001 (5 events, times in UTC):"
    assert lines[1] == "2026-11-26 09:00:00 UTC  Incident opened  by system"
    assert lines[2] == "2026-11-26 09:00:00 UTC  War room created  by system"
    assert lines[3].startswith(
        "2026-11-26 09:07:30 UTC  Slash command received  by bob@example.com"
    )
    assert "/incident-response checklist done 2" in lines[3]
    assert lines[4].startswith(
        "2026-11-26 09:07:30 UTC  Checklist item updated  by bob@example.com"
    )
    assert "ticked 2. Assess customer impact" in lines[4]
    assert [e["type"] for e in reply.data["events"]] == [
        "INCIDENT_OPENED",
        "WAR_ROOM_CREATED",
        "SLASH_COMMAND_RECEIVED",
        "CHECKLIST_ITEM_UPDATED",
        "SLASH_COMMAND_RECEIVED",  # this very command
    ]


async def test_timeline_n_shows_the_last_n_events(world: World) -> None:
    await world.open_incident()

    reply = await world.command("timeline 2 --audit")

    lines = reply.text.splitlines()
    assert "the last 2" in lines[0]
    assert len(lines) == 3
    assert "Slash command received" in lines[-1]  # this very command, audited first
    assert reply.data["total"] == 3


async def test_timeline_refuses_a_bad_count(world: World) -> None:
    await world.open_incident()

    reply = await world.command("timeline lots")

    assert not reply.ok
    assert len(await world.records(AuditEventType.SLASH_COMMAND_RECEIVED)) == 1
