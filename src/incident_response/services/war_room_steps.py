"""The assembly saga's vocabulary and bookkeeping, apart from the steps themselves.

`Step` names what `incident.assembly_steps` records; `AssemblySteps` is how a step is tried
(under the per-call timeout) and recorded (audit first, then the incident), so the assembler
and its failure path share one way of doing both.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident, IncidentStatus, Responder
from incident_response.domain.people import Person
from incident_response.ports import AuditLog, IncidentStore
from incident_response.services.nudges import save_change

__all__ = [
    "BESIDE",
    "AssemblySteps",
    "RetryPolicy",
    "Step",
    "Tried",
    "describe",
    "needs_assembly",
    "person_of",
    "together",
]

T = TypeVar("T")
A = AuditEventType
S = IncidentStatus


class Step(StrEnum):
    START = "start"
    CREATE_CHANNEL = "create_channel"
    RESOLVE_RESPONDERS = "resolve_responders"
    CONTEXT_SNAPSHOT = "context_snapshot"
    INVITE_RESPONDERS = "invite_responders"
    POST_CONTEXT = "post_context"
    POST_CHECKLIST = "post_checklist"
    PIN_CHECKLIST = "pin_checklist"
    SCHEDULE_REMINDERS = "schedule_reminders"
    TOPIC_AND_BOOKMARKS = "topic_and_bookmarks"
    ASSEMBLED = "assembled"


BESIDE = frozenset({Step.TOPIC_AND_BOOKMARKS})
"""Steps the room does not wait for to count as assembled."""


def needs_assembly(incident: Incident) -> bool:
    """Whether `assemble` has work left: the saga itself, or (for an open, assembled room) the
    topic and bookmarks a crash cut short."""
    if incident.status in (S.ALERT_RECEIVED, S.ASSEMBLING):
        return True
    return (
        incident.status is not S.RESOLVED
        and Step.ASSEMBLED in incident.assembly_steps
        and incident.channel is not None
        and Step.TOPIC_AND_BOOKMARKS not in incident.assembly_steps
    )


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try the one critical call: exponential backoff from `base_delay`."""

    attempts: int = 3
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0:
            raise ValueError("retry needs at least one attempt and a non-negative delay")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class Tried:
    value: Any = None
    error: str | None = None


@asynccontextmanager
async def together() -> AsyncIterator[asyncio.TaskGroup]:
    """A TaskGroup that cancels the rest when one task dies and re-raises that task's error
    itself (not wrapped), so a crash looks the same whether or not it came from a sibling."""
    try:
        async with asyncio.TaskGroup() as group:
            yield group
    except BaseExceptionGroup as failed:
        if len(failed.exceptions) == 1:
            raise failed.exceptions[0] from None
        raise


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def person_of(responder: Responder) -> Person:
    return Person(
        email=responder.email, name=responder.name or responder.email, chat_id=responder.chat_id
    )


class AssemblySteps:
    """Tries vendor calls and records step results for one assembler."""

    def __init__(
        self, *, store: IncidentStore, audit: AuditLog, clock: Clock, call_timeout_seconds: float
    ) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._timeout = call_timeout_seconds

    async def require(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id}")
        return incident

    async def attempt(self, call: Awaitable[T]) -> Tried:
        """Run a vendor call under the per-call timeout; an Exception becomes an error string.

        BaseExceptions (cancellation, a killed process) pass through: they are not failures to
        degrade but the end of this run, which a later `assemble` resumes.
        """
        deadline = asyncio.timeout(self._timeout)
        try:
            async with deadline:
                return Tried(value=await call)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                return Tried(error=f"no answer within {self._timeout:g}s")
            return Tried(error=describe(exc))

    async def record(
        self, incident_id: str, kind: AuditEventType, key: str, data: dict[str, Any]
    ) -> None:
        event = AuditEvent(
            incident_id=incident_id, type=kind, key=str(key), at=self._clock.now(), data=data
        )
        await self._audit.append(event)

    async def complete(
        self,
        incident_id: str,
        step: Step,
        result: dict[str, Any],
        *,
        kind: AuditEventType = A.ASSEMBLY_STEP_COMPLETED,
        key: str | None = None,
        data: dict[str, Any] | None = None,
        change: Callable[[Incident], Incident] | None = None,
    ) -> Incident:
        """Audit the step (keyed by its name), then record its result on the incident.

        In that order: a crash between the two redoes the step, whose audit write is then a
        no-op; the other order could lose the audit record.
        """
        audit_data = {"step": step.value, **(result if data is None else data)}
        await self.record(incident_id, kind, key or step.value, audit_data)
        now = self._clock.now()

        def apply(current: Incident) -> Incident:
            updated = current.update(
                assembly_steps={**current.assembly_steps, step.value: result}, updated_at=now
            )
            return change(updated) if change is not None else updated

        return await save_change(self._store, incident_id, apply)
