"""The WarRoomAssembler: from an alert to a staffed, briefed war room in seconds.

Assembly is a resumable saga. Each step's result is saved in `incident.assembly_steps` right
after its audit record (whose key is the step name), and a step already recorded is skipped, so a
crash at any point is finished by calling `assemble` again: vendor calls are idempotent (the
channel per incident, posts per key), audit writes per key, and nothing happens twice.

Only the channel is critical. People, telemetry, invites, posts and reminders degrade: the room
is told what failed and assembly goes on. Independent steps run concurrently; the one chain is
channel -> checklist post -> pin.

The room's topic and bookmarks are set beside all of that once the channel exists, and the room
counts as assembled without waiting for them: in an alert storm they queue behind Slack's
tier-2 limits, which must not hold back the rooms. `assemble` returns when they are done too,
and resumes them (only them) for an incident assembled before a crash cut them short.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.checklist import DEFAULT_CHECKLISTS, ChecklistTemplates, checklist_for
from incident_response.domain.clock import Clock
from incident_response.domain.context import ContextSnapshot
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import ChannelRef, Incident, IncidentStatus, Responder
from incident_response.domain.people import Person
from incident_response.ports import AuditLog, Chat, Directory, IncidentStore, OnCall, Telemetry
from incident_response.ports import Scheduler as SchedulerPort
from incident_response.services import war_room_messages as msgs
from incident_response.services.nudges import NudgeScheduler, save_change
from incident_response.services.sla import SlaMonitor
from incident_response.services.war_room_messages import channel_name
from incident_response.telemetry.logging import get_logger

__all__ = ["RetryPolicy", "Step", "WarRoomAssembler", "channel_name", "needs_assembly"]

log = get_logger(__name__)

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
class _Tried:
    value: Any = None
    error: str | None = None


@asynccontextmanager
async def _together() -> AsyncIterator[asyncio.TaskGroup]:
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


class WarRoomAssembler:
    """Runs the assembly saga for one incident at a time (the queue keeps an incident's
    messages in order). `retry` and `sleep` govern the channel retries; `call_timeout_seconds`
    bounds every vendor call so a wedged one degrades its step instead of stalling the room.
    `scheduler` is accepted for symmetry with the other services; timers are put through
    `nudges` and `sla`. `status_page_url` is bookmarked in every room."""

    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        chat: Chat,
        directory: Directory,
        oncall: OnCall,
        telemetry: Telemetry,
        scheduler: SchedulerPort,
        clock: Clock,
        nudges: NudgeScheduler,
        sla: SlaMonitor,
        checklists: ChecklistTemplates = DEFAULT_CHECKLISTS,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        call_timeout_seconds: float = 10.0,
        status_page_url: str | None = None,
    ) -> None:
        self._store = store
        self._audit = audit
        self._chat = chat
        self._directory = directory
        self._oncall = oncall
        self._telemetry = telemetry
        self._scheduler = scheduler
        self._clock = clock
        self._nudges = nudges
        self._sla = sla
        self._checklists = checklists
        self._retry = retry or RetryPolicy()
        self._sleep = sleep
        self._timeout = call_timeout_seconds
        self._status_page_url = status_page_url or None

    async def assemble(self, incident_id: str) -> Incident:
        """Assemble the incident's war room, or finish a run a crash interrupted.

        An assembled or resolved incident is returned unchanged. One that failed assembly is
        tried again (a retry by hand).
        """
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id}")
        done = incident.assembly_steps
        if incident.status in (S.ASSEMBLED, S.RESOLVED) or Step.ASSEMBLED in done:
            if needs_assembly(incident) and incident.channel is not None:
                await self._topic_and_bookmarks(incident, incident.channel)
                return await self._require(incident_id)
            return incident
        incident = await self._start(incident)
        made: asyncio.Future[ChannelRef | None] = asyncio.get_running_loop().create_future()
        async with _together() as beside:
            people = beside.create_task(self._resolve_responders(incident))
            beside.create_task(self._signs_once_made(incident, made, people))
            async with _together() as group:
                room = group.create_task(self._room(incident, made))
                facts = group.create_task(self._snapshot(incident))
            channel, staff = room.result(), await people
            if not isinstance(channel, ChannelRef):
                return await self._fail(incident, str(channel), staff)
            async with _together() as group:
                group.create_task(self._invite(incident, channel, staff))
                group.create_task(self._post_context(incident, channel, staff, facts.result()))
            await self._post_notices(incident_id, channel)
            await self._finish(incident_id)
        return await self._require(incident_id)

    # -- steps -----------------------------------------------------------------------------------

    async def _start(self, incident: Incident) -> Incident:
        if incident.status not in (S.ALERT_RECEIVED, S.ASSEMBLY_FAILED):
            return incident  # resuming (ASSEMBLING), or mitigated before its room existed
        failures = len(await self._audit.find(incident.id, A.ASSEMBLY_FAILED))
        now = self._clock.now()
        return await self._complete(
            incident.id,
            Step.START,
            {"round": failures},
            key=Step.START if failures == 0 else f"{Step.START}:{failures}",
            change=lambda i: (
                i.transition(S.ASSEMBLING, at=now) if i.status is incident.status else i
            ),
        )

    async def _room(
        self, incident: Incident, made: asyncio.Future[ChannelRef | None]
    ) -> ChannelRef | str:
        """The channel (told to `made` at once), then the checklist and the reminders beside
        each other."""
        channel = await self._create_channel(incident)
        if not made.done():
            made.set_result(channel if isinstance(channel, ChannelRef) else None)
        if isinstance(channel, ChannelRef):
            async with _together() as group:
                group.create_task(self._checklist(incident, channel))
                group.create_task(self._schedule_reminders(incident))
        return channel

    async def _create_channel(self, incident: Incident) -> ChannelRef | str:
        """The channel, or the last error once every attempt has failed."""
        if Step.CREATE_CHANNEL in incident.assembly_steps:
            return ChannelRef.model_validate(incident.assembly_steps[Step.CREATE_CHANNEL])
        name = channel_name(incident)
        for attempt in range(1, self._retry.attempts + 1):
            tried = await self._try(self._chat.create_channel(name=name, incident_id=incident.id))
            if tried.error is None:
                break
            if attempt < self._retry.attempts:
                await self._sleep(self._retry.delay(attempt))
        else:
            return f"{tried.error} (after {self._retry.attempts} attempts)"
        channel: ChannelRef = tried.value
        await self._complete(
            incident.id,
            Step.CREATE_CHANNEL,
            channel.model_dump(mode="json"),
            kind=A.WAR_ROOM_CREATED,
            change=lambda i: i.update(channel=channel),
        )
        return channel

    async def _resolve_responders(self, incident: Incident) -> dict[str, Any]:
        """On-call primary and secondary plus the service's team, one entry per e-mail.

        The IC is the primary on call, else the secondary, else (nobody on call) the first of
        the team: a room without an IC has nobody to approve customer updates.
        """
        if Step.RESOLVE_RESPONDERS in incident.assembly_steps:
            return dict(incident.assembly_steps[Step.RESOLVE_RESPONDERS])
        now = self._clock.now()
        async with _together() as group:
            shift_task = group.create_task(self._try(self._oncall.shift(incident.service, at=now)))
            team_task = group.create_task(self._try(self._team(incident.service)))
        shift, team = shift_task.result(), team_task.result()
        candidates = [
            (shift.value.primary if shift.value else None, "primary"),
            (shift.value.secondary if shift.value else None, "secondary"),
            *((p, "team") for p in team.value or []),
        ]
        found: dict[str, Responder] = {}
        for person, role in candidates:
            if person is not None and person.email.lower() not in found:
                found[person.email.lower()] = Responder(
                    email=person.email, name=person.name, chat_id=person.chat_id, role=role
                )
        failures = {
            source: tried.error
            for source, tried in (("oncall", shift), ("directory", team))
            if tried.error is not None
        }
        for source, error in failures.items():
            key = f"{Step.RESOLVE_RESPONDERS}:{source}"
            await self._record(incident.id, A.DIRECTORY_LOOKUP_FAILED, key, {"error": error})
        responders = list(found.values())
        ic = next(
            (r for r in responders if r.role != "team"), responders[0] if responders else None
        )
        if ic is not None and incident.ic is None:
            await self._record(
                incident.id,
                A.IC_ASSIGNED,
                f"{Step.RESOLVE_RESPONDERS}:ic",
                {"ic": ic.email, "because": f"{ic.role} for {incident.service}"},
            )
        result = {
            "ok": not failures,
            "failures": failures,
            "responders": [r.model_dump(mode="json") for r in responders],
            "ic": incident.ic or (ic.email if ic else None),
        }

        def staff(i: Incident) -> Incident:
            known = {r.email.lower() for r in i.responders}
            extra = tuple(r for r in responders if r.email.lower() not in known)
            return i.update(responders=(*i.responders, *extra), ic=i.ic or result["ic"])

        await self._complete(incident.id, Step.RESOLVE_RESPONDERS, result, change=staff)
        return result

    async def _team(self, service: str) -> list[Person]:
        team = await self._directory.team_for_service(service)
        return [] if team is None else await self._directory.team_members(team)

    async def _snapshot(self, incident: Incident) -> dict[str, Any]:
        if Step.CONTEXT_SNAPSHOT in incident.assembly_steps:
            return dict(incident.assembly_steps[Step.CONTEXT_SNAPSHOT])
        tried = await self._try(self._telemetry.snapshot(incident, at=self._clock.now()))
        if tried.error is None:
            result = {"ok": True, "snapshot": tried.value.model_dump(mode="json")}
            await self._complete(incident.id, Step.CONTEXT_SNAPSHOT, result, data={"ok": True})
        else:
            result = {"ok": False, "error": tried.error}
            kind = A.CONTEXT_SNAPSHOT_ATTACHED
            await self._complete(incident.id, Step.CONTEXT_SNAPSHOT, result, kind=kind)
        return result

    async def _invite(
        self, incident: Incident, channel: ChannelRef, people: dict[str, Any]
    ) -> None:
        """Everyone in one batched invite; each person's outcome audited under their e-mail."""
        if Step.INVITE_RESPONDERS in incident.assembly_steps:
            return
        responders = [Responder.model_validate(r) for r in people.get("responders", [])]
        async with _together() as group:
            lookups = [
                group.create_task(self._try(self._chat.user_id_for(_person(r)))) for r in responders
            ]
        failed: dict[str, str] = {}
        by_user: dict[str, Responder] = {}
        for responder, lookup in zip(responders, lookups, strict=True):
            tried = lookup.result()
            if tried.value:
                by_user[tried.value] = responder.model_copy(update={"chat_id": tried.value})
            else:
                failed[responder.email] = tried.error or "no chat account"
        if by_user:
            batch = await self._try(self._chat.invite(channel.id, list(by_user)))
            refused = (
                batch.value.failed if batch.error is None else dict.fromkeys(by_user, batch.error)
            )
            for user_id, reason in refused.items():
                if user_id in by_user:
                    failed[by_user.pop(user_id).email] = reason
        for r in by_user.values():
            data = {"email": r.email, "chat_id": r.chat_id, "role": r.role}
            key = f"{Step.INVITE_RESPONDERS}:{r.email.lower()}"
            await self._record(incident.id, A.RESPONDER_INVITED, key, data)
        for email, reason in failed.items():
            key = f"{Step.INVITE_RESPONDERS}:failed:{email.lower()}"
            await self._record(
                incident.id, A.RESPONDER_INVITE_FAILED, key, {"email": email, "error": reason}
            )
        invited = {r.email.lower(): r.chat_id for r in by_user.values()}

        def with_chat_ids(i: Incident) -> Incident:
            return i.update(
                responders=tuple(
                    r.model_copy(update={"chat_id": invited.get(r.email.lower(), r.chat_id)})
                    for r in i.responders
                )
            )

        result = {"ok": not failed, "invited": sorted(invited), "failed": failed}
        await self._complete(incident.id, Step.INVITE_RESPONDERS, result, change=with_chat_ids)

    async def _post_context(
        self, incident: Incident, channel: ChannelRef, people: dict[str, Any], facts: dict[str, Any]
    ) -> None:
        if Step.POST_CONTEXT in incident.assembly_steps:
            return
        snapshot = ContextSnapshot.model_validate(facts["snapshot"]) if facts.get("ok") else None
        message = msgs.context(incident, people, snapshot, facts.get("error"))
        tried = await self._try(self._chat.post(channel.id, message))
        result = {
            "ok": tried.error is None,
            "message_id": tried.value,
            "snapshot": snapshot is not None,
            "error": tried.error,
        }
        kind = A.CONTEXT_SNAPSHOT_ATTACHED
        await self._complete(incident.id, Step.POST_CONTEXT, result, kind=kind)

    async def _checklist(self, incident: Incident, channel: ChannelRef) -> None:
        posted = incident.assembly_steps.get(Step.POST_CHECKLIST)
        if posted is None:
            items = checklist_for(incident.severity, self._checklists)
            tried = await self._try(self._chat.post(channel.id, msgs.checklist(incident, items)))
            posted = {"ok": tried.error is None, "message_id": tried.value, "error": tried.error}
            await self._complete(
                incident.id,
                Step.POST_CHECKLIST,
                posted,
                change=lambda i: i if i.checklist else i.update(checklist=items),
            )
        if Step.PIN_CHECKLIST in incident.assembly_steps:
            return
        pinned: dict[str, Any] = {"ok": False, "error": "the checklist was not posted"}
        if posted["ok"]:
            tried = await self._try(self._chat.pin(channel.id, posted["message_id"]))
            pinned = {
                "ok": tried.error is None,
                "message_id": posted["message_id"],
                "error": tried.error,
            }
        await self._complete(incident.id, Step.PIN_CHECKLIST, pinned, kind=A.CHECKLIST_PINNED)

    async def _schedule_reminders(self, incident: Incident) -> None:
        if Step.SCHEDULE_REMINDERS in incident.assembly_steps:
            return
        current = await self._store.get(incident.id) or incident
        async with _together() as group:
            nudge_task = group.create_task(self._try(self._nudges.schedule(current)))
            sla_task = group.create_task(self._try(self._sla.schedule(current)))
        nudge, sla = nudge_task.result(), sla_task.result()
        errors = [t.error for t in (nudge, sla) if t.error is not None]
        result: dict[str, Any] = {
            "ok": not errors,
            "nudge": nudge.value.name if nudge.value else None,
            "sla": [s.name for s in sla.value or []],
            "error": "; ".join(errors) or None,
        }
        await self._complete(incident.id, Step.SCHEDULE_REMINDERS, result)

    async def _signs_once_made(
        self,
        incident: Incident,
        made: asyncio.Future[ChannelRef | None],
        people: asyncio.Task[dict[str, Any]],
    ) -> None:
        channel = await made
        if channel is None:
            return
        await people  # the topic names the IC
        await self._topic_and_bookmarks(await self._require(incident.id), channel)

    async def _topic_and_bookmarks(self, incident: Incident, channel: ChannelRef) -> None:
        """The room says what it is about and who leads it, and bookmarks what responders open
        first. Bookmarks go in order (the bar reads runbook first); the topic beside them."""
        if Step.TOPIC_AND_BOOKMARKS in incident.assembly_steps:
            return
        topic = msgs.room_topic(incident)
        bookmarks = msgs.room_bookmarks(incident, self._status_page_url)

        async def add_bookmarks() -> dict[str, str]:
            failed: dict[str, str] = {}
            for mark in bookmarks:
                added = await self._try(
                    self._chat.add_bookmark(channel.id, title=mark.title, url=mark.url)
                )
                if added.error is not None:
                    failed[mark.url] = added.error
            return failed

        async with _together() as group:
            topic_task = group.create_task(self._try(self._chat.set_topic(channel.id, topic)))
            marks_task = group.create_task(add_bookmarks())
        topic_error, failed = topic_task.result().error, marks_task.result()
        errors = [f"topic: {topic_error}"] if topic_error else []
        errors.extend(f"bookmark {url}: {error}" for url, error in failed.items())
        result: dict[str, Any] = {
            "ok": not errors,
            "topic": topic if topic_error is None else None,
            "bookmarks": [m.url for m in bookmarks if m.url not in failed],
            "error": "; ".join(errors) or None,
        }
        if errors:
            log.warning(
                "war_room.topic_or_bookmarks_failed", incident_id=incident.id, errors=errors
            )
        await self._complete(incident.id, Step.TOPIC_AND_BOOKMARKS, result)
        notice = msgs.notice(incident.id, Step.TOPIC_AND_BOOKMARKS, result)
        if notice is not None:
            await self._try(self._chat.post(channel.id, notice))

    async def _post_notices(self, incident_id: str, channel: ChannelRef) -> None:
        """Tell the room what degraded. Best effort: the notices are keyed, so reposting on a
        resume is harmless, and a room that cannot be posted to cannot be told anyway."""
        incident = await self._store.get(incident_id)
        for notice in msgs.notices(incident) if incident else []:
            await self._try(self._chat.post(channel.id, notice))

    async def _finish(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id}")
        now = self._clock.now()
        first_alert = min([incident.created_at, *(a.at for a in incident.alerts)])
        degraded = sorted(
            step
            for step, result in incident.assembly_steps.items()
            if isinstance(result, Mapping) and result.get("ok") is False and step not in BESIDE
        )
        seconds = round((now - first_alert).total_seconds(), 3)
        data = {"alert_to_assembled_seconds": seconds, "degraded": degraded}

        def assembled(i: Incident) -> Incident:
            if i.status is S.ASSEMBLING:
                return i.transition(S.ASSEMBLED, at=now)
            return i if i.assembled_at else i.update(assembled_at=now)

        kind = A.WAR_ROOM_ASSEMBLED
        return await self._complete(incident_id, Step.ASSEMBLED, data, kind=kind, change=assembled)

    async def _fail(self, incident: Incident, error: str, people: dict[str, Any]) -> Incident:
        """No room: record the failure and tell the on-call people directly, so the incident is
        still worked by hand. Keys carry the assembly round, so a retry by hand that fails
        again is recorded again."""
        round_ = int(incident.assembly_steps.get(Step.START, {}).get("round", 0))
        data = {"step": Step.CREATE_CHANNEL, "error": error}
        await self._record(incident.id, A.ASSEMBLY_FAILED, f"assembly_failed:{round_}", data)
        responders = [Responder.model_validate(r) for r in people.get("responders", [])]
        contacts = [r for r in responders if r.role != "team"] or responders
        key = f"{incident.id}:assembly_failed:{round_}"
        message = msgs.assembly_failed(incident, error, key=key)
        notified: list[str] = []
        failed: dict[str, str] = {}
        for r in contacts:
            user_id = await self._try(self._chat.user_id_for(_person(r)))
            sent = user_id
            if user_id.value:
                sent = await self._try(self._chat.send_direct(user_id.value, message))
            if user_id.value and sent.error is None:
                notified.append(r.email)
            else:
                failed[r.email] = sent.error or "no chat account"
        await self._record(
            incident.id,
            A.ASSEMBLY_FALLBACK_INITIATED,
            f"assembly_fallback:{round_}",
            {"notified": notified, "failed": failed, "nobody_on_call": not contacts},
        )
        now = self._clock.now()
        return await save_change(
            self._store,
            incident.id,
            lambda i: i.transition(S.ASSEMBLY_FAILED, at=now) if i.status is S.ASSEMBLING else i,
        )

    # -- plumbing --------------------------------------------------------------------------------

    async def _require(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id}")
        return incident

    async def _try(self, call: Awaitable[T]) -> _Tried:
        """Run a vendor call under the per-call timeout; an Exception becomes an error string.

        BaseExceptions (cancellation, a killed process) pass through: they are not failures to
        degrade but the end of this run, which a later `assemble` resumes.
        """
        deadline = asyncio.timeout(self._timeout)
        try:
            async with deadline:
                return _Tried(value=await call)
        except Exception as exc:
            if isinstance(exc, TimeoutError) and deadline.expired():
                return _Tried(error=f"no answer within {self._timeout:g}s")
            return _Tried(error=describe(exc))

    async def _record(
        self, incident_id: str, kind: AuditEventType, key: str, data: dict[str, Any]
    ) -> None:
        event = AuditEvent(
            incident_id=incident_id, type=kind, key=str(key), at=self._clock.now(), data=data
        )
        await self._audit.append(event)

    async def _complete(
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
        await self._record(incident_id, kind, key or step.value, audit_data)
        now = self._clock.now()

        def apply(current: Incident) -> Incident:
            updated = current.update(
                assembly_steps={**current.assembly_steps, step.value: result}, updated_at=now
            )
            return change(updated) if change is not None else updated

        return await save_change(self._store, incident_id, apply)


def _person(responder: Responder) -> Person:
    return Person(
        email=responder.email, name=responder.name or responder.email, chat_id=responder.chat_id
    )
