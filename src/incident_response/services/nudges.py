"""The NudgeScheduler: reminds the IC to keep customers informed, and escalates when ignored.

Each incident has one durable recurring schedule that puts a STATUS_UPDATE_NUDGE on the queue.
Every decision is derived from the audit log (when the status page was last published, how many
reminders went unanswered since, whether this streak was already escalated), so a crash or a
redelivered message never double-counts, and there is no counter to drift out of step.

What answers a reminder is the last customer update: a publication on the status page, or a
war-room message the drafter read as a status update (`count_as_update`, recorded as a
STATUS_UPDATE_SENT with `via: war_room`), such as "told support and the status page: checkout
is degraded". Either starts the interval again and a new streak of reminders.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.clock import Clock, isoformat
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident
from incident_response.domain.messages import EventType, QueueMessage, Schedule
from incident_response.domain.people import Person
from incident_response.domain.text import shortened
from incident_response.ports import (
    NO_METRICS,
    AuditLog,
    Chat,
    IncidentStore,
    Metrics,
    OnCall,
    Scheduler,
)
from incident_response.services.compare_and_set import save_change
from incident_response.services.mentions import mention_on
from incident_response.services.on_call import shift_for

A = AuditEventType


async def escalation_contact(oncall: OnCall, incident: Incident, at: datetime) -> Person | None:
    """Whom to tell when the IC is not answering: the secondary on call, else the primary, but
    never the IC themself."""
    shift = await shift_for(oncall, incident, at=at)
    for person in (shift.secondary, shift.primary):
        if person is not None and person.email != incident.ic:
            return person
    return None


def last_of(records: Sequence[AuditRecord], kind: AuditEventType) -> AuditRecord | None:
    return next((r for r in reversed(records) if r.type is kind), None)


WAR_ROOM = "war_room"  # STATUS_UPDATE_SENT's `via` when a war-room message counted as an update


def is_war_room_update(record: AuditRecord) -> bool:
    return record.type is A.STATUS_UPDATE_SENT and record.data.get("via") == WAR_ROOM


def last_update(records: Sequence[AuditRecord]) -> AuditRecord | None:
    """The last thing that told customers where the incident stands: a status page publication
    or a war-room message counted as a status update."""
    return next(
        (r for r in reversed(records) if r.type is A.STATUSPAGE_PUBLISHED or is_war_room_update(r)),
        None,
    )


def noted_update_key(note_key: str) -> str:
    return f"status-update-noted:{note_key}"


class NudgeOutcome(StrEnum):
    SENT = "sent"
    ESCALATED = "escalated"  # sent, and this reminder crossed the escalation threshold
    SUPPRESSED = "suppressed"  # the status page was updated recently enough
    SILENCED = "silenced"
    CLOSED = "closed"  # resolved or unknown: nothing to remind about
    NO_ROOM = "no_room"  # assembly never produced a channel to remind in


def schedule_name(incident_id: str) -> str:
    """`nudge.<incident id>`: '.' never occurs in an incident id, so no two incidents' names
    meet, and the name fits every Scheduler's rule."""
    return f"nudge.{incident_id}"


