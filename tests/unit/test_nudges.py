"""The NudgeScheduler: reminders to the IC, suppression after a publish, silence, escalation."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.messages import EventType
from incident_response.services.nudges import NudgeOutcome, NudgeScheduler
from tests.support.clock import ManualClock
from tests.unit.test_war_room import World, build_world

A = AuditEventType
INTERVAL = 900


@pytest.fixture
async def world(db: Database, clock: ManualClock, tmp_path: Path) -> World:
    return await build_world(db, clock, tmp_path / "roster.yaml", escalate_after=3)


@pytest.fixture
async def incident(world: World) -> Incident:
    opened = await world.open_incident()
    return await world.assembler.assemble(opened.id)


async def reminders(world: World, incident: Incident) -> list[str]:
    return [m.text for m in await world.messages(incident.id) if ":nudge:" in (m.key or "")]


async def publish(world: World, incident: Incident) -> None:
    """What the StatusUpdateGate records when an approved update goes out."""
    n = len(await world.records(incident.id, A.STATUSPAGE_PUBLISHED))
    await world.audit.append(
        AuditEvent(
            incident_id=incident.id,
            type=A.STATUSPAGE_PUBLISHED,
            key=f"published:{n}",
            at=world.clock.now(),
            actor="alice@example.com",
        )
    )


async def nudge_after(world: World, incident: Incident, minutes: float) -> NudgeOutcome:
    world.clock.advance(minutes=minutes)
    return await world.nudges.nudge(incident.id)


async def test_schedule_is_one_recurring_timer_per_incident(
    world: World, incident: Incident
) -> None:
    schedule = await world.scheduler.get(f"nudge.{incident.id}")

    assert schedule is not None
    assert schedule.every_seconds == INTERVAL
    assert schedule.group_id == incident.id
    assert schedule.message.type == EventType.STATUS_UPDATE_NUDGE
    assert schedule.message.payload == {"incident_id": incident.id}
    assert not schedule.once


async def test_reminds_the_ic_in_the_room(world: World, incident: Incident) -> None:
    outcome = await nudge_after(world, incident, 15)

    assert outcome is NudgeOutcome.SENT
    [message] = [m for m in await world.messages(incident.id) if ":nudge:" in (m.key or "")]
    assert message.text.startswith("Alice Martin reminder: ")  # the console names the IC
    assert "no status page update yet" in message.text
    assert [(b.action, b.label) for b in message.buttons] == [
        ("draft.create", "Draft a status update")
    ]
    sent = await world.records(incident.id, A.STATUS_REMINDER_SENT)
    assert [r.data["unanswered"] for r in sent] == [1]
    assert await world.nudges.unanswered(incident.id) == 1


async def test_a_redelivered_nudge_reminds_once(world: World, incident: Incident) -> None:
    await nudge_after(world, incident, 15)

    again = await nudge_after(world, incident, 1)

    assert again is NudgeOutcome.SENT
    assert len(await reminders(world, incident)) == 1
    assert len(await world.records(incident.id, A.STATUS_REMINDER_SENT)) == 1


async def test_a_recent_publish_suppresses_the_reminder(world: World, incident: Incident) -> None:
    world.clock.advance(minutes=20)
    await publish(world, incident)

    outcome = await nudge_after(world, incident, 10)

    assert outcome is NudgeOutcome.SUPPRESSED
    assert await reminders(world, incident) == []
    assert len(await world.records(incident.id, A.STATUS_REMINDER_SUPPRESSED)) == 1
    assert await world.records(incident.id, A.STATUS_REMINDER_SENT) == []


async def test_an_old_publish_does_not_suppress(world: World, incident: Incident) -> None:
    world.clock.advance(minutes=5)
    await publish(world, incident)

    outcome = await nudge_after(world, incident, 16)

    assert outcome is NudgeOutcome.SENT
    [text] = await reminders(world, incident)
    assert "last status page update was 16 min ago" in text


async def test_escalates_to_the_secondary_after_unanswered_reminders(
    world: World, incident: Incident
) -> None:
    outcomes = [await nudge_after(world, incident, 15) for _ in range(4)]

    assert outcomes == [
        NudgeOutcome.SENT,
        NudgeOutcome.SENT,
        NudgeOutcome.ESCALATED,
        NudgeOutcome.SENT,
    ]
    [dm] = await world.console.direct_messages("UBOB")
    assert "3 reminders" in dm.text
    assert await world.console.direct_messages("UALICE") == []
    room = [m.text for m in await world.messages(incident.id) if "escalated" in (m.key or "")]
    assert room == ["3 status reminders went unanswered: escalated to bob@example.com."]
    escalated = await world.records(incident.id, A.STATUS_REMINDER_ESCALATED)
    assert [(r.data["unanswered"], r.data["notified"]) for r in escalated] == [
        (3, "bob@example.com")
    ]


async def test_a_publish_starts_a_new_streak(world: World, incident: Incident) -> None:
    for _ in range(3):
        await nudge_after(world, incident, 15)
    await publish(world, incident)
    assert await world.nudges.unanswered(incident.id) == 0

    outcomes = [await nudge_after(world, incident, 15) for _ in range(3)]

    assert outcomes == [NudgeOutcome.SENT, NudgeOutcome.SENT, NudgeOutcome.ESCALATED]
    assert len(await world.records(incident.id, A.STATUS_REMINDER_ESCALATED)) == 2
    assert len(await world.console.direct_messages("UBOB")) == 2


async def test_silence_keeps_the_schedule_but_stops_reminders(
    world: World, incident: Incident
) -> None:
    assert await world.nudges.silence(incident.id, actor="alice@example.com")

    schedule = await world.scheduler.get(f"nudge.{incident.id}")
    assert schedule is not None
    assert not schedule.enabled
    assert (await world.incident(incident.id)).nudges_silenced
    assert await nudge_after(world, incident, 15) is NudgeOutcome.SILENCED
    assert await reminders(world, incident) == []
    [silenced] = await world.records(incident.id, A.STATUS_REMINDER_SILENCED)
    assert silenced.actor == "alice@example.com"

    assert not await world.nudges.silence(incident.id, actor="alice@example.com")
    assert len(await world.records(incident.id, A.STATUS_REMINDER_SILENCED)) == 1


async def test_unsilence_resumes_reminders(world: World, incident: Incident) -> None:
    await world.nudges.silence(incident.id, actor="alice@example.com")

    assert await world.nudges.unsilence(incident.id, actor="bob@example.com")

    schedule = await world.scheduler.get(f"nudge.{incident.id}")
    assert schedule is not None
    assert schedule.enabled
    assert not (await world.incident(incident.id)).nudges_silenced
    assert await nudge_after(world, incident, 15) is NudgeOutcome.SENT
    [unsilenced] = await world.records(incident.id, A.STATUS_REMINDER_UNSILENCED)
    assert unsilenced.actor == "bob@example.com"
    assert not await world.nudges.unsilence(incident.id, actor="bob@example.com")

    await world.nudges.silence(incident.id, actor="alice@example.com")
    assert len(await world.records(incident.id, A.STATUS_REMINDER_SILENCED)) == 2


async def test_scheduling_again_keeps_a_silenced_schedule(world: World, incident: Incident) -> None:
    await world.nudges.silence(incident.id, actor="alice@example.com")

    await world.nudges.schedule(await world.incident(incident.id))

    schedule = await world.scheduler.get(f"nudge.{incident.id}")
    assert schedule is not None
    assert not schedule.enabled


async def test_delete_removes_the_schedule(world: World, incident: Incident) -> None:
    await world.nudges.delete(incident.id)
    await world.nudges.delete(incident.id)

    assert await world.scheduler.get(f"nudge.{incident.id}") is None


async def test_no_reminders_once_resolved(world: World, incident: Incident) -> None:
    current = await world.incident(incident.id)
    await world.store.save(current.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    assert await nudge_after(world, incident, 15) is NudgeOutcome.CLOSED
    assert await reminders(world, incident) == []


async def test_silencing_an_unknown_incident_is_a_clear_error(world: World) -> None:
    with pytest.raises(NotFound, match="inc-nope"):
        await world.nudges.silence("inc-nope", actor="alice@example.com")


def test_settings_are_checked(world: World) -> None:
    with pytest.raises(ValueError, match="escalate_after"):
        NudgeScheduler(
            store=world.store,
            audit=world.audit,
            chat=world.chat,
            scheduler=world.scheduler,
            oncall=world.oncall,
            clock=world.clock,
            escalate_after=0,
        )
