"""The resolution saga's vocabulary and bookkeeping, apart from the steps themselves.

`Step` names what `incident.resolution_steps` records; `ResolutionSteps` writes those records
and the audit trail with a compare-and-set, so a step's record survives a concurrent update.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal, Protocol

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.errors import IncidentResponseError, NotFound
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import DraftKind, StatusDraft
from incident_response.ports import AuditLog, IncidentStore
from incident_response.services.compare_and_set import save_change

__all__ = [
    "REQUESTED",
    "STARTED",
    "DraftMaker",
    "RequestState",
    "ResolutionIncomplete",
    "ResolutionRequest",
    "ResolutionSteps",
    "Step",
    "TimerOwner",
    "describe",
    "pending_steps",
    "requested_at",
]

REQUESTED = "requested"
STARTED = "started"


class Step(StrEnum):
    """The saga's steps, in the order they run."""

    CHANGES = "changes"
    FOLLOWUPS = "followups"  # filed before the postmortem, which links them
    POSTMORTEM = "postmortem"
    REMINDERS = "reminders"
    RESOLVED_DRAFT = "resolved_draft"
    PULSE = "pulse"
    RESOLVED = "resolved"
    ANNOUNCED = "announced"
    ARCHIVED = "archived"


class DraftMaker(Protocol):
    async def create_draft(
        self,
        incident_id: str,
        *,
        actor: str,
        kind: DraftKind = DraftKind.UPDATE,
        by_resolution: bool = False,
    ) -> StatusDraft: ...


class TimerOwner(Protocol):
    """The NudgeScheduler and the SlaMonitor: both drop an incident's timers on resolve."""

    async def delete(self, incident_id: str) -> None: ...


class ResolutionIncomplete(IncidentResponseError):
    """Some steps failed; the queue retries the message and the saga resumes at them."""


RequestState = Literal["queued", "already_resolving", "already_resolved", "not_found", "failed"]


@dataclass(frozen=True)
class ResolutionRequest:
    """The answer to `resolve`: `accepted` only for the request that started the resolution."""

    accepted: bool
    state: RequestState
    text: str


def pending_steps(incident: Incident) -> list[Step]:
    return [s for s in Step if s.value not in incident.resolution_steps]


def requested_at(incident: Incident) -> datetime | None:
    """When resolution was asked for (or, lacking a request, when the saga started)."""
    for mark in (REQUESTED, STARTED):
        entry = incident.resolution_steps.get(mark)
        if isinstance(entry, dict) and entry.get("at"):
            return utc(datetime.fromisoformat(str(entry["at"]).replace("Z", "+00:00")))
    return None


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class ResolutionSteps:
    """Records step results on the incident and events in the audit log for one Resolver."""

    def __init__(self, *, store: IncidentStore, audit: AuditLog, clock: Clock) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock

    async def append(
        self, incident_id: str, type_: AuditEventType, key: str, *, actor: str, data: dict[str, Any]
    ) -> None:
        await self._audit.append(
            AuditEvent(
                incident_id=incident_id,
                type=type_,
                key=key,
                at=self._clock.now(),
                actor=actor,
                data=data,
            )
        )

    async def record(self, incident_id: str, step: str, result: dict[str, Any]) -> Incident:
        now = self._clock.now()
        entry = {**result, "at": isoformat(now)}
        return await self.mutate(
            incident_id,
            lambda i: i.update(
                resolution_steps={**i.resolution_steps, step: entry}, updated_at=now
            ),
        )

    async def require(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        return incident

    async def mutate(
        self, incident_id: str, change: Callable[[Incident], Incident | None]
    ) -> Incident:
        return await save_change(self._store, incident_id, change)
