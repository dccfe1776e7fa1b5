"""The assembly saga's vocabulary and bookkeeping, apart from the steps themselves.

`Step` names what `incident.assembly_steps` records; `AssemblySteps` is how a step is tried
(under the per-call timeout, and again with backoff while the failure is an outage and the
step's deadline allows) and recorded (audit first, then the incident), so the assembler, its
repairs and its failure path share one way of doing both.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.errors import ConcurrentUpdate, IncidentResponseError, NotFound
from incident_response.domain.incident import Incident, IncidentStatus, Responder
from incident_response.domain.people import Person
from incident_response.ports import AuditLog, IncidentStore
from incident_response.services.compare_and_set import save_change
from incident_response.telemetry.logging import get_logger

__all__ = [
    "BESIDE",
    "REPAIRABLE",
    "AssemblySteps",
    "RetryPolicy",
    "Step",
    "StepDeadline",
    "Tried",
    "describe",
    "needs_assembly",
    "needs_repair",
    "person_of",
    "together",
    "unfinished_steps",
]

T = TypeVar("T")
A = AuditEventType
S = IncidentStatus

log = get_logger(__name__)

LATEST_KEPT = 256  # incidents whose last saved version is remembered (see AssemblySteps)


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


REPAIRABLE: tuple[Step, ...] = (
    Step.INVITE_RESPONDERS,
    Step.POST_CONTEXT,
    Step.POST_CHECKLIST,
    Step.PIN_CHECKLIST,
    Step.SCHEDULE_REMINDERS,
    Step.TOPIC_AND_BOOKMARKS,
)
"""Steps an assembled room keeps trying in the background while they failed on an outage."""


def unfinished_steps(incident: Incident) -> list[str]:
    """What an assembled room still lacks, in saga order: the steps that degraded, and the
    topic and bookmarks while they are not done yet. Empty before assembly ends."""
    done = incident.assembly_steps
    if Step.ASSEMBLED not in done:
        return []
    return [
        step.value
        for step in Step
        if _failed(done.get(step)) or (step in BESIDE and step not in done)
    ]


def needs_repair(incident: Incident) -> bool:
    """Whether an open, assembled room has a step worth trying again: one that failed on an
    outage (not a refusal such as an unknown person), or the topic and bookmarks not yet done."""
    if not incident.status.is_open or incident.channel is None:
        return False
    done = incident.assembly_steps
    return Step.ASSEMBLED in done and any(
        (step in BESIDE and step not in done)
        or (_failed(done.get(step)) and done[step].get("retry", True) is not False)
        for step in REPAIRABLE
    )


def _failed(result: Any) -> bool:
    return isinstance(result, Mapping) and result.get("ok") is False


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
    """How hard to try the one critical call while it fails on an outage: exponential backoff
    from `base_delay` (the default waits 15.5 s in all, about a step's deadline)."""

    attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 8.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.base_delay < 0:
            raise ValueError("retry needs at least one attempt and a non-negative delay")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        return float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))


@dataclass(frozen=True)
class StepDeadline:
    """How long a step that failed on an outage is tried again before the room is assembled
    without it (the background repair goes on): exponential backoff from `base_delay`, each
    wait jittered to between half and all of it so rooms hit by one outage do not retry in step."""

    seconds: float = 20.0
    base_delay: float = 0.25
    max_delay: float = 4.0

    def __post_init__(self) -> None:
        if self.seconds < 0 or self.base_delay <= 0 or self.max_delay < self.base_delay:
            raise ValueError("a step deadline needs seconds >= 0 and 0 < base_delay <= max_delay")

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        ceiling = float(min(self.max_delay, self.base_delay * 2 ** (attempt - 1)))
        return ceiling * random.uniform(0.5, 1.0)  # jitter, not a secret


@dataclass(frozen=True)
class Tried:
    value: Any = None
    error: str | None = None
    transient: bool = False
    """The error was an outage (worth trying again), not a refusal."""


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


def is_transient(exc: Exception) -> bool:
    """Outages are worth another try: what an adapter marks transient, and a connection that
    failed or timed out. Anything else is a refusal that a retry would only repeat."""
    if isinstance(exc, IncidentResponseError):
        return exc.transient
    return isinstance(exc, ConnectionError | TimeoutError)


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def person_of(responder: Responder) -> Person:
    return Person(
        email=responder.email, name=responder.name or responder.email, chat_id=responder.chat_id
    )


