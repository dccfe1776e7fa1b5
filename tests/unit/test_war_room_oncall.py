"""The war room and the on-call system: the responders step asks about the incident's own
alert group (a Grafana OnCall incident's, nobody else's) and shows where the answer came from,
and the alert group is acknowledged once the room is assembled, only when that is switched on,
once, and without a failure there ever undoing the room."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import structlog

from incident_response.adapters.embedded.db import Database
from incident_response.domain.alert import AlertSource
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.people import OnCallShift
from incident_response.http import VendorError
from incident_response.services.nudges import escalation_contact
from incident_response.services.war_room import ACKNOWLEDGE_KEY
from tests.support.clock import ManualClock
from tests.unit.test_war_room import World, Wrapper, build_world
from tests.unit.test_war_room import settled as settled  # the fixture, for this module too

A = AuditEventType


class RecordingOnCall(Wrapper):
    """The roster's OnCall, recording what it is asked; `acknowledge` answers or fails as told."""

    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.asked: list[str | None] = []
        self.acknowledged: list[str] = []
        self.fail_with: Exception | None = None
        self.note = ""

    async def shift(
        self, service: str, *, at: datetime, alert_group_id: str | None = None
    ) -> OnCallShift:
        self.asked.append(alert_group_id)
        shift: OnCallShift = await self.inner.shift(service, at=at)
        return shift.model_copy(update={"note": self.note})

    async def acknowledge(self, alert_group_id: str) -> bool:
        self.acknowledged.append(alert_group_id)
        if self.fail_with is not None:
            raise self.fail_with
        return True


async def world_with(
    db: Database, clock: ManualClock, tmp_path: Path, *, acknowledge: bool
) -> tuple[World, RecordingOnCall]:
    made: list[RecordingOnCall] = []

    def oncall(inner: Any) -> RecordingOnCall:
        made.append(RecordingOnCall(inner))
        return made[0]

    w = await build_world(
        db, clock, tmp_path / "roster.yaml", oncall=oncall, acknowledge_alert_groups=acknowledge
    )
    return w, made[0]


async def from_alertmanager(w: World) -> Incident:
    incident = await w.open_incident()
    changed = incident.update(source=AlertSource.ALERTMANAGER, alert_group_id="{}:{alertname=x}")
    saved: Incident = await w.store.save(changed)
    return saved


async def acknowledgements(w: World, incident_id: str) -> list[Any]:
    return [r for r in await w.records(incident_id) if r.key == ACKNOWLEDGE_KEY]


async def test_the_alert_group_is_acknowledged_once_the_room_is_assembled(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=True)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert oncall.acknowledged == ["G-checkout"]
    records = await w.records(incident.id)
    assembled = next(r for r in records if r.type is A.WAR_ROOM_ASSEMBLED)
    [acked] = await acknowledgements(w, incident.id)
    assert acked.type is A.ASSEMBLY_STEP_COMPLETED
    assert acked.seq > assembled.seq
    assert acked.data == {
        "step": ACKNOWLEDGE_KEY,
        "ok": True,
        "alert_group_id": "G-checkout",
        "acknowledged": True,
        "error": None,
    }


async def test_assembling_again_does_not_acknowledge_again(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=True)
    incident = await w.open_incident()
    await w.assembler.assemble(incident.id)

    await w.assembler.assemble(incident.id)

    assert oncall.acknowledged == ["G-checkout"]
    assert len(await acknowledgements(w, incident.id)) == 1


async def test_a_room_assembled_before_the_acknowledgement_gets_it_when_assembled_again(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """A crash between the room counting as assembled and the acknowledgement: the next
    `assemble` (the message redelivered) acknowledges."""
    w, _ = await world_with(db, clock, tmp_path, acknowledge=False)
    incident = await w.open_incident()
    await w.assembler.assemble(incident.id)
    restarted, oncall = await world_with(db, clock, tmp_path, acknowledge=True)

    await restarted.assembler.assemble(incident.id)

    assert oncall.acknowledged == ["G-checkout"]


async def test_nothing_is_acknowledged_unless_switched_on(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=False)
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)

    assert oncall.acknowledged == []
    assert await acknowledgements(w, incident.id) == []


async def test_an_incident_from_alertmanager_has_no_alert_group_to_acknowledge_or_walk(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=True)
    incident = await from_alertmanager(w)

    await w.assembler.assemble(incident.id)

    assert oncall.acknowledged == []
    assert oncall.asked == [None]


async def test_the_responders_step_asks_about_the_incidents_alert_group(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=False)
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)

    assert oncall.asked == ["G-checkout"]


async def test_a_failed_acknowledgement_is_told_to_the_room_and_the_room_stays(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=True)
    oncall.fail_with = VendorError("grafana-oncall", "POST /x", "HTTP 503", transient=True)
    incident = await w.open_incident()

    with structlog.testing.capture_logs() as logs:
        done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    [acked] = await acknowledgements(w, incident.id)
    assert acked.data["ok"] is False
    assert "HTTP 503" in acked.data["error"]
    texts = [m.text for m in await w.messages(incident.id)]
    assert any(
        "Could not acknowledge alert group G-checkout" in t and "HTTP 503" in t for t in texts
    )
    assert any(e["event"] == "war_room.acknowledge_failed" for e in logs)


async def test_where_the_on_call_answer_came_from_is_in_the_brief(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=False)
    oncall.note = "from the roster: Grafana OnCall could not say (HTTP 503)"
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)

    brief = next(m for m in await w.messages(incident.id) if m.key.endswith(":context"))
    assert "On call: from the roster: Grafana OnCall could not say (HTTP 503)" in "\n".join(
        brief.sections
    )


async def test_an_unanswered_ic_is_escalated_to_the_alert_groups_on_call(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w, oncall = await world_with(db, clock, tmp_path, acknowledge=False)
    incident = await w.open_incident()
    elsewhere = await from_alertmanager(w)

    await escalation_contact(oncall, incident, clock.now())
    await escalation_contact(oncall, elsewhere, clock.now())

    assert oncall.asked == ["G-checkout", None]
