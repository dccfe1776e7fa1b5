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

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Literal, Protocol

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.context import Change
from incident_response.domain.errors import ConcurrentUpdate, IncidentResponseError, NotFound
from incident_response.domain.incident import Incident, IncidentStatus, PostmortemRef
from incident_response.domain.messages import EventType, QueueMessage
from incident_response.domain.status_update import DraftKind, StatusDraft
from incident_response.ports import (
    AuditLog,
    Chat,
    CodeHost,
    EventQueue,
    IncidentStore,
    IssueTracker,
)
from incident_response.services.draft_card import draft_card
from incident_response.services.postmortem import PostmortemWriter, postmortem_title, skeleton
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

A = AuditEventType
CAS_ATTEMPTS = 20
REQUESTED = "requested"
STARTED = "started"
PULSE_ACTION = "pulse.rate"
RESOLVE_ACTION = "incident.resolve"
MAX_CHANGES = 50
POSTMORTEM_BOOKMARK = "Postmortem"


class Step(StrEnum):
    """The saga's steps, in the order they run."""

    CHANGES = "changes"
    POSTMORTEM = "postmortem"
    REMINDERS = "reminders"
    RESOLVED_DRAFT = "resolved_draft"
    PULSE = "pulse"
    RESOLVED = "resolved"
    ANNOUNCED = "announced"
    ARCHIVED = "archived"