class NudgeScheduler:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        chat: Chat,
        scheduler: Scheduler,
        oncall: OnCall,
        clock: Clock,
        interval_seconds: float = 900,
        escalate_after: int = 3,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        if interval_seconds <= 0:
            raise ValueError("interval_seconds must be positive")
        if escalate_after < 1:
            raise ValueError("escalate_after must be at least 1")
        self._store = store
        self._audit = audit
        self._chat = chat
        self._scheduler = scheduler
        self._oncall = oncall
        self._clock = clock
        self._interval = interval_seconds
        self._escalate_after = escalate_after
        self._metrics = metrics

    async def schedule(self, incident: Incident) -> Schedule:
        """Create the incident's reminder schedule unless it exists.

        An existing schedule is left alone: replacing it would reset its timing and undo an IC's
        silence when a crashed assembly is resumed.
        """
        existing = await self._scheduler.get(schedule_name(incident.id))
        if existing is not None:
            return existing
        schedule = Schedule(
            name=schedule_name(incident.id),
            every_seconds=self._interval,
            message=QueueMessage(
                type=EventType.STATUS_UPDATE_NUDGE.value, payload={"incident_id": incident.id}
            ),
            group_id=incident.id,
            next_fire_at=self._clock.now() + timedelta(seconds=self._interval),
            enabled=not incident.nudges_silenced,
        )
        await self._scheduler.put(schedule)
        return schedule

    async def nudge(self, incident_id: str) -> NudgeOutcome:
        """Handle one STATUS_UPDATE_NUDGE. Safe to run twice for the same slot: the reminder,
        its audit record and any escalation happen once."""
        incident = await self._store.get(incident_id)
        if incident is None or not incident.is_open:
            return NudgeOutcome.CLOSED
        if incident.nudges_silenced:
            return NudgeOutcome.SILENCED
        now = self._clock.now()
        slot = math.floor((now - incident.created_at).total_seconds() / self._interval)
        key = f"nudge:{slot}"
        records = await self._audit.records(incident_id)
        done = next((r for r in records if r.key == key), None)
        if done is not None and done.type is A.STATUS_REMINDER_SUPPRESSED:
            return NudgeOutcome.SUPPRESSED
        published = last_update(records)
        if done is None:
            if published is not None and published.at > now - timedelta(seconds=self._interval):
                await self._record(
                    incident_id,
                    A.STATUS_REMINDER_SUPPRESSED,
                    key,
                    {"slot": slot, "last_published_at": isoformat(published.at)},
                )
                return NudgeOutcome.SUPPRESSED
            if incident.channel is None:
                return NudgeOutcome.NO_ROOM
            since = published.at if published is not None else incident.created_at
            unanswered = self._unanswered(records, published) + 1
            await self._chat.post(
                incident.channel.id, await self._reminder(incident, slot, now - since, published)
            )
            done = await self._record(
                incident_id,
                A.STATUS_REMINDER_SENT,
                key,
                {"slot": slot, "ic": incident.ic, "unanswered": unanswered},
            )
            self._metrics.nudge_sent(severity=incident.severity.value)
            records = [*records, done]
        unanswered = self._unanswered(records, published)
        if unanswered < self._escalate_after:
            return NudgeOutcome.SENT
        streak = published.seq if published is not None else 0
        if any(r.key == f"nudge-escalated:{streak}" for r in records):
            return NudgeOutcome.SENT
        await self._escalate(incident, streak, unanswered)
        return NudgeOutcome.ESCALATED

    async def reminder(self, incident_id: str) -> Schedule | None:
        """The incident's reminder schedule as it stands (None once deleted on resolve)."""
        return await self._scheduler.get(schedule_name(incident_id))

    async def unanswered(self, incident_id: str) -> int:
        """Reminders sent since the status page was last published."""
        records = await self._audit.records(incident_id)
        return self._unanswered(records, last_update(records))

    async def silence(self, incident_id: str, *, actor: str) -> bool:
        """Stop reminders for the incident, keeping the schedule (disabled) so they can resume.

        True when reminders were on; silencing twice changes nothing. The audit key counts the
        unsilences before it, so a retried silence never records a second event.
        """
        incident = await self._require(incident_id)
        if incident.nudges_silenced:
            return False
        unsilenced = len(await self._audit.find(incident_id, A.STATUS_REMINDER_UNSILENCED))
        await self._record(
            incident_id, A.STATUS_REMINDER_SILENCED, f"nudge-silence:{unsilenced}", {}, actor=actor
        )
        await self._set_enabled(incident_id, enabled=False)
        await self._set_silenced(incident_id, silenced=True)
        return True

    async def unsilence(self, incident_id: str, *, actor: str) -> bool:
        """Resume reminders on the schedule's original cadence; True when they were silenced."""
        incident = await self._require(incident_id)
        if not incident.nudges_silenced:
            return False
        silenced = len(await self._audit.find(incident_id, A.STATUS_REMINDER_SILENCED))
        await self._record(
            incident_id,
            A.STATUS_REMINDER_UNSILENCED,
            f"nudge-unsilence:{silenced}",
            {},
            actor=actor,
        )
        if incident.is_open:
            await self._set_enabled(incident_id, enabled=True)
        await self._set_silenced(incident_id, silenced=False)
        return True

    async def count_as_update(
        self, incident_id: str, *, note_key: str, actor: str, text: str
    ) -> datetime | None:
        """Count a war-room message (already read as a status update) as this incident's latest
        update: reminders start their interval again from now, and the room is told so.

        Returns when the next reminder may come at the earliest; None when the incident is
        resolved or unknown. The audit key is the message's, so a redelivered note counts once
        (its room message is keyed too, so a retry after a lost post says it once).
        """
        incident = await self._store.get(incident_id)
        if incident is None or not incident.is_open:
            return None
        key = noted_update_key(note_key)
        recorded = await self._audit.append(
            AuditEvent(
                incident_id=incident_id,
                type=A.STATUS_UPDATE_SENT,
                key=key,
                at=self._clock.now(),
                actor=actor,
                data={"via": WAR_ROOM, "note": note_key, "text": shortened(text, 200)},
            )
        )
        earliest = recorded.at + timedelta(seconds=self._interval)
        if incident.channel is not None and not incident.nudges_silenced:
            await self._chat.post(
                incident.channel.id,
                ChatMessage(
                    text="Counted as a status update: the reminder to update customers waits "
                    f"until at least {earliest:%H:%M} UTC.",
                    key=f"{incident_id}:{key}",
                ),
            )
        return earliest

    async def delete(self, incident_id: str) -> None:
        """Remove the schedule when the incident is resolved; deleting twice is harmless."""
        try:
            await self._scheduler.delete(schedule_name(incident_id))
        except NotFound:
            return

    def _unanswered(self, records: Sequence[AuditRecord], published: AuditRecord | None) -> int:
        after = published.seq if published is not None else 0
        return sum(1 for r in records if r.type is A.STATUS_REMINDER_SENT and r.seq > after)

    async def _reminder(
        self, incident: Incident, slot: int, silent_for: timedelta, published: AuditRecord | None
    ) -> ChatMessage:
        who = "IC"
        if incident.ic:
            who = await mention_on(self._chat, incident, incident.ic)
        minutes = int(silent_for.total_seconds() // 60)
        if published is None:
            state = f"customers have had no status page update yet ({minutes} min in)"
        elif is_war_room_update(published):
            state = f"the last status update (a war-room message) was {minutes} min ago"
        else:
            state = f"the last status page update was {minutes} min ago"
        return ChatMessage(
            text=f"{who} reminder: {state}. Draft an update for approval, "
            "or silence reminders with `/incident-response silence`.",
            buttons=(
                ChatButton(
                    action="draft.create",
                    label="Draft a status update",
                    value=incident.id,
                    style=ButtonStyle.PRIMARY,
                ),
            ),
            key=f"{incident.id}:nudge:{slot}",
        )

    async def _escalate(self, incident: Incident, streak: int, unanswered: int) -> None:
        """Tell someone besides the IC, once per streak of unanswered reminders."""
        now = self._clock.now()
        notified: str | None = None
        error: str | None = None
        title = f"{incident.severity.value} {shortened(incident.title)}"
        try:
            contact = await escalation_contact(self._oncall, incident, now)
            if contact is not None:
                user_id = await self._chat.user_id_for(contact)
                if user_id is None:
                    error = f"{contact.email} has no chat account"
                else:
                    room = f" in #{incident.channel.name}" if incident.channel else ""
                    await self._chat.send_direct(
                        user_id,
                        ChatMessage(
                            text=f"Incident {title}: the IC has not updated the status page "
                            f"after {unanswered} reminders. Please check in{room}.",
                            key=f"{incident.id}:nudge-escalated:{streak}",
                        ),
                    )
                    notified = contact.email
        except Exception as exc:  # escalation degrades to the room message; it never blocks
            error = f"{type(exc).__name__}: {exc}"
        if incident.channel is not None:
            target = notified or "nobody else on call could be reached"
            await self._chat.post(
                incident.channel.id,
                ChatMessage(
                    text=f"{unanswered} status reminders went unanswered: escalated to {target}.",
                    key=f"{incident.id}:nudge-escalated:{streak}",
                ),
            )
        await self._record(
            incident.id,
            A.STATUS_REMINDER_ESCALATED,
            f"nudge-escalated:{streak}",
            {"unanswered": unanswered, "notified": notified, "error": error},
        )

    async def _require(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id}")
        return incident

    async def _set_enabled(self, incident_id: str, *, enabled: bool) -> None:
        name = schedule_name(incident_id)
        if await self._scheduler.get(name) is None:
            return  # not scheduled yet: `schedule` reads the incident's silenced flag
        if enabled:
            await self._scheduler.enable(name)
        else:
            await self._scheduler.disable(name)

    async def _set_silenced(self, incident_id: str, *, silenced: bool) -> None:
        now = self._clock.now()
        await save_change(
            self._store,
            incident_id,
            lambda i: i.update(nudges_silenced=silenced, updated_at=now),
        )

    async def _record(
        self,
        incident_id: str,
        kind: AuditEventType,
        key: str,
        data: dict[str, Any],
        *,
        actor: str = "system",
    ) -> AuditRecord:
        return await self._audit.append(
            AuditEvent(
                incident_id=incident_id,
                type=kind,
                key=key,
                at=self._clock.now(),
                actor=actor,
                data=data,
            )
        )