class Backoff:
    """The retries of one step: `again` waits before the next attempt, or says the deadline
    has come. Time is what passed or what was slept, whichever is more (tests inject a sleep
    that does not wait); for a step the room does not wait for (BESIDE) only what was slept,
    since its calls may queue for minutes behind Slack's tier-2 limit without failing."""

    def __init__(
        self,
        deadline: StepDeadline,
        sleep: Callable[[float], Awaitable[None]],
        *,
        incident_id: str,
        step: str,
    ) -> None:
        self._deadline = deadline
        self._sleep = sleep
        self._incident_id = incident_id
        self._step = step
        self._started = asyncio.get_running_loop().time()
        self._slept = 0.0
        self.attempts = 1

    async def again(self, error: str | None) -> bool:
        delay = self._deadline.delay(self.attempts)
        passed = asyncio.get_running_loop().time() - self._started
        elapsed = self._slept if self._step in BESIDE else max(passed, self._slept)
        if elapsed + delay > self._deadline.seconds:
            return False
        log.warning(
            "war_room.step_retry",
            incident_id=self._incident_id,
            step=self._step,
            attempt=self.attempts + 1,
            error=error,
            delay_seconds=round(delay, 3),
        )
        await self._sleep(delay)
        self._slept += delay
        self.attempts += 1
        return True


class AssemblySteps:
    """Tries vendor calls and records step results for one assembler."""

    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        clock: Clock,
        call_timeout_seconds: float,
        deadline: StepDeadline | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._timeout = call_timeout_seconds
        self._deadline = deadline or StepDeadline()
        self._sleep = sleep
        # one save at a time per incident in this process: steps running side by side would
        # otherwise lose most compare-and-set races to each other and redo their saves
        self._saving: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
        # the version this process saved last, per incident: saved upon directly (the
        # compare-and-set still guards it), so a step's save needs no read first
        self._latest: OrderedDict[str, Incident] = OrderedDict()

    def repairing(self) -> AssemblySteps:
        """The same tries, recording only what now succeeds (see `Repairs`)."""
        repairs = Repairs(
            store=self._store,
            audit=self._audit,
            clock=self._clock,
            call_timeout_seconds=self._timeout,
            deadline=self._deadline,
            sleep=self._sleep,
        )
        repairs._saving, repairs._latest = self._saving, self._latest
        return repairs

    def _save_lock(self, incident_id: str) -> asyncio.Lock:
        lock = self._saving.get(incident_id)
        if lock is None:
            lock = self._saving[incident_id] = asyncio.Lock()
        return lock

    def backoff(self, incident_id: str, step: str) -> Backoff:
        return Backoff(self._deadline, self._sleep, incident_id=incident_id, step=step)

    async def attempt_until(
        self, call: Callable[[], Awaitable[T]], *, incident_id: str, step: str
    ) -> Tried:
        """`attempt` the call, and again with backoff while it fails on an outage and the
        step's deadline allows. Safe because every call the saga makes is idempotent."""
        backoff = self.backoff(incident_id, step)
        while True:
            tried = await self.attempt(call())
            if tried.error is None or not tried.transient or not await backoff.again(tried.error):
                return tried

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
                return Tried(error=f"no answer within {self._timeout:g}s", transient=True)
            return Tried(error=describe(exc), transient=is_transient(exc))

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

        async with self._save_lock(incident_id):
            saved = None
            known = self._latest.get(incident_id)
            if known is not None:
                with contextlib.suppress(ConcurrentUpdate):  # someone else saved: read it
                    saved = await self._store.save(apply(known))
            if saved is None:
                saved = await save_change(self._store, incident_id, apply)
            self._latest[incident_id] = saved
            self._latest.move_to_end(incident_id)
            if len(self._latest) > LATEST_KEPT:
                self._latest.popitem(last=False)
            return saved


class Repairs(AssemblySteps):
    """A background repair of an assembled room: a step that succeeds now is recorded (under
    `<step>:repaired`, so the audit trail keeps the first failure too); one that fails again
    leaves the record as it was, to be tried on the next round."""

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
        if result.get("ok") is not True:
            return await self.require(incident_id)
        return await super().complete(
            incident_id,
            step,
            result,
            kind=kind,
            key=f"{key or step.value}:repaired",
            data=data,
            change=change,
        )
