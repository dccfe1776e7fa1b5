"""`silence` / `unsilence`: the reminder schedule is disabled, kept, and resumed."""

from __future__ import annotations

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from incident_response.services.nudges import schedule_name
from tests.unit.commands.world import World

A = AuditEventType


async def test_silence_stops_reminders_and_unsilence_resumes_them(world: World) -> None:
    await world.open_incident()

    silenced = await world.command("silence")

    assert silenced.ok
    assert "silenced" in silenced.text
    assert (await world.incident()).nudges_silenced
    schedule = await world.scheduler.get(schedule_name("inc-0001"))
    assert schedule is not None
    assert not schedule.enabled
    [record] = await world.records(A.STATUS_REMINDER_SILENCED)
    assert record.actor == "alice@example.com"

    resumed = await world.command("unsilence", actor="bob@example.com")

    assert resumed.ok
    assert "on again" in resumed.text
    assert not (await world.incident()).nudges_silenced
    schedule = await world.scheduler.get(schedule_name("inc-0001"))
    assert schedule is not None
    assert schedule.enabled
    [record] = await world.records(A.STATUS_REMINDER_UNSILENCED)
    assert record.actor == "bob@example.com"


async def test_silencing_twice_says_so_and_records_once(world: World) -> None:
    await world.open_incident()

    await world.command("silence")
    again = await world.command("silence")
    not_silenced = await world.command("unsilence")
    twice = await world.command("unsilence")

    assert "already silenced" in again.text
    assert not_silenced.ok
    assert "were not silenced" in twice.text
    assert len(await world.records(A.STATUS_REMINDER_SILENCED)) == 1
    assert len(await world.records(A.STATUS_REMINDER_UNSILENCED)) == 1


async def test_silencing_a_resolved_incident_is_refused(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("silence")
    other = await world.command("unsilence")

    assert not reply.ok
    assert not other.ok
    assert "is resolved" in reply.text
    assert await world.records(A.STATUS_REMINDER_SILENCED) == []
