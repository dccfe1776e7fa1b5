"""Declarations: a person opens an incident by hand, and it assembles exactly like an alerted one.

The one way in for every surface (the Slack modal, the console form, `POST /api/incidents`):
they parse what the person typed and call `declare`; the policy (Action.DECLARE: anyone in the
roster) is asked here, once. The incident is stored, audited (INCIDENT_DECLARED, the declarer
as actor) and put on the queue as INCIDENT_DECLARED, whose handler hands it to the same
WarRoomAssembler as an alert's incident: room, responders (the IC and the declarer, plus who is
on call for the service), context, checklist, reminders.

Commit, then publish: the incident is created first, then its audit records and its message.
A crash between them leaves a declared incident waiting in ALERT_RECEIVED; `relay_waiting`
(the processor's upkeep) writes what is missing and queues it again. Every step is idempotent
(audit by key, the queue by dedup id, the incident id by the declaration's key), so a retried
declaration with the same key, or a relay of one already assembled, changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.clock import Clock
from incident_response.domain.declaration import Declaration, InvalidDeclaration
from incident_response.domain.errors import AlreadyExists
from incident_response.domain.incident import Incident, IncidentStatus, declared_incident_id
from incident_response.domain.messages import EventType, QueueMessage
from incident_response.ports import AuditLog, Directory, EventQueue, IncidentStore
from incident_response.services.authority import NotPermitted

__all__ = ["Declarations", "Declared", "InvalidDeclaration"]

# how far back the relay looks for declared incidents still waiting for their room
RELAY_WINDOW = timedelta(days=1)
RELAY_SCAN_LIMIT = 200


class Policy(Protocol):
    """The one policy with the live facts about the person (services.authority.Authority)."""

    async def require(
        self, action: Action, incident: Incident | None, email: str, *, target: str | None = None
    ) -> None: ...


@dataclass(frozen=True)
class Declared:
    """The declared incident; `new` is False when the declaration's key had already opened it
    (a retry), which then changed nothing."""

    incident: Incident
    new: bool


class Declarations:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        queue: EventQueue,
        directory: Directory,
        authority: Policy,
        clock: Clock,
        new_key: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._store = store
        self._audit = audit
        self._queue = queue
        self._directory = directory
        self._authority = authority
        self._clock = clock
        self._new_key = new_key

    async def declare(
        self,
        *,
        declared_by: str,
        title: str,
        severity: str,
        service: str = "",
        summary: str = "",
        ic: str | None = None,
        key: str | None = None,
    ) -> Declared:
        """Open and queue for assembly the incident `declared_by` describes. `ic` (an e-mail)
        defaults to the declarer. `key` makes the call idempotent: the same declarer and key
        return the incident the first call opened. Raises NotPermitted (not in the roster) or
        InvalidDeclaration (a bad field, or an IC the roster does not know); nothing is stored
        then."""
        await self._authority.require(Action.DECLARE, None, declared_by)
        declaration = Declaration.parse(
            title=title, severity=severity, service=service, summary=summary, ic=ic
        )
        declarer = await self._directory.person(declared_by)
        if declarer is None:  # the policy read the roster a moment ago; it changed since
            raise NotPermitted([f"{declared_by} is no longer in the roster"])
        commander = declarer
        if declaration.ic is not None:
            chosen = await self._directory.person(declaration.ic)
            if chosen is None:
                raise InvalidDeclaration(
                    {"ic": f"{declaration.ic} is not in the roster: choose someone it knows"}
                )
            commander = chosen
        incident = Incident.declare(
            declaration,
            incident_id=declared_incident_id(declarer.email, key or self._new_key()),
            declared_by=declarer,
            ic=commander,
            now=self._clock.now(),
        )
        try:
            stored, new = await self._store.create(incident), True
        except AlreadyExists:
            found = await self._store.get(incident.id)
            if found is None:  # pragma: no cover - create said it exists
                raise
            stored, new = found, False
        await self._announce(stored)
        return Declared(stored, new)

    async def relay_waiting(self, *, older_than: timedelta) -> int:
        """Declared incidents still in ALERT_RECEIVED `older_than` after they were declared
        (a crash before their message was queued): audit and queue them again. For the
        processor's upkeep; returns how many were queued."""
        now = self._clock.now()
        waiting = await self._store.recent(
            statuses=[IncidentStatus.ALERT_RECEIVED], limit=RELAY_SCAN_LIMIT
        )
        relayed = 0
        for incident in waiting:
            if incident.declared and now - RELAY_WINDOW <= incident.created_at <= now - older_than:
                await self._announce(incident)
                relayed += 1
        return relayed

    async def _announce(self, incident: Incident) -> None:
        """Its audit records, then its message: each once, however often this runs."""
        by = incident.declared_by or ""
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType.INCIDENT_DECLARED,
                key="declared",
                at=incident.created_at,
                actor=by,
                data={
                    "by": by,
                    "title": incident.title,
                    "severity": incident.severity.value,
                    "service": incident.service,
                    "summary": incident.summary,
                    "ic": incident.ic,
                },
            )
        )
        because = (
            "declared the incident"
            if incident.ic == by
            else f"chosen by {by}, who declared the incident"
        )
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType.IC_ASSIGNED,
                key="declared:ic",
                at=incident.created_at,
                actor=by,
                data={"ic": incident.ic, "because": because},
            )
        )
        await self._queue.send(
            QueueMessage(
                type=EventType.INCIDENT_DECLARED.value, payload={"incident_id": incident.id}
            ),
            group_id=incident.alert_group_key,
            dedup_id=f"declared:{incident.id}",
        )
