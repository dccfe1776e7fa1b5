"""The SlaMonitor: checks, at fixed marks after an incident opens, that customers heard from us.

A severity has a first-update deadline (P1: 15 minutes) and marks at which to look (P1: 15 and
30 minutes). At a mark past the deadline, an open incident with nothing published yet is a
breach: the room is told and someone besides the IC is paged by direct message. Later marks
re-check, so a room that ignores the first breach hears about it again; an update published
late still ends the alarms, since customers have then been told.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.clock import Clock
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident
from incident_response.domain.messages import EventType, QueueMessage, Schedule
from incident_response.domain.text import shortened
from incident_response.ports import AuditLog, Chat, IncidentStore, OnCall, Scheduler
from incident_response.services.mentions import mention_on
from incident_response.services.nudges import escalation_contact

DEFAULT_MARKS: Mapping[Severity, tuple[int, ...]] = {
    Severity.P1: (15, 30),
    Severity.P2: (30, 60),
    Severity.P3: (60,),
    Severity.P4: (),
}
DEFAULT_FIRST_UPDATE_WITHIN: Mapping[Severity, int | None] = {
    Severity.P1: 15,
    Severity.P2: 30,
    Severity.P3: 60,
    Severity.P4: None,
}


def schedule_prefix(incident_id: str) -> str:
    """`sla.<incident id>.` then the mark's minutes: '.' never occurs in an incident id, so one
    incident's prefix lists only its own marks."""
    return f"sla.{incident_id}."


class SlaMonitor:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        chat: Chat,
        scheduler: Scheduler,
        oncall: OnCall,
        clock: Clock,
        marks_by_severity: Mapping[Severity, Sequence[int]] | None = None,
        first_update_within_by_severity: Mapping[Severity, int | None] | None = None,
    ) -> None:
        marks = {**DEFAULT_MARKS, **(marks_by_severity or {})}
        within = {**DEFAULT_FIRST_UPDATE_WITHIN, **(first_update_within_by_severity or {})}
        for severity, minutes in marks.items():
            if any(m <= 0 for m in minutes):
                raise ValueError(f"SLA marks for {severity}: minutes must be positive")
        for severity, limit in within.items():
            if limit is not None and limit <= 0:
                raise ValueError(f"first-update SLA for {severity}: minutes must be positive")
        self._store = store
        self._audit = audit
        self._chat = chat
        self._scheduler = scheduler
        self._oncall = oncall
        self._clock = clock
        self._marks = {s: tuple(sorted(set(m))) for s, m in marks.items()}
        self._within = within

    def marks_for(self, severity: Severity) -> tuple[int, ...]:
        return self._marks.get(severity, ())

    async def schedule(self, incident: Incident) -> list[Schedule]:
        """One one-shot check per mark, timed from when the incident opened.

        A mark already scheduled is left alone; one already past fires at once.
        """
        if self._within.get(incident.severity) is None:
            return []
        schedules: list[Schedule] = []
        for minutes in self.marks_for(incident.severity):
            name = f"{schedule_prefix(incident.id)}{minutes}"
            existing = await self._scheduler.get(name)
            if existing is not None:
                schedules.append(existing)
                continue
            schedule = Schedule(
                name=name,
                every_seconds=minutes * 60,
                message=QueueMessage(
                    type=EventType.SLA_CHECK.value,
                    payload={"incident_id": incident.id, "mark_minutes": minutes},
                ),
                group_id=incident.id,
                next_fire_at=incident.created_at + timedelta(minutes=minutes),
                once=True,
            )
            await self._scheduler.put(schedule)
            schedules.append(schedule)
        return schedules

    async def check(self, incident_id: str, mark_minutes: int) -> bool:
        """Handle one SLA_CHECK; True when the mark is (or already was) a breach."""
        incident = await self._store.get(incident_id)
        if incident is None or not incident.is_open:
            return False
        within = self._within.get(incident.severity)
        if within is None or mark_minutes < within:
            return False
        key = f"sla:{mark_minutes}"
        records = await self._audit.records(incident_id)
        if any(r.key == key for r in records):
            return True
        now = self._clock.now()
        if any(r.type is AuditEventType.STATUSPAGE_PUBLISHED and r.at <= now for r in records):
            return False
        notified, error = await self._page(incident, mark_minutes)
        if incident.channel is not None:
            ic = "IC"
            if incident.ic:
                ic = await mention_on(self._chat, incident, incident.ic)
            paged = f" {notified} has been paged." if notified else ""
            await self._chat.post(
                incident.channel.id,
                ChatMessage(
                    text=f"SLA breached: {mark_minutes} min since the incident opened and no "
                    f"status page update yet (a {incident.severity.value} needs one within "
                    f"{within} min). {ic}, please publish an update.{paged}",
                    key=f"{incident.id}:sla:{mark_minutes}",
                ),
            )
        await self._audit.append(
            AuditEvent(
                incident_id=incident_id,
                type=AuditEventType.SLA_BREACHED,
                key=key,
                at=now,
                data={
                    "mark_minutes": mark_minutes,
                    "first_update_within_minutes": within,
                    "notified": notified,
                    "error": error,
                },
            )
        )
        return True

    async def delete(self, incident_id: str) -> None:
        """Remove the marks that have not fired yet (on resolve)."""
        for schedule in await self._scheduler.schedules(schedule_prefix(incident_id)):
            try:
                await self._scheduler.delete(schedule.name)
            except NotFound:
                continue

    async def _page(self, incident: Incident, mark_minutes: int) -> tuple[str | None, str | None]:
        """Direct-message the secondary on call; a failure is reported, never raised."""
        try:
            contact = await escalation_contact(self._oncall, incident, self._clock.now())
            if contact is None:
                return None, "nobody besides the IC is on call"
            user_id = await self._chat.user_id_for(contact)
            if user_id is None:
                return None, f"{contact.email} has no chat account"
            room = f" (#{incident.channel.name})" if incident.channel else ""
            await self._chat.send_direct(
                user_id,
                ChatMessage(
                    text=f"SLA breach on {incident.severity.value} incident {shortened(incident.title)}"
                    f"{room}: no status page update {mark_minutes} min after it opened.",
                    key=f"{incident.id}:sla:{mark_minutes}",
                ),
            )
            return contact.email, None
        except Exception as exc:
            return None, f"{type(exc).__name__}: {exc}"
