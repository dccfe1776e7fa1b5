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
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from incident_response.domain.audit import AuditEventType
from incident_response.domain.checklist import DEFAULT_CHECKLISTS, ChecklistTemplates, checklist_for
from incident_response.domain.clock import Clock
from incident_response.domain.context import ContextSnapshot
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import ChannelRef, Incident, IncidentStatus
from incident_response.ports import AuditLog, Chat, Directory, IncidentStore, OnCall, Telemetry
from incident_response.ports import Scheduler as SchedulerPort
from incident_response.services import war_room_messages as msgs
from incident_response.services.nudges import NudgeScheduler
from incident_response.services.sla import SlaMonitor
from incident_response.services.war_room_fallback import fall_back
from incident_response.services.war_room_messages import channel_name
from incident_response.services.war_room_responders import invite_responders, resolve_responders
from incident_response.services.war_room_steps import (
    BESIDE,
    AssemblySteps,
    RetryPolicy,
    Step,
    needs_assembly,
    together,
)
from incident_response.telemetry.logging import get_logger

__all__ = ["RetryPolicy", "Step", "WarRoomAssembler", "channel_name", "needs_assembly"]

log = get_logger(__name__)

A = AuditEventType
S = IncidentStatus


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
        self._steps = AssemblySteps(
            store=store, audit=audit, clock=clock, call_timeout_seconds=call_timeout_seconds
        )
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
                return await self._steps.require(incident_id)
            return incident
        incident = await self._start(incident)
        made: asyncio.Future[ChannelRef | None] = asyncio.get_running_loop().create_future()
        async with together() as beside:
            people = beside.create_task(
                resolve_responders(
                    incident,
                    oncall=self._oncall,
                    directory=self._directory,
                    clock=self._clock,
                    steps=self._steps,
                )
            )
            beside.create_task(self._signs_once_made(incident, made, people))
            async with together() as group:
                room = group.create_task(self._room(incident, made))
                facts = group.create_task(self._snapshot(incident))
            channel, staff = room.result(), await people
            if not isinstance(channel, ChannelRef):
                return await fall_back(
                    incident,
                    str(channel),
                    staff,
                    chat=self._chat,
                    store=self._store,
                    clock=self._clock,
                    steps=self._steps,
                )
            async with together() as group:
                group.create_task(
                    invite_responders(incident, channel, staff, chat=self._chat, steps=self._steps)
                )
                group.create_task(self._post_context(incident, channel, staff, facts.result()))
            await self._post_notices(incident_id, channel)
            await self._finish(incident_id)
        return await self._steps.require(incident_id)

    # -- steps -----------------------------------------------------------------------------------

    async def _start(self, incident: Incident) -> Incident:
        if incident.status not in (S.ALERT_RECEIVED, S.ASSEMBLY_FAILED):
            return incident  # resuming (ASSEMBLING), or mitigated before its room existed
        failures = len(await self._audit.find(incident.id, A.ASSEMBLY_FAILED))
        now = self._clock.now()
        return await self._steps.complete(
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
            async with together() as group:
                group.create_task(self._checklist(incident, channel))
                group.create_task(self._schedule_reminders(incident))
        return channel

    async def _create_channel(self, incident: Incident) -> ChannelRef | str:
        """The channel, or the last error once every attempt has failed."""
        if Step.CREATE_CHANNEL in incident.assembly_steps:
            return ChannelRef.model_validate(incident.assembly_steps[Step.CREATE_CHANNEL])
        name = channel_name(incident)
        for attempt in range(1, self._retry.attempts + 1):
            tried = await self._steps.attempt(
                self._chat.create_channel(name=name, incident_id=incident.id)
            )
            if tried.error is None:
                break
            if attempt < self._retry.attempts:
                await self._sleep(self._retry.delay(attempt))
        else:
            return f"{tried.error} (after {self._retry.attempts} attempts)"
        channel: ChannelRef = tried.value
        await self._steps.complete(
            incident.id,
            Step.CREATE_CHANNEL,
            channel.model_dump(mode="json"),
            kind=A.WAR_ROOM_CREATED,
            change=lambda i: i.update(channel=channel),
        )
        return channel

    async def _snapshot(self, incident: Incident) -> dict[str, Any]:
        if Step.CONTEXT_SNAPSHOT in incident.assembly_steps:
            return dict(incident.assembly_steps[Step.CONTEXT_SNAPSHOT])
        tried = await self._steps.attempt(self._telemetry.snapshot(incident, at=self._clock.now()))
        if tried.error is None:
            result = {"ok": True, "snapshot": tried.value.model_dump(mode="json")}
            await self._steps.complete(
                incident.id, Step.CONTEXT_SNAPSHOT, result, data={"ok": True}
            )
        else:
            result = {"ok": False, "error": tried.error}
            kind = A.CONTEXT_SNAPSHOT_ATTACHED
            await self._steps.complete(incident.id, Step.CONTEXT_SNAPSHOT, result, kind=kind)
        return result

    async def _post_context(
        self, incident: Incident, channel: ChannelRef, people: dict[str, Any], facts: dict[str, Any]
    ) -> None:
        if Step.POST_CONTEXT in incident.assembly_steps:
            return
        snapshot = ContextSnapshot.model_validate(facts["snapshot"]) if facts.get("ok") else None
        message = msgs.context(incident, people, snapshot, facts.get("error"))
        tried = await self._steps.attempt(self._chat.post(channel.id, message))
        result = {
            "ok": tried.error is None,
            "message_id": tried.value,
            "snapshot": snapshot is not None,
            "error": tried.error,
        }
        kind = A.CONTEXT_SNAPSHOT_ATTACHED
        await self._steps.complete(incident.id, Step.POST_CONTEXT, result, kind=kind)

    async def _checklist(self, incident: Incident, channel: ChannelRef) -> None:
        posted = incident.assembly_steps.get(Step.POST_CHECKLIST)
        if posted is None:
            items = checklist_for(incident.severity, self._checklists)
            tried = await self._steps.attempt(
                self._chat.post(channel.id, msgs.checklist(incident, items))
            )
            posted = {"ok": tried.error is None, "message_id": tried.value, "error": tried.error}
            await self._steps.complete(
                incident.id,
                Step.POST_CHECKLIST,
                posted,
                change=lambda i: i if i.checklist else i.update(checklist=items),
            )
        if Step.PIN_CHECKLIST in incident.assembly_steps:
            return
        pinned: dict[str, Any] = {"ok": False, "error": "the checklist was not posted"}
        if posted["ok"]:
            tried = await self._steps.attempt(self._chat.pin(channel.id, posted["message_id"]))
            pinned = {
                "ok": tried.error is None,
                "message_id": posted["message_id"],
                "error": tried.error,
            }
        await self._steps.complete(incident.id, Step.PIN_CHECKLIST, pinned, kind=A.CHECKLIST_PINNED)

    async def _schedule_reminders(self, incident: Incident) -> None:
        if Step.SCHEDULE_REMINDERS in incident.assembly_steps:
            return
        current = await self._store.get(incident.id) or incident
        async with together() as group:
            nudge_task = group.create_task(self._steps.attempt(self._nudges.schedule(current)))
            sla_task = group.create_task(self._steps.attempt(self._sla.schedule(current)))
        nudge, sla = nudge_task.result(), sla_task.result()
        errors = [t.error for t in (nudge, sla) if t.error is not None]
        result: dict[str, Any] = {
            "ok": not errors,
            "nudge": nudge.value.name if nudge.value else None,
            "sla": [s.name for s in sla.value or []],
            "error": "; ".join(errors) or None,
        }
        await self._steps.complete(incident.id, Step.SCHEDULE_REMINDERS, result)

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
        await self._topic_and_bookmarks(await self._steps.require(incident.id), channel)

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
                added = await self._steps.attempt(
                    self._chat.add_bookmark(channel.id, title=mark.title, url=mark.url)
                )
                if added.error is not None:
                    failed[mark.url] = added.error
            return failed

        async with together() as group:
            topic_task = group.create_task(
                self._steps.attempt(self._chat.set_topic(channel.id, topic))
            )
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
        await self._steps.complete(incident.id, Step.TOPIC_AND_BOOKMARKS, result)
        notice = msgs.notice(incident.id, Step.TOPIC_AND_BOOKMARKS, result)
        if notice is not None:
            await self._steps.attempt(self._chat.post(channel.id, notice))

    async def _post_notices(self, incident_id: str, channel: ChannelRef) -> None:
        """Tell the room what degraded. Best effort: the notices are keyed, so reposting on a
        resume is harmless, and a room that cannot be posted to cannot be told anyway."""
        incident = await self._store.get(incident_id)
        for notice in msgs.notices(incident) if incident else []:
            await self._steps.attempt(self._chat.post(channel.id, notice))

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
        return await self._steps.complete(
            incident_id, Step.ASSEMBLED, data, kind=kind, change=assembled
        )