class DraftMaker(Protocol):
    async def create_draft(
        self, incident_id: str, *, actor: str, kind: DraftKind = DraftKind.UPDATE
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


def _mention(incident: Incident, email: str) -> str:
    for responder in incident.responders:
        if responder.email == email and responder.chat_id:
            return f"<@{responder.chat_id}>"
    return email


def describe(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


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
    ) -> None:
        """`announcements_channel` is the chat channel id resolutions are announced in."""
        self._store = store
        self._audit = audit
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

        incident = await self._mutate(incident_id, claim)
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

    async def ask_to_resolve(self, incident_id: str) -> bool:
        """After the alert source resolved: ask the IC in the room whether to resolve.

        Resolution stays a human decision. Asked once per mitigation; False when there is no
        open incident with a room to ask in.
        """
        incident = await self._store.get(incident_id)
        if incident is None or not incident.is_open or incident.channel is None:
            return False
        who = _mention(incident, incident.ic) if incident.ic else "IC"
        mark = incident.mitigated_at or self._clock.now()
        await self._chat.post(
            incident.channel.id,
            ChatMessage(
                text=f"{who}: the alert source reports the problem is gone. Resolve the "
                "incident? Resolving files the postmortem draft, drafts the resolved status "
                "update for your approval and archives this room.",
                buttons=(
                    ChatButton(
                        action=RESOLVE_ACTION,
                        label="Resolve incident",
                        value=incident.id,
                        style=ButtonStyle.PRIMARY,
                        confirm="Resolve the incident and archive this war room?",
                    ),
                ),
                key=f"{incident.id}:ask-to-resolve:{isoformat(mark)}",
            ),
        )
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
            incident = await self._record(incident_id, STARTED, {"by": actor})
        failures: dict[str, str] = {}
        runners: dict[Step, Callable[[Incident, str], Awaitable[None]]] = {
            Step.CHANGES: self._changes,
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
            incident = await self._require(incident_id)
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
            await self._record(incident.id, Step.CHANGES, {"changes": [], "error": describe(exc)})
            return
        changes = sorted(changes, key=lambda c: utc(c.at), reverse=True)[:MAX_CHANGES]
        await self._record(
            incident.id,
            Step.CHANGES,
            {"changes": [c.model_dump(mode="json") for c in changes], "count": len(changes)},
        )

    async def _postmortem(self, incident: Incident, actor: str) -> None:
        filed = await self._issues.find_postmortem(incident.id)
        drafted_by = "found filed"
        if filed is None:
            raw = incident.resolution_steps.get(Step.CHANGES.value, {}).get("changes", [])
            changes = [Change.model_validate(c) for c in raw]
            context = await self._writer.context(
                incident, changes=changes, resolved_at=requested_at(incident)
            )
            try:
                body = await self._writer.draft(context)
                drafted_by = "llm"
            except Exception as exc:
                log.warning("resolution.postmortem_llm_failed", incident_id=incident.id)
                body = skeleton(context, problem=describe(exc))
                drafted_by = "skeleton"
                await self._say(
                    incident,
                    f"The postmortem drafter failed ({describe(exc)}): the draft holds the "
                    "facts only.",
                )
            filed = await self._issues.file_postmortem(
                key=incident.id, title=postmortem_title(incident), body=body
            )
        now = self._clock.now()
        asked = requested_at(incident) or now
        seconds = round((now - asked).total_seconds(), 3)
        ref = PostmortemRef(id=filed.id, url=filed.url)
        await self._mutate(
            incident.id,
            lambda i: None if i.postmortem == ref else i.update(postmortem=ref, updated_at=now),
        )
        await self._append(
            incident.id,
            A.POSTMORTEM_CREATED,
            f"postmortem-created:{incident.id}",
            actor="system",
            data={
                "postmortem_id": filed.id,
                "url": filed.url,
                "resolve_to_postmortem_seconds": seconds,
                "drafted_by": drafted_by,
            },
        )
        await self._say(
            incident,
            f"Postmortem draft filed: {filed.url}",
            key=f"{incident.id}:postmortem-filed",
        )
        bookmarked = await self._bookmark_postmortem(incident, filed.url)
        await self._record(
            incident.id,
            Step.POSTMORTEM,
            {
                "id": filed.id,
                "url": filed.url,
                "resolve_to_postmortem_seconds": seconds,
                "bookmark": bookmarked,
            },
        )

    async def _bookmark_postmortem(self, incident: Incident, url: str) -> dict[str, Any]:
        """The draft one click away in the room (while it is still open: archiving comes
        later). Adapters add a URL once, so a resumed step does not bookmark it twice."""
        if incident.channel is None:
            return {"ok": False, "error": "no war room"}
        try:
            await self._chat.add_bookmark(incident.channel.id, title=POSTMORTEM_BOOKMARK, url=url)
        except Exception as exc:
            log.warning("resolution.bookmark_failed", incident_id=incident.id, exc_info=True)
            return {"ok": False, "error": describe(exc)}
        return {"ok": True}

    async def _stop_reminders(self, incident: Incident, actor: str) -> None:
        await self._nudges.delete(incident.id)
        await self._sla.delete(incident.id)
        await self._record(incident.id, Step.REMINDERS, {})

    async def _resolved_draft(self, incident: Incident, actor: str) -> None:
        """The customer-facing 'resolved' update, as a draft: the IC approves it like any other,
        and nothing here publishes it."""
        draft = next((d for d in incident.drafts if d.kind is DraftKind.RESOLVED), None)
        if draft is None:
            draft = await self._gate.create_draft(incident.id, actor=actor, kind=DraftKind.RESOLVED)
        await self._post(incident, draft_card(incident, draft))
        await self._record(
            incident.id, Step.RESOLVED_DRAFT, {"draft_id": draft.id, "version": draft.version}
        )

    async def _pulse(self, incident: Incident, actor: str) -> None:
        if incident.channel is None:
            await self._record(incident.id, Step.PULSE, {"skipped": "no war room"})
            return
        message_id = await self._chat.post(
            incident.channel.id,
            ChatMessage(
                text="How well was this incident run? Rate it from 1 (poorly) to 5 (very well); "
                "each person's rating counts once. `/incident-response rate N` works too.",
                buttons=tuple(
                    ChatButton(action=PULSE_ACTION, label=str(n), value=str(n)) for n in range(1, 6)
                ),
                key=f"{incident.id}:pulse",
            ),
        )
        await self._record(incident.id, Step.PULSE, {"message_id": message_id})

    async def _mark_resolved(self, incident: Incident, actor: str) -> None:
        now = self._clock.now()
        resolved_at = requested_at(incident) or now

        def resolve(current: Incident) -> Incident | None:
            if current.status is IncidentStatus.RESOLVED:
                return None
            return current.transition(IncidentStatus.RESOLVED, at=resolved_at).update(
                updated_at=now
            )

        saved = await self._mutate(incident.id, resolve)
        await self._append(
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
        await self._record(incident.id, Step.RESOLVED, {})

    async def _announce(self, incident: Incident, actor: str) -> None:
        if self._announcements is None:
            await self._record(incident.id, Step.ANNOUNCED, {"skipped": "no channel configured"})
            return
        text = f"Resolved: {incident.severity.value} {incident.title} ({incident.id})."
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
            await self._record(incident.id, Step.ANNOUNCED, {"error": describe(exc)})
            return
        await self._record(incident.id, Step.ANNOUNCED, {"message_id": message_id})

    async def _archive(self, incident: Incident, actor: str) -> None:
        channel = incident.channel
        if channel is None:
            await self._record(incident.id, Step.ARCHIVED, {"skipped": "no war room"})
            return
        await self._say(
            incident, "This war room is being archived.", key=f"{incident.id}:archiving"
        )
        try:
            await self._chat.archive(channel.id)
        except Exception as exc:
            log.warning("resolution.archive_failed", incident_id=incident.id, exc_info=True)
            await self._append(
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
            await self._record(incident.id, Step.ARCHIVED, {"error": describe(exc)})
            return
        await self._append(
            incident.id,
            A.WAR_ROOM_ARCHIVED,
            f"war-room-archived:{incident.id}",
            actor="system",
            data={"channel_id": channel.id},
        )
        await self._record(incident.id, Step.ARCHIVED, {"channel_id": channel.id})

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

    async def _append(
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

    async def _record(self, incident_id: str, step: str, result: dict[str, Any]) -> Incident:
        now = self._clock.now()
        entry = {**result, "at": isoformat(now)}
        return await self._mutate(
            incident_id,
            lambda i: i.update(
                resolution_steps={**i.resolution_steps, step: entry}, updated_at=now
            ),
        )

    async def _require(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        return incident

    async def _mutate(
        self, incident_id: str, change: Callable[[Incident], Incident | None]
    ) -> Incident:
        for _ in range(CAS_ATTEMPTS):
            current = await self._require(incident_id)
            updated = change(current)
            if updated is None:
                return current
            try:
                return await self._store.save(updated)
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(f"incident {incident_id} kept changing; resolution will retry")
