"""The WarRoomAssembler: from an alert to a staffed, briefed war room in seconds.

Assembly is a resumable saga. Each step's result is saved in `incident.assembly_steps` right
after its audit record (whose key is the step name), and a step already recorded is skipped, so a
crash at any point is finished by calling `assemble` again: vendor calls are idempotent (the
channel per incident, posts per key), audit writes per key, and nothing happens twice.

Only the channel is critical. People, telemetry, invites, posts and reminders degrade: a step
that fails on an outage is tried again with backoff until its deadline, then the room is told
what failed and assembly goes on. Once the channel exists everything else starts at once; the
one chain is channel -> checklist post -> pin.

The room's topic and bookmarks, and the repair of degraded steps, run beside the processor:
`assemble` returns (so its queue message is acked and its slot freed) as soon as the room counts
as assembled. In an alert storm they wait behind Slack's tier-2 limits, which must hold back
neither the room nor the next alert. They are durable through the incident itself: what an
open room still lacks is recorded there, and `resume_unfinished` (the processor's upkeep) starts
it again, after a restart too.
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
from incident_response.ports import (
    NO_METRICS,
    AuditLog,
    Chat,
    CodeHost,
    Directory,
    IncidentStore,
    Metrics,
    OnCall,
    Telemetry,
)
from incident_response.ports import Scheduler as SchedulerPort
from incident_response.services import war_room_messages as msgs
from incident_response.services.nudges import NudgeScheduler
from incident_response.services.on_call import oncall_alert_group
from incident_response.services.sla import SlaMonitor
from incident_response.services.war_room_beside import BesideWork
from incident_response.services.war_room_fallback import fall_back
from incident_response.services.war_room_messages import channel_name
from incident_response.services.war_room_responders import invite_responders, resolve_responders
from incident_response.services.war_room_signs import topic_and_bookmarks
from incident_response.services.war_room_steps import (
    BESIDE,
    REPAIRABLE,
    AssemblySteps,
    RetryPolicy,
    Step,
    StepDeadline,
    Tried,
    describe,
    needs_assembly,
    needs_repair,
    together,
    unfinished_steps,
)
from incident_response.telemetry.logging import get_logger
from incident_response.telemetry.tracing import failed, span

__all__ = [
    "RetryPolicy",
    "Step",
    "StepDeadline",
    "WarRoomAssembler",
    "channel_name",
    "needs_assembly",
    "needs_repair",
    "unfinished_steps",
]

# the audit key of the one attempt to acknowledge the incident's alert group
ACKNOWLEDGE_KEY = "acknowledge_alert_group"

# how many open incidents one upkeep round looks at for unfinished rooms
REPAIR_SCAN_LIMIT = 500
# how long the brief waits for CODEOWNERS: a suggestion, never worth holding the room up for
OWNERS_DEADLINE_SECONDS = 8.0
# how long the bookmarks wait for a hosted status page to say where customers read it
STATUS_PAGE_ADDRESS_DEADLINE_SECONDS = 8.0

log = get_logger(__name__)

A = AuditEventType
S = IncidentStatus


class WarRoomAssembler:
    """Runs the assembly saga for one incident at a time (the queue keeps an incident's
    messages in order). `retry` governs the channel retries, `step_deadline` how long the other
    steps are retried, `sleep` the waits of both; `call_timeout_seconds` bounds every vendor call
    so a wedged one degrades its step instead of stalling the room. `scheduler` is accepted for
    symmetry with the other services; timers are put through `nudges` and `sla`.
    `status_page_url` is bookmarked in every room (a function is asked for it, room by room: a
    hosted page's address is read from its vendor; no answer, no bookmark). `code_host`, when given, suggests the
    service's owners (CODEOWNERS) in the brief; its failure only says so there. With
    `acknowledge_alert_groups` the on-call system's alert group is acknowledged once its room is
    assembled (see `_acknowledge`)."""

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
        step_deadline: StepDeadline | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        call_timeout_seconds: float = 10.0,
        status_page_url: str | Callable[[], Awaitable[str | None]] | None = None,
        code_host: CodeHost | None = None,
        acknowledge_alert_groups: bool = False,
        metrics: Metrics = NO_METRICS,
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
            store=store,
            audit=audit,
            clock=clock,
            call_timeout_seconds=call_timeout_seconds,
            deadline=step_deadline,
            sleep=sleep,
        )
        self._status_page_url = status_page_url
        self._code_host = code_host
        self._acknowledge_alert_groups = acknowledge_alert_groups
        self._beside = BesideWork()
        self._metrics = metrics

    async def assemble(self, incident_id: str) -> Incident:
        """Assemble the incident's war room, or finish a run a crash interrupted.

        Returns once the room counts as assembled; its topic and bookmarks go on beside (see
        `settle`). An assembled or resolved incident is returned unchanged (what an assembled
        room still lacks is started beside). One that failed assembly is tried again (a retry
        by hand). Traced as one span with a child per step (docs/observability.md).
        """
        with span("assemble", incident_id=incident_id):
            return await self._assemble(incident_id)

    async def _assemble(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id}")
        done = incident.assembly_steps
        if incident.status in (S.ASSEMBLED, S.RESOLVED) or Step.ASSEMBLED in done:
            if needs_assembly(incident) or needs_repair(incident):
                self._beside.start(incident_id, self._repair(incident_id))
            if incident.status is S.ASSEMBLED:  # a crash may have come before the acknowledgement
                await self._acknowledge(incident)
            return incident
        incident = await self._start(incident)
        async with together() as group:
            people = group.create_task(
                resolve_responders(
                    incident,
                    oncall=self._oncall,
                    directory=self._directory,
                    clock=self._clock,
                    steps=self._steps,
                    metrics=self._metrics,
                )
            )
            facts = group.create_task(self._snapshot(incident))
            room = group.create_task(self._room(incident, people, facts))
        channel = room.result()
        if not isinstance(channel, ChannelRef):
            return await fall_back(
                incident,
                str(channel),
                people.result(),
                chat=self._chat,
                store=self._store,
                clock=self._clock,
                steps=self._steps,
            )
        await self._post_notices(incident_id, channel)
        assembled = await self._finish(incident_id)
        await self._acknowledge(assembled)
        return assembled

    # -- beside the processor ---------------------------------------------------------------------

    async def resume_unfinished(self) -> int:
        """Start, beside, the work open assembled rooms still lack (topic and bookmarks cut
        short by a restart, steps degraded by an outage), except where it already runs. For the
        processor's periodic upkeep: returns at once, with how many rooms it started."""
        incidents = await self._store.recent(
            statuses=[S.ASSEMBLED, S.MITIGATED], limit=REPAIR_SCAN_LIMIT
        )
        started = 0
        for incident in incidents:
            if needs_repair(incident) and not self._beside.busy(incident.id):
                started += self._beside.start(incident.id, self._repair(incident.id))
        return started

    async def settle(self, *, grace_seconds: float | None = None) -> None:
        """Wait for the work beside assemblies; after `grace_seconds` cancel what is left
        (the incident records what is missing and `resume_unfinished` takes it up again).
        Shutdown calls this within its grace; tests call it to see a room complete."""
        await self._beside.settle(grace_seconds=grace_seconds)

    async def _signs_once_staffed(
        self, incident_id: str, channel: ChannelRef, people: asyncio.Task[dict[str, Any]]
    ) -> None:
        await people  # the topic names the IC
        await self._topic_and_bookmarks(await self._steps.require(incident_id), channel)

    async def _repair(self, incident_id: str) -> None:
        """One round over what the assembled room still lacks: a step never done is done and
        recorded; one that degraded on an outage is tried again (with its deadline) and
        recorded only if it now succeeds."""
        incident = await self._steps.require(incident_id)
        channel = incident.channel
        if channel is None or not incident.status.is_open:
            return
        done = incident.assembly_steps
        redo = [
            step
            for step in REPAIRABLE
            if step in unfinished_steps(incident)
            and (step not in done or done[step].get("retry", True) is not False)
        ]
        if not redo:
            return
        for step in redo:
            log.warning(
                "war_room.repair",
                incident_id=incident_id,
                step=step.value,
                error=done.get(step, {}).get("error") if step in done else "not done yet",
            )
        view = incident.update(assembly_steps={k: v for k, v in done.items() if k not in redo})
        repairs = self._steps.repairing()
        people = dict(done.get(Step.RESOLVE_RESPONDERS) or {})
        facts = dict(done.get(Step.CONTEXT_SNAPSHOT) or {"ok": False, "error": "not taken"})
        async with together() as group:
            if Step.POST_CHECKLIST in redo or Step.PIN_CHECKLIST in redo:
                group.create_task(self._checklist(view, channel, steps=repairs))
            if Step.INVITE_RESPONDERS in redo:
                already = done.get(Step.INVITE_RESPONDERS, {}).get("invited", [])
                group.create_task(
                    invite_responders(
                        view, channel, people, chat=self._chat, steps=repairs, already=already
                    )
                )
            if Step.POST_CONTEXT in redo:
                group.create_task(self._post_context(view, channel, people, facts, steps=repairs))
            if Step.SCHEDULE_REMINDERS in redo:
                group.create_task(self._schedule_reminders(view, steps=repairs))
            if Step.TOPIC_AND_BOOKMARKS in redo:
                first = Step.TOPIC_AND_BOOKMARKS not in done  # a crash cut it short: do it
                steps = None if first else repairs
                group.create_task(self._topic_and_bookmarks(view, channel, steps=steps))
        after = await self._steps.require(incident_id)
        still = [s for s in redo if s in unfinished_steps(after)]
        if still:
            log.warning("war_room.still_degraded", incident_id=incident_id, steps=still)
        else:
            log.info("war_room.repaired", incident_id=incident_id, steps=[s.value for s in redo])

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
        self,
        incident: Incident,
        people: asyncio.Task[dict[str, Any]],
        facts: asyncio.Task[dict[str, Any]],
    ) -> ChannelRef | str:
        """The channel; once it exists, all at once: the checklist (posted, then pinned), the
        reminders, the invites and the brief, with the topic and bookmarks beside."""
        channel = await self._create_channel(incident)
        if not isinstance(channel, ChannelRef):
            return channel
        self._beside.start(incident.id, self._signs_once_staffed(incident.id, channel, people))

        async def invite() -> None:
            staff = await people
            await invite_responders(incident, channel, staff, chat=self._chat, steps=self._steps)

        async def brief() -> None:
            await self._post_context(incident, channel, await people, await facts)

        async with together() as group:
            group.create_task(self._checklist(incident, channel))
            group.create_task(self._schedule_reminders(incident))
            group.create_task(invite())
            group.create_task(brief())
        return channel

    async def _create_channel(self, incident: Incident) -> ChannelRef | str:
        """The channel, or the last error once every attempt has failed."""
        if Step.CREATE_CHANNEL in incident.assembly_steps:
            return ChannelRef.model_validate(incident.assembly_steps[Step.CREATE_CHANNEL])
        with span(Step.CREATE_CHANNEL.value, incident_id=incident.id):
            channel = await self._new_channel(incident)
            if not isinstance(channel, ChannelRef):
                failed(channel)
            return channel

    async def _new_channel(self, incident: Incident) -> ChannelRef | str:
        name = channel_name(incident)
        for attempt in range(1, self._retry.attempts + 1):
            tried = await self._steps.attempt(
                self._chat.create_channel(name=name, incident_id=incident.id)
            )
            if tried.error is None:
                break
            if not tried.transient:
                return tried.error  # a refusal: trying again would only repeat it
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
        tried, owners = await asyncio.gather(
            self._steps.attempt(self._telemetry.snapshot(incident, at=self._clock.now())),
            self._owners(incident),
        )
        if tried.error is None:
            result = {"ok": True, "snapshot": tried.value.model_dump(mode="json"), **owners}
            await self._steps.complete(
                incident.id, Step.CONTEXT_SNAPSHOT, result, data={"ok": True}
            )
        else:
            result = {"ok": False, "error": tried.error, **owners}
            kind = A.CONTEXT_SNAPSHOT_ATTACHED
            await self._steps.complete(incident.id, Step.CONTEXT_SNAPSHOT, result, kind=kind)
        return result

    async def _owners(self, incident: Incident) -> dict[str, Any]:
        """`{"owners": [...]}` from the code host, or `{"owners_error": why}`; never raises."""
        if self._code_host is None:
            return {}
        try:
            async with asyncio.timeout(OWNERS_DEADLINE_SECONDS):
                owners = await self._code_host.owners(service=incident.service)
        except TimeoutError:
            return {"owners_error": f"no answer within {OWNERS_DEADLINE_SECONDS:g} s"}
        except Exception as exc:
            log.warning("war_room.owners_failed", incident_id=incident.id, exc_info=True)
            return {"owners_error": describe(exc)}
        return {"owners": [str(o) for o in owners]}

    async def _post_context(
        self,
        incident: Incident,
        channel: ChannelRef,
        people: dict[str, Any],
        facts: dict[str, Any],
        *,
        steps: AssemblySteps | None = None,
    ) -> None:
        if Step.POST_CONTEXT in incident.assembly_steps:
            return
        with span(Step.POST_CONTEXT.value, incident_id=incident.id):
            await self._brief(incident, channel, people, facts, steps=steps or self._steps)

    async def _brief(
        self,
        incident: Incident,
        channel: ChannelRef,
        people: dict[str, Any],
        facts: dict[str, Any],
        *,
        steps: AssemblySteps,
    ) -> None:
        snapshot = ContextSnapshot.model_validate(facts["snapshot"]) if facts.get("ok") else None
        message = msgs.context(
            incident,
            people,
            snapshot,
            facts.get("error"),
            owners=facts.get("owners", ()),
            owners_error=facts.get("owners_error"),
        )
        tried = await steps.attempt_until(
            lambda: self._chat.post(channel.id, message),
            incident_id=incident.id,
            step=Step.POST_CONTEXT,
        )
        result = {
            "ok": tried.error is None,
            "message_id": tried.value,
            "snapshot": snapshot is not None,
            "error": tried.error,
            "retry": tried.transient,
        }
        if tried.error is not None:
            failed(tried.error)
        kind = A.CONTEXT_SNAPSHOT_ATTACHED
        await steps.complete(incident.id, Step.POST_CONTEXT, result, kind=kind)

    async def _checklist(
        self, incident: Incident, channel: ChannelRef, *, steps: AssemblySteps | None = None
    ) -> None:
        steps = steps or self._steps
        posted = incident.assembly_steps.get(Step.POST_CHECKLIST)
        if posted is None:
            items = checklist_for(incident.severity, self._checklists)
            message = msgs.checklist(incident, items)
            tried = await steps.attempt_until(
                lambda: self._chat.post(channel.id, message),
                incident_id=incident.id,
                step=Step.POST_CHECKLIST,
            )
            posted = {
                "ok": tried.error is None,
                "message_id": tried.value,
                "error": tried.error,
                "retry": tried.transient,
            }
            await steps.complete(
                incident.id,
                Step.POST_CHECKLIST,
                posted,
                change=lambda i: i if i.checklist else i.update(checklist=items),
            )
        if Step.PIN_CHECKLIST in incident.assembly_steps:
            return
        pinned: dict[str, Any] = {
            "ok": False,
            "error": "the checklist was not posted",
            "retry": posted.get("retry", True),
        }
        with span(Step.PIN_CHECKLIST.value, incident_id=incident.id):
            if posted["ok"]:
                message_id = str(posted["message_id"])
                tried = await steps.attempt_until(
                    lambda: self._chat.pin(channel.id, message_id),
                    incident_id=incident.id,
                    step=Step.PIN_CHECKLIST,
                )
                pinned = {
                    "ok": tried.error is None,
                    "message_id": message_id,
                    "error": tried.error,
                    "retry": tried.transient,
                }
            if pinned["error"] is not None:
                failed(str(pinned["error"]))
            await steps.complete(incident.id, Step.PIN_CHECKLIST, pinned, kind=A.CHECKLIST_PINNED)

    async def _schedule_reminders(
        self, incident: Incident, *, steps: AssemblySteps | None = None
    ) -> None:
        if Step.SCHEDULE_REMINDERS in incident.assembly_steps:
            return
        steps = steps or self._steps
        current = await self._store.get(incident.id) or incident
        step, where = Step.SCHEDULE_REMINDERS, {"incident_id": incident.id}
        async with together() as group:
            nudge_task = group.create_task(
                _traced(
                    "schedule_nudge",
                    steps.attempt_until(lambda: self._nudges.schedule(current), step=step, **where),
                    incident_id=incident.id,
                )
            )
            sla_task = group.create_task(
                steps.attempt_until(lambda: self._sla.schedule(current), step=step, **where)
            )
        nudge, sla = nudge_task.result(), sla_task.result()
        errors = [t.error for t in (nudge, sla) if t.error is not None]
        result: dict[str, Any] = {
            "ok": not errors,
            "nudge": nudge.value.name if nudge.value else None,
            "sla": [s.name for s in sla.value or []],
            "error": "; ".join(errors) or None,
            "retry": any(t.transient for t in (nudge, sla)),
        }
        await steps.complete(incident.id, Step.SCHEDULE_REMINDERS, result)

    async def _status_page_address(self) -> str | None:
        """The status page to bookmark; a hosted page that cannot say in time gets none."""
        if not callable(self._status_page_url):
            return self._status_page_url or None
        try:
            async with asyncio.timeout(STATUS_PAGE_ADDRESS_DEADLINE_SECONDS):
                return await self._status_page_url() or None
        except Exception:
            log.warning("war_room.status_page_address_failed", exc_info=True)
            return None

    async def _topic_and_bookmarks(
        self, incident: Incident, channel: ChannelRef, *, steps: AssemblySteps | None = None
    ) -> None:
        if Step.TOPIC_AND_BOOKMARKS in incident.assembly_steps:
            return
        await topic_and_bookmarks(
            incident,
            channel,
            chat=self._chat,
            steps=steps or self._steps,
            status_page_url=await self._status_page_address(),
            tell_the_room=steps is None,  # a repair that fails again says nothing new
        )

    async def _post_notices(self, incident_id: str, channel: ChannelRef) -> None:
        """Tell the room what degraded. Best effort: the notices are keyed, so reposting on a
        resume is harmless, and a room that cannot be posted to cannot be told anyway."""
        incident = await self._store.get(incident_id)
        for notice in msgs.notices(incident) if incident else []:
            await self._steps.attempt(self._chat.post(channel.id, notice))

    async def _acknowledge(self, incident: Incident) -> None:
        """Acknowledge the incident's alert group in the on-call system now that its room is
        assembled, so the escalation chain stops paging people who are already there.

        Opt-in (INCIDENT_RESPONSE_ONCALL_ACKNOWLEDGE), once per incident (its audit record, keyed
        `acknowledge_alert_group`, says it was tried), and never part of the assembly: a failure
        is logged and told to the room, and the room stays assembled."""
        group = oncall_alert_group(incident)
        if not self._acknowledge_alert_groups or group is None or incident.channel is None:
            return
        records = await self._audit.find(incident.id, A.ASSEMBLY_STEP_COMPLETED)
        if any(r.key == ACKNOWLEDGE_KEY for r in records):
            return
        tried = await self._steps.attempt(self._oncall.acknowledge(group))
        data = {
            "step": ACKNOWLEDGE_KEY,
            "ok": tried.error is None,
            "alert_group_id": group,
            "acknowledged": bool(tried.value),
            "error": tried.error,
        }
        await self._steps.record(incident.id, A.ASSEMBLY_STEP_COMPLETED, ACKNOWLEDGE_KEY, data)
        if tried.error is None:
            return
        log.warning(
            "war_room.acknowledge_failed",
            incident_id=incident.id,
            alert_group_id=group,
            error=tried.error,
        )
        notice = msgs.acknowledge_failed(incident, group, tried.error)
        await self._steps.attempt(self._chat.post(incident.channel.id, notice))

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
        saved = await self._steps.complete(
            incident_id, Step.ASSEMBLED, data, kind=kind, change=assembled
        )
        if incident.status is S.ASSEMBLING:  # once per room, not on a resumed run's replay
            self._metrics.war_room_assembled(seconds=seconds, severity=incident.severity.value)
        return saved


async def _traced(name: str, call: Awaitable[Tried], **attributes: str) -> Tried:
    """`call` under a span named `name`, marked failed when the call's step failed."""
    with span(name, **attributes):
        tried = await call
        if tried.error is not None:
            failed(tried.error)
        return tried
