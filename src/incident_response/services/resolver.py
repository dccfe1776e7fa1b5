"""The Resolver: resolving an incident once, however often `resolve` is sent, and resumably.

`request` is what the `resolve` command calls. It claims the resolution on the incident with a
compare-and-set (so of two people resolving at once, one is told it is already under way) and
puts one INCIDENT_RESOLUTION message on the queue (deduplicated per incident). The processor
then runs `resolve`, a saga whose steps each record their result in
`incident.resolution_steps` when done; a crash or a retry resumes at the first unrecorded step.
Every step's effect is idempotent on its own (keyed chat posts and audit events, the issue
tracker's per-key filing, reuse of an existing resolved draft), so a crash between an effect
and its record repeats nothing customers or responders would see twice.

A failing vendor degrades its step: the room is told, the other steps go on, and the message is
retried for the steps that must eventually happen (the postmortem, stopping reminders, the
resolved draft). An unreachable announcements channel or a war room that cannot be archived is
reported and never blocks the resolution.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from datetime import timedelta

from incident_response.domain.audit import AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.context import PublicStatus
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.messages import EventType, QueueMessage
from incident_response.domain.status_update import DraftKind
from incident_response.domain.text import shortened
from incident_response.ports import (
    NO_METRICS,
    AuditLog,
    Chat,
    CodeHost,
    EventQueue,
    IncidentStore,
    IssueTracker,
    Metrics,
)
from incident_response.services.draft_card import draft_card
from incident_response.services.mentions import incident_person
from incident_response.services.postmortem import PostmortemWriter
from incident_response.services.resolution_followups import file_followups
from incident_response.services.resolution_messages import (
    PULSE_ACTION,
    RESOLVE_ACTION,
    pulse_question,
    resolve_question,
)
from incident_response.services.resolution_postmortem import file_postmortem
from incident_response.services.resolution_steps import (
    REQUESTED,
    STARTED,
    DraftMaker,
    ResolutionIncomplete,
    ResolutionRequest,
    ResolutionSteps,
    Step,
    TimerOwner,
    describe,
    pending_steps,
    requested_at,
)
from incident_response.telemetry.logging import get_logger

__all__ = [
    "PULSE_ACTION",
    "RESOLVE_ACTION",
    "DraftMaker",
    "ResolutionIncomplete",
    "ResolutionRequest",
    "Resolver",
    "Step",
    "TimerOwner",
    "pending_steps",
    "requested_at",
]

log = get_logger(__name__)

A = AuditEventType
MAX_CHANGES = 50


# unfinished resolutions are repaired for this long after they were asked for
REPAIR_WINDOW = timedelta(days=7)


def _doubling_bucket(age: timedelta) -> int:
    """0 below 2 minutes, then 1 from 2 minutes, 2 from 4, 3 from 8...: one try per doubling."""
    minutes = age.total_seconds() / 60
    return int(math.log2(minutes)) if minutes >= 2 else 0


class Resolver:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        queue: EventQueue,
        chat: Chat,
        code_host: CodeHost,
        issues: IssueTracker,
        writer: PostmortemWriter,
        gate: DraftMaker,
        nudges: TimerOwner,
        sla: TimerOwner,
        clock: Clock,
        announcements_channel: str | None = None,
        changes_lookback: timedelta = timedelta(hours=24),
        metrics: Metrics = NO_METRICS,
    ) -> None:
        """`announcements_channel` is the chat channel id resolutions are announced in."""
        self._store = store
        self._queue = queue
        self._chat = chat
        self._code_host = code_host
        self._issues = issues
        self._writer = writer
        self._gate = gate
        self._nudges = nudges
        self._sla = sla
        self._clock = clock
        self._announcements = announcements_channel or None
        self._lookback = changes_lookback
        self._metrics = metrics
        self._steps = ResolutionSteps(store=store, audit=audit, clock=clock)

    # -- asking ----------------------------------------------------------------------------

    async def request(self, incident_id: str, *, actor: str) -> ResolutionRequest:
        """Claim the resolution and queue it; a second request is told it is under way."""
        incident = await self._store.get(incident_id)
        if incident is None:
            return ResolutionRequest(False, "not_found", f"There is no incident {incident_id}.")
        if not incident.is_open:
            return await self._already_resolved(incident)
        now = self._clock.now()
        claimed = False

        def claim(current: Incident) -> Incident | None:
            nonlocal claimed
            claimed = current.is_open and REQUESTED not in current.resolution_steps
            if not claimed:
                return None
            steps = {**current.resolution_steps, REQUESTED: {"by": actor, "at": isoformat(now)}}
            return current.update(resolution_steps=steps, updated_at=now)

        incident = await self._steps.mutate(incident_id, claim)
        if not incident.is_open:
            return await self._already_resolved(incident)
        # Sent on every request: deduplicated while one is pending, and it revives a claim whose
        # message a crash lost between the claim and the send.
        try:
            await self._enqueue(incident_id, str(incident.resolution_steps[REQUESTED]["by"]))
        except Exception as exc:
            log.exception("resolution.enqueue_failed", incident_id=incident_id)
            return ResolutionRequest(
                False,
                "failed",
                f"Resolving {incident_id} could not be queued ({describe(exc)}): "
                "send `resolve` again.",
            )
        if claimed:
            return ResolutionRequest(
                True,
                "queued",
                f"Resolving {incident_id}: the postmortem draft, a resolved status update for "
                "the IC to approve and the room's archive follow in the war room.",
            )
        entry = incident.resolution_steps[REQUESTED]
        return ResolutionRequest(
            False,
            "already_resolving",
            f"Incident {incident_id} is already being resolved "
            f"(asked by {entry.get('by')} at {entry.get('at')}).",
        )

    async def _already_resolved(self, incident: Incident) -> ResolutionRequest:
        pending = pending_steps(incident)
        text = f"Incident {incident.id} is already resolved"
        if incident.resolved_at is not None:
            text += f" ({isoformat(incident.resolved_at)})"
        if incident.postmortem is not None:
            text += f"; postmortem draft: {incident.postmortem.url}"
        if pending:
            await self._enqueue(incident.id, "system")
            text += f". Still to finish: {', '.join(pending)} (queued again)"
        return ResolutionRequest(False, "already_resolved", text + ".")

    async def _enqueue(self, incident_id: str, actor: str) -> bool:
        return await self._queue.send(
            QueueMessage(
                type=EventType.INCIDENT_RESOLUTION.value,
                payload={"incident_id": incident_id, "actor": actor},
            ),
            group_id=incident_id,
            dedup_id=f"resolve:{incident_id}",
        )

    async def resume_unfinished(self, *, every: timedelta, limit: int = 500) -> int:
        """Queue again every resolution that was asked for but still has steps left: a vendor
        outage outlasting the queue's retries (Linear down for an hour) dead-letters the message,
        and the postmortem must still be filed without anyone sending `resolve` again.

        Run by the processor's upkeep every `every`. A resolution is queued again when its age
        crosses 2, 4, 8, 16... minutes (about a dozen tries over a week), so a step that keeps
        failing does not post its failure in the room every minute; several processors sending
        at the same crossing share one dedup id."""
        now = self._clock.now()
        queued = 0
        for incident in await self._store.recent(limit=limit):
            asked = requested_at(incident)
            if asked is None or not pending_steps(incident) or now - asked > REPAIR_WINDOW:
                continue
            bucket = _doubling_bucket(now - asked)
            if bucket == 0 or bucket == _doubling_bucket(now - asked - every):
                continue
            sent = await self._queue.send(
                QueueMessage(
                    type=EventType.INCIDENT_RESOLUTION.value,
                    payload={"incident_id": incident.id, "actor": "system"},
                ),
                group_id=incident.id,
                dedup_id=f"resolve:{incident.id}:repair:{bucket}",
            )
            queued += int(sent)
        return queued

    async def ask_to_resolve(self, incident_id: str) -> bool:
        """After the alert source resolved: ask the IC in the room whether to resolve.

        Resolution stays a human decision. Asked once per mitigation; False when there is no
        open incident with a room to ask in.
        """
        incident = await self._store.get(incident_id)
        if incident is None or not incident.is_open or incident.channel is None:
            return False
        mark = incident.mitigated_at or self._clock.now()
        ic = self._chat.mention(incident_person(incident, incident.ic)) if incident.ic else "IC"
        await self._chat.post(incident.channel.id, resolve_question(incident, mark=mark, ic=ic))
        return True

    # -- the saga --------------------------------------------------------------------------

    async def resolve(self, incident_id: str, actor: str = "system") -> Incident | None:
        """Run (or resume) the resolution; raises ResolutionIncomplete if a step must be retried."""
        incident = await self._store.get(incident_id)
        if incident is None:
            log.error("resolution.unknown_incident", incident_id=incident_id)
            return None
        if not pending_steps(incident):
            return incident
        actor = actor.strip() or "system"
        if requested_at(incident) is None:
            incident = await self._steps.record(incident_id, STARTED, {"by": actor})
        failures: dict[str, str] = {}
        runners: dict[Step, Callable[[Incident, str], Awaitable[None]]] = {
            Step.CHANGES: self._changes,
            Step.FOLLOWUPS: self._followups,
            Step.POSTMORTEM: self._postmortem,
            Step.REMINDERS: self._stop_reminders,
            Step.RESOLVED_DRAFT: self._resolved_draft,
            Step.PULSE: self._pulse,
            Step.RESOLVED: self._mark_resolved,
            Step.ANNOUNCED: self._announce,
            Step.ARCHIVED: self._archive,
        }
        for step in pending_steps(incident):
            try:
                await runners[step](incident, actor)
                log.info("resolution.step_done", incident_id=incident_id, step=step.value)
            except Exception as exc:
                failures[step.value] = describe(exc)
                log.exception("resolution.step_failed", incident_id=incident_id, step=step.value)
                await self._say(
                    incident,
                    f"Resolving: the {step.value.replace('_', ' ')} step failed "
                    f"({describe(exc)}). It will be retried.",
                )
            incident = await self._steps.require(incident_id)
        if failures:
            raise ResolutionIncomplete(
                f"incident {incident_id}: "
                + "; ".join(f"{step} failed ({why})" for step, why in failures.items())
            )
        return incident

    async def _changes(self, incident: Incident, actor: str) -> None:
        since = incident.created_at - self._lookback
        try:
            changes = await self._code_host.recent_changes(
                service=incident.service, since=since, until=self._clock.now()
            )
        except Exception as exc:
            log.warning("resolution.changes_failed", incident_id=incident.id, exc_info=True)
            await self._say(
                incident,
                f"Recent code changes could not be listed ({describe(exc)}); the postmortem "
                "draft goes without them.",
            )
            await self._steps.record(
                incident.id, Step.CHANGES, {"changes": [], "error": describe(exc)}
            )
            return
        changes = sorted(changes, key=lambda c: utc(c.at), reverse=True)[:MAX_CHANGES]
        await self._steps.record(
            incident.id,
            Step.CHANGES,
            {"changes": [c.model_dump(mode="json") for c in changes], "count": len(changes)},
        )

    async def _followups(self, incident: Incident, actor: str) -> None:
        await file_followups(incident, issues=self._issues, steps=self._steps)

    async def _postmortem(self, incident: Incident, actor: str) -> None:
        if incident.is_drill:
            # a rehearsal files no postmortem: a nightly drill would leave one a night to triage
            await self._steps.record(incident.id, Step.POSTMORTEM, {"skipped": "drill"})
            return
        if Step.FOLLOWUPS.value not in incident.resolution_steps:
            # The postmortem is filed once and links every follow-up's issue, so it waits for
            # them: the follow-ups step failed in this very run (steps run in order), the room
            # was told, and the retry of that failure files both.
            log.info("resolution.postmortem_waits_for_followups", incident_id=incident.id)
            return
        await file_postmortem(
            incident,
            issues=self._issues,
            writer=self._writer,
            chat=self._chat,
            clock=self._clock,
            steps=self._steps,
            say=self._say,
        )
        self._metrics.postmortem_created(severity=incident.severity.value)

    async def _stop_reminders(self, incident: Incident, actor: str) -> None:
        await self._nudges.delete(incident.id)
        await self._sla.delete(incident.id)
        await self._steps.record(incident.id, Step.REMINDERS, {})

    async def _resolved_draft(self, incident: Incident, actor: str) -> None:
        """The customer-facing 'resolved' update, as a draft: the IC approves it like any other,
        and nothing here publishes it."""
        draft = next((d for d in incident.drafts if d.kind is DraftKind.RESOLVED), None)
        if draft is None:
            draft = await self._gate.create_draft(
                incident.id, actor=actor, kind=DraftKind.RESOLVED, by_resolution=True
            )
        await self._post(incident, draft_card(incident, draft))
        await self._steps.record(
            incident.id, Step.RESOLVED_DRAFT, {"draft_id": draft.id, "version": draft.version}
        )

    async def _pulse(self, incident: Incident, actor: str) -> None:
        if incident.channel is None:
            await self._steps.record(incident.id, Step.PULSE, {"skipped": "no war room"})
            return
        message_id = await self._chat.post(incident.channel.id, pulse_question(incident))
        await self._steps.record(incident.id, Step.PULSE, {"message_id": message_id})

    async def _mark_resolved(self, incident: Incident, actor: str) -> None:
        now = self._clock.now()
        resolved_at = requested_at(incident) or now

        resolved_now = False

        def resolve(current: Incident) -> Incident | None:
            nonlocal resolved_now
            resolved_now = current.status is not IncidentStatus.RESOLVED
            if not resolved_now:
                return None
            # the resolved stage is reached here, never by `stage resolved`
            return current.transition(IncidentStatus.RESOLVED, at=resolved_at).update(
                stage=PublicStatus.RESOLVED, updated_at=now
            )

        saved = await self._steps.mutate(incident.id, resolve)
        if resolved_now:  # once per incident, not on a resumed run
            self._metrics.incident_resolved(severity=incident.severity.value)
        await self._steps.append(
            incident.id,
            A.INCIDENT_RESOLVED,
            f"incident-resolved:{incident.id}",
            actor=actor,
            data={"resolved_at": isoformat(saved.resolved_at or resolved_at)},
        )
        await self._say(
            incident,
            f"Incident resolved (asked by {actor}).",
            key=f"{incident.id}:resolved",
        )
        await self._steps.record(incident.id, Step.RESOLVED, {})

    async def _announce(self, incident: Incident, actor: str) -> None:
        if self._announcements is None:
            await self._steps.record(
                incident.id, Step.ANNOUNCED, {"skipped": "no channel configured"}
            )
            return
        text = f"Resolved: {incident.severity.value} {shortened(incident.title)} ({incident.id})."
        if incident.postmortem is not None:
            text += f" Postmortem draft: {incident.postmortem.url}"
        try:
            message_id = await self._chat.post(
                self._announcements,
                ChatMessage(text=text, key=f"{incident.id}:resolved-announcement"),
            )
        except Exception as exc:
            log.warning("resolution.announce_failed", incident_id=incident.id, exc_info=True)
            await self._say(incident, f"The resolution could not be announced ({describe(exc)}).")
            await self._steps.record(incident.id, Step.ANNOUNCED, {"error": describe(exc)})
            return
        await self._steps.record(incident.id, Step.ANNOUNCED, {"message_id": message_id})

    async def _archive(self, incident: Incident, actor: str) -> None:
        channel = incident.channel
        if channel is None:
            await self._steps.record(incident.id, Step.ARCHIVED, {"skipped": "no war room"})
            return
        await self._say(
            incident, "This war room is being archived.", key=f"{incident.id}:archiving"
        )
        try:
            await self._chat.archive(channel.id)
        except Exception as exc:
            log.warning("resolution.archive_failed", incident_id=incident.id, exc_info=True)
            await self._steps.append(
                incident.id,
                A.WAR_ROOM_ARCHIVE_FAILED,
                f"war-room-archive-failed:{incident.id}",
                actor="system",
                data={"channel_id": channel.id, "error": describe(exc)},
            )
            await self._say(
                incident,
                f"Archiving this war room failed ({describe(exc)}): please archive it by hand.",
                key=f"{incident.id}:archive-failed",
            )
            await self._steps.record(incident.id, Step.ARCHIVED, {"error": describe(exc)})
            return
        await self._steps.append(
            incident.id,
            A.WAR_ROOM_ARCHIVED,
            f"war-room-archived:{incident.id}",
            actor="system",
            data={"channel_id": channel.id},
        )
        await self._steps.record(incident.id, Step.ARCHIVED, {"channel_id": channel.id})

    # -- plumbing --------------------------------------------------------------------------

    async def _say(self, incident: Incident, text: str, *, key: str | None = None) -> None:
        await self._post(incident, ChatMessage(text=text, key=key))

    async def _post(self, incident: Incident, message: ChatMessage) -> None:
        """Tell the war room; a chat failure is logged and never stops the resolution."""
        if incident.channel is None:
            return
        try:
            await self._chat.post(incident.channel.id, message)
        except Exception:
            log.warning("resolution.room_message_failed", incident_id=incident.id, exc_info=True)
