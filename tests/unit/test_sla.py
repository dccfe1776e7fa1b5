"""The SlaMonitor: one-shot checks that customers heard from us in time."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.messages import EventType
from tests.support.clock import ManualClock
from tests.unit.test_war_room import World, build_world

A = AuditEventType


@pytest.fixture
async def world(db: Database, clock: ManualClock, tmp_path: Path) -> World:
    return await build_world(db, clock, tmp_path / "roster.yaml")


async def assembled(world: World, severity: Severity = Severity.P1) -> Incident:
    opened = await world.open_incident(severity=severity)
    return await world.assembler.assemble(opened.id)


async def publish_at(world: World, incident: Incident, minutes: float) -> None:
    await world.audit.append(
        AuditEvent(
            incident_id=incident.id,
            type=A.STATUSPAGE_PUBLISHED,
            key="published:0",
            at=incident.created_at + timedelta(minutes=minutes),
            actor="alice@example.com",
        )
    )


async def breach_messages(world: World, incident: Incident) -> list[str]:
    return [m.text for m in await world.messages(incident.id) if ":sla:" in (m.key or "")]


@pytest.mark.parametrize(
    ("severity", "marks"),
    [(Severity.P1, [15, 30]), (Severity.P2, [30, 60]), (Severity.P3, [60]), (Severity.P4, [])],
)
async def test_marks_are_one_shot_timers_from_the_opening(
    world: World, severity: Severity, marks: list[int]
) -> None:
    incident = await assembled(world, severity)

    schedules = await world.scheduler.schedules(f"sla.{incident.id}.")

    assert [s.name for s in schedules] == sorted(f"sla.{incident.id}.{m}" for m in marks)
    for schedule in schedules:
        minutes = schedule.message.payload["mark_minutes"]
        assert schedule.once
        assert schedule.message.type == EventType.SLA_CHECK
        assert schedule.message.payload["incident_id"] == incident.id
        assert schedule.next_fire_at == incident.created_at + timedelta(minutes=minutes)


async def test_no_update_by_the_deadline_is_a_breach(world: World) -> None:
    incident = await assembled(world)
    world.clock.advance(minutes=15)

    assert await world.sla.check(incident.id, 15)

    [text] = await breach_messages(world, incident)
    assert "SLA breached" in text
    assert "Alice Martin, please publish an update." in text  # the console names the IC
    [dm] = await world.console.direct_messages("UBOB")
    assert "no status page update 15 min" in dm.text
    [breach] = await world.records(incident.id, A.SLA_BREACHED)
    assert breach.data["mark_minutes"] == 15
    assert breach.data["notified"] == "bob@example.com"


async def test_a_breach_is_reported_once_per_mark(world: World) -> None:
    incident = await assembled(world)
    world.clock.advance(minutes=15)
    await world.sla.check(incident.id, 15)

    assert await world.sla.check(incident.id, 15)

    assert len(await breach_messages(world, incident)) == 1
    assert len(await world.console.direct_messages("UBOB")) == 1
    assert len(await world.records(incident.id, A.SLA_BREACHED)) == 1

    world.clock.advance(minutes=15)
    assert await world.sla.check(incident.id, 30)
    assert len(await world.records(incident.id, A.SLA_BREACHED)) == 2


async def test_an_update_in_time_is_no_breach(world: World) -> None:
    incident = await assembled(world)
    await publish_at(world, incident, 10)
    world.clock.advance(minutes=15)

    assert not await world.sla.check(incident.id, 15)

    assert await breach_messages(world, incident) == []
    assert await world.console.direct_messages("UBOB") == []
    assert await world.records(incident.id, A.SLA_BREACHED) == []


async def test_a_late_update_ends_the_alarms(world: World) -> None:
    incident = await assembled(world)
    world.clock.advance(minutes=15)
    assert await world.sla.check(incident.id, 15)
    await publish_at(world, incident, 20)
    world.clock.advance(minutes=15)

    assert not await world.sla.check(incident.id, 30)

    assert len(await world.records(incident.id, A.SLA_BREACHED)) == 1


async def test_a_resolved_incident_is_never_in_breach(world: World) -> None:
    incident = await assembled(world)
    current = await world.incident(incident.id)
    await world.store.save(current.transition(IncidentStatus.RESOLVED, at=world.clock.now()))
    world.clock.advance(minutes=15)

    assert not await world.sla.check(incident.id, 15)
    assert await world.records(incident.id, A.SLA_BREACHED) == []


async def test_delete_removes_the_remaining_marks(world: World) -> None:
    incident = await assembled(world)
    other = await assembled(world)

    await world.sla.delete(incident.id)

    assert await world.scheduler.schedules(f"sla.{incident.id}.") == []
    assert len(await world.scheduler.schedules(f"sla.{other.id}.")) == 2
