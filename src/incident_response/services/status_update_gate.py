"""The StatusUpdateGate: the only path from a draft to the public status page.

Nothing reaches customers unless the incident commander (or an approver, read live from the
Directory) approved that exact text, and each approved version is posted at most once. Who may
draft, edit, reject or approve is the one policy (`domain.authority`), asked through Authority.
Approval is two-phase:

1. decide (pure, `domain.approval.approval_decision`), refusing with reasons;
2. record the approval durably in the audit log (keyed by draft id, version and content hash) and
   move the draft to APPROVED with a compare-and-set on the incident. That CAS is what makes a
   double approval post once: the loser reloads and reports the winner's result;
3. re-read the audit log and publish only if an approval record binds this draft id, version and
   the hash of the very text about to go out;
4. publish under the key `<draft id>:v<version>`, asking the status page first whether that key
   is already out, so a crash between publish and record never posts twice;
5. record STATUSPAGE_PUBLISHED and STATUS_UPDATE_SENT, then mark the draft PUBLISHED.

Once a change is recorded the gate tells its observers (the room's line, the checklist's
automatic tick), best effort. A draft left APPROVED (crash, vendor outage) is finished by
`recover()`. Publishing a draft
supersedes every older pending draft of the incident (recorded as STATUSPAGE_DRAFT_SUPERSEDED):
a draft never publishes after a newer one, so approving a superseded draft is a conflict (409)
naming the newer one. Newer pending drafts stay DRAFT.

The approval covers everything the page will show (text, public name, stage, impact,
components): all are fields of the draft and of its content hash, and publishing reads only them.
"""

from __future__ import annotations

import asyncio
import secrets
import weakref
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol, TypeVar

from incident_response.domain.approval import (
    ApprovalDecision,
    PublishOutcome,
    RecoveryReport,
    approval_binds,
    approval_decision,
    approval_event,
    approved,
    body_problems,
    draft_event,
    edited_fields,
    maintenance_request,
    may_approve,
    missing_draft_events,
    proposed_public_fields,
    public_record,
    public_status_for,
    publish_request,
    published,
    reason_problems,
    reusable_draft,
    revised,
    superseded_by,
    superseding,
    with_chosen_statuses,
    with_draft,
)
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.authority import Action, decide
from incident_response.domain.clock import Clock, isoformat
from incident_response.domain.context import PublicStatus, PublishedUpdate
from incident_response.domain.errors import IncidentResponseError, NotFound
from incident_response.domain.incident import Incident, StatusPageRef
from incident_response.domain.public import ComponentMap
from incident_response.domain.status_update import DraftKind, DraftStatus, StatusDraft
from incident_response.domain.text import clean_text
from incident_response.ports import (
    LLM,
    NO_METRICS,
    AuditLog,
    Chat,
    IncidentStore,
    Metrics,
    StatusContext,
    StatusPage,
)
from incident_response.services.authority import Authority, NotPermitted
from incident_response.services.compare_and_set import mutate
from incident_response.services.war_room_topic import refresh_topic
from incident_response.telemetry.logging import get_logger

__all__ = [
    "ApprovalDecision",
    "ApprovalRefused",
    "DraftNotFound",
    "DraftSuperseded",
    "InvalidDraft",
    "PublishFailed",
    "PublishNotPermitted",
    "PublishOutcome",
    "RecoveryReport",
    "StaleDraftVersion",
    "StatusUpdateGate",
    "approval_decision",
]

T = TypeVar("T")
Change = Callable[[Incident], Awaitable[tuple[Incident | None, T]]]

# how long one observer may take to hear of a draft's change before the gate goes on without it
OBSERVER_DEADLINE_SECONDS = 10.0

log = get_logger(__name__)


class DraftObserver(Protocol):
    """Hears what happened to a draft once it is recorded: STATUSPAGE_DRAFT_CREATED,
    STATUSPAGE_DRAFT_REVISED, STATUSPAGE_APPROVAL_REJECTED or STATUSPAGE_PUBLISHED (the room's
    lines, the checklist's automatic tick). Best effort: a failure is logged, never the gate's."""

    async def draft_changed(
        self, change: AuditEventType, incident_id: str, draft: StatusDraft, *, actor: str
    ) -> None: ...


class ApprovalRefused(NotPermitted):
    """The actor may not approve (or reject) this draft now; `reasons` says why (HTTP 403)."""

    def __init__(self, reasons: Sequence[str]) -> None:
        super().__init__(reasons, prefix="approval refused")


class StaleDraftVersion(IncidentResponseError):
    """The draft changed since the person looked at it (HTTP 409): reload and review again."""

    def __init__(self, draft_id: str, *, given: int, current: int) -> None:
        self.draft_id, self.given, self.current = draft_id, given, current
        super().__init__(
            f"draft {draft_id} is at version {current}, not {given}: "
            "it changed since you read it; review the current text"
        )


class DraftSuperseded(IncidentResponseError):
    """A newer draft was published after this one (HTTP 409): this one can never publish."""

    def __init__(self, draft_id: str, *, newer: str, verb: str = "approved") -> None:
        self.draft_id, self.newer = draft_id, newer
        super().__init__(
            f"draft {draft_id} was superseded by draft {newer}, published after it was written; "
            f"it can no longer be {verb}: review the newer update instead"
        )


class PublishNotPermitted(IncidentResponseError):
    """No approval record binds this exact text: nothing was published."""


class PublishFailed(IncidentResponseError):
    """The status page failed; the approval stands and recovery will publish it later."""

    def __init__(self, message: str, *, draft_id: str, version: int) -> None:
        self.draft_id, self.version = draft_id, version
        super().__init__(message)


class DraftNotFound(NotFound):
    """The incident has no draft with that id."""


class InvalidDraft(IncidentResponseError):
    """The text or the request is not acceptable; nothing was changed."""


# a drill rehearses everything but the public page: its drafts are never approved for it
DRILL_REFUSAL = (
    "incident {incident} is a drill (label drill=true): its drafts never reach the public "
    "status page; practise the wording here, nothing is published"
)


def new_draft_id() -> str:
    """Globally unique, because the status page key (`<draft id>:v<n>`) must be."""
    return "d" + secrets.token_hex(6)


class PublishedListener(Protocol):
    """Told of every update once it is on the page and recorded, before the draft is marked
    PUBLISHED: a failure leaves the draft APPROVED, so recovery tells it again (at least once)."""

    async def published(self, draft: StatusDraft, update: PublishedUpdate) -> None: ...


class StatusUpdateGate:
    """Drafts, edits, rejects, approves and publishes customer-facing status updates.

    `recovery_grace` is how long an APPROVED draft is left to the worker that approved it before
    recovery (or a repeated approval) finishes it; it must exceed the longest publish call, or
    two processes could both post. Within one gate, a per-incident lock serialises publishing.
    """

    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        status_page: StatusPage,
        llm: LLM,
        clock: Clock,
        authority: Authority,
        components: ComponentMap | None = None,
        recovery_grace: timedelta = timedelta(seconds=60),
        max_attempts: int = 20,
        new_id: Callable[[], str] = new_draft_id,
        observers: Sequence[DraftObserver] = (),
        chat: Chat | None = None,
        on_published: PublishedListener | None = None,
        metrics: Metrics = NO_METRICS,
    ) -> None:
        self._store = store
        self._audit = audit
        self._status_page = status_page
        self._llm = llm
        self._clock = clock
        self._authority = authority
        self._components = components or ComponentMap()
        self._grace = recovery_grace
        self._max_attempts = max_attempts
        self._new_id = new_id
        self._observers = tuple(observers)
        self._chat = chat  # only to keep the room's topic on the published stage
        self._on_published = on_published
        self._metrics = metrics
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    # -- drafting --------------------------------------------------------------------------

    async def create_draft(
        self,
        incident_id: str,
        *,
        actor: str,
        kind: DraftKind = DraftKind.UPDATE,
        by_resolution: bool = False,
        via: str | None = None,
    ) -> StatusDraft:
        """A new draft with proposed public fields, or the newest pending draft of this kind when
        nobody edited it and it already says exactly what the drafter wrote now; if the policy
        lets `actor` draft. `by_resolution` is the resolution saga's own "resolved" draft: the
        policy allowed the resolve when it was asked, and a step of it must not fail later
        because its requester left (or was "system")."""
        _require_actor(actor)
        incident = await self._incident(incident_id)
        if not by_resolution:
            await self._authority.require(Action.DRAFT, incident, actor)
        published_bodies = tuple(
            d.body for d in incident.drafts if d.status is DraftStatus.PUBLISHED
        )
        body = await self._llm.draft_status_update(
            StatusContext(
                incident=incident,
                public_status=public_status_for(incident, kind).value,
                previous_updates=published_bodies,
            )
        )
        body = clean_text(body)  # the drafter's text is text handed to us like any other
        problems = body_problems(body)
        if problems:
            raise InvalidDraft("the drafter's text cannot be used: " + "; ".join(problems))
        draft_id = self._new_id()

        async def add(current: Incident) -> tuple[Incident | None, tuple[StatusDraft, bool]]:
            nonlocal draft_id
            fields = proposed_public_fields(current, kind, self._components)
            same = reusable_draft(current, kind, body, fields)
            if same is not None:
                return None, (same, False)
            while current.draft(draft_id) is not None:
                draft_id = self._new_id()
            now = self._clock.now()
            draft = StatusDraft(
                id=draft_id,
                kind=kind,
                body=body,
                **fields,
                content_hash="",
                created_by=actor,
                created_at=now,
                updated_at=now,
            ).sealed()
            return with_draft(current, draft, now), (draft, True)

        _, (draft, created) = await self._mutate(incident_id, add)
        if created:
            await self._record(
                AuditEventType.STATUSPAGE_DRAFT_CREATED,
                incident_id,
                draft,
                actor=actor,
                **public_record(draft),
                **surface(via),
            )
            await self._tell(AuditEventType.STATUSPAGE_DRAFT_CREATED, incident_id, draft, actor)
        return draft

    async def edit(
        self,
        incident_id: str,
        draft_id: str,
        *,
        actor: str,
        expected_version: int,
        body: str | None = None,
        title: str | None = None,
        stage: str | None = None,
        impact: str | None = None,
        components: Sequence[str] | None = None,
        component_statuses: Mapping[str, str] | None = None,
        via: str | None = None,
    ) -> StatusDraft:
        """A new version with the fields given (the rest kept); the same content as now changes
        nothing. Any invalid field refuses the whole edit. `component_statuses` (component name
        -> degraded_performance, partial_outage, major_outage or operational) sets the status
        the page shows for components the update names. `via` names the surface in the audit
        record when it is not the usual people's one (an AI agent's "mcp")."""
        _require_actor(actor)
        changes, problems = edited_fields(
            body=body, title=title, stage=stage, impact=impact, components=components
        )
        if problems:
            raise InvalidDraft("; ".join(problems))
        who = await self._authority.actor(actor)

        async def revise(current: Incident) -> tuple[Incident | None, StatusDraft]:
            permission = decide(Action.DRAFT, current, who)
            if not permission.allowed:
                raise NotPermitted(permission.reasons)
            draft = _open_draft(current, draft_id, "edited")
            if draft.version != expected_version:
                raise StaleDraftVersion(draft_id, given=expected_version, current=draft.version)
            settled, wrong = with_chosen_statuses(draft, changes, component_statuses)
            if wrong:
                raise InvalidDraft("; ".join(wrong))
            if all(getattr(draft, k) == v for k, v in settled.items()):
                return None, draft
            now = self._clock.now()
            new = revised(draft, settled, now)
            return with_draft(current, new, now), new

        _, draft = await self._mutate(incident_id, revise)
        if draft.version != expected_version:
            await self._record(
                AuditEventType.STATUSPAGE_DRAFT_REVISED,
                incident_id,
                draft,
                actor=actor,
                **public_record(draft),
                **surface(via),
            )
            await self._tell(AuditEventType.STATUSPAGE_DRAFT_REVISED, incident_id, draft, actor)
        return draft

    async def reject(
        self, incident_id: str, draft_id: str, *, actor: str, reason: str = ""
    ) -> StatusDraft:
        reason = clean_text(reason).strip()
        problems = reason_problems(reason)
        if problems:
            raise InvalidDraft("; ".join(problems))
        who = await self._authority.actor(actor)

        async def refuse(current: Incident) -> tuple[Incident | None, StatusDraft]:
            permission = decide(Action.REJECT, current, who)
            if not permission.allowed:
                raise ApprovalRefused(permission.reasons)
            draft = _open_draft(current, draft_id, "rejected")
            now = self._clock.now()
            new = draft.model_copy(
                update={
                    "status": DraftStatus.REJECTED,
                    "rejected_reason": reason or None,
                    "updated_at": now,
                }
            )
            return with_draft(current, new, now), new

        _, draft = await self._mutate(incident_id, refuse)
        await self._record(
            AuditEventType.STATUSPAGE_APPROVAL_REJECTED,
            incident_id,
            draft,
            actor=actor,
            reason=reason,
        )
        await self._tell(AuditEventType.STATUSPAGE_APPROVAL_REJECTED, incident_id, draft, actor)
        return draft

    # -- approval and publishing -----------------------------------------------------------

    async def approve_and_publish(
        self, incident_id: str, draft_id: str, *, version: int, actor: str
    ) -> PublishOutcome:
        """Approve `version` of the draft and publish exactly that text, once.

        Approving a version already approved or published reports where it stands (the loser
        of a double click); it publishes only when it is overdue (a crashed earlier attempt).
        """
        who = await self._authority.actor(actor)

        async def approve(current: Incident) -> tuple[Incident | None, tuple[StatusDraft, bool]]:
            draft = _draft(current, draft_id)
            if current.is_drill:
                raise ApprovalRefused([DRILL_REFUSAL.format(incident=current.id)])
            if (
                draft.status in {DraftStatus.APPROVED, DraftStatus.PUBLISHED}
                and draft.version == version
                and may_approve(current, actor=who)
            ):
                return None, (draft, False)
            decision = approval_decision(current, draft, actor=who, version=version)
            if decision.only_superseded and decision.superseded_by is not None:
                raise DraftSuperseded(draft_id, newer=decision.superseded_by)
            if decision.only_stale:
                raise StaleDraftVersion(draft_id, given=version, current=draft.version)
            if not decision.allowed:
                raise ApprovalRefused(decision.reasons)
            now = self._clock.now()
            await self._audit.append(approval_event(current, draft, actor=actor, at=now))
            new = approved(draft, actor, now)
            return with_draft(current, new, now), (new, True)

        async with self._lock(incident_id):
            incident, (draft, fresh) = await self._mutate(incident_id, approve)
            if draft.status is DraftStatus.PUBLISHED or not (fresh or self._overdue(draft)):
                return PublishOutcome.of(incident, draft, published_now=False)
            _, outcome = await self._complete(incident, draft)
            return outcome

    async def recover(self, incident_id: str) -> list[PublishOutcome]:
        """Finish every draft left APPROVED past the grace period; restore lost draft records.

        Idempotent: a draft already on the page is only recorded, never posted again.
        """
        async with self._lock(incident_id):
            incident = await self._incident(incident_id)
            have = {r.key for r in await self._audit.records(incident_id)}
            for event in missing_draft_events(incident, have):
                await self._audit.append(event)
            outcomes = []
            for draft_id in [d.id for d in incident.drafts]:
                draft = _draft(incident, draft_id)
                if draft.status is DraftStatus.APPROVED and self._overdue(draft):
                    incident, outcome = await self._complete(incident, draft)
                    outcomes.append(outcome)
            return outcomes

    async def recover_all(self, *, limit: int = 500) -> RecoveryReport:
        """`recover` over the newest incidents that are open or hold an APPROVED draft."""
        report = RecoveryReport()
        for incident in await self._store.recent(limit=limit):
            if not incident.is_open and all(
                d.status is not DraftStatus.APPROVED for d in incident.drafts
            ):
                continue
            try:
                report.outcomes.extend(await self.recover(incident.id))
            except IncidentResponseError as exc:
                report.failures[incident.id] = str(exc)
        return report

    async def publish_maintenance(self, maintenance_id: str, draft: StatusDraft) -> PublishedUpdate:
        """Publish an approved scheduled maintenance (`services.maintenance` records the
        approval): only when an approval record of `maintenance_id` binds this draft's id,
        version and hash, and never twice (`find_published` first)."""
        approvals = await self._audit.find(maintenance_id, AuditEventType.STATUSPAGE_DRAFT_APPROVED)
        if draft.kind is not DraftKind.MAINTENANCE or not approval_binds(approvals, draft):
            raise PublishNotPermitted(
                f"no approval record binds maintenance draft {draft.id} version "
                f"{draft.version} with this exact content: nothing was published"
            )
        request = maintenance_request(draft)
        try:
            update = await self._status_page.find_published(request.key)
            if update is None:
                update = await self._status_page.publish(request)
        except Exception as exc:
            raise PublishFailed(
                f"the status page did not take maintenance {maintenance_id}: "
                f"{str(exc) or type(exc).__name__}. The approval stands; approving again "
                "publishes it, never twice",
                draft_id=draft.id,
                version=draft.version,
            ) from exc
        facts: dict[str, Any] = {
            "key": update.key,
            "status_page_incident_id": update.status_page_incident_id,
            "update_id": update.update_id,
            "url": update.url,
            "published_at": isoformat(update.published_at),
        }
        actor = draft.approved_by or "system"
        for type_ in (AuditEventType.STATUSPAGE_PUBLISHED, AuditEventType.STATUS_UPDATE_SENT):
            await self._record(type_, maintenance_id, draft, actor=actor, **facts)
        if self._on_published is not None:
            await self._on_published.published(draft, update)
        return update

    # -- internals -------------------------------------------------------------------------

    async def _complete(
        self, incident: Incident, draft: StatusDraft
    ) -> tuple[Incident, PublishOutcome]:
        """Steps 3-5 for an APPROVED draft: verify the approval, publish once, record."""
        approvals = await self._audit.find(incident.id, AuditEventType.STATUSPAGE_DRAFT_APPROVED)
        if not approval_binds(approvals, draft):
            raise PublishNotPermitted(
                f"no approval record binds draft {draft.id} version {draft.version} with this "
                "exact text: nothing was published"
            )
        request = publish_request(incident, draft)
        try:
            update = await self._status_page.find_published(request.key)
            published_now = update is None
            if update is None:
                update = await self._status_page.publish(request)
        except Exception as exc:
            self._metrics.status_update_failed(severity=incident.severity.value)
            raise PublishFailed(
                f"the status page did not take draft {draft.id} version {draft.version}: "
                f"{str(exc) or type(exc).__name__}. The approval stands; recovery will publish it "
                "later, and never twice",
                draft_id=draft.id,
                version=draft.version,
            ) from exc
        if published_now:
            self._metrics.status_update_published(
                approval_seconds=_seconds_since(draft.approved_at, self._clock.now()),
                severity=incident.severity.value,
            )
        facts: dict[str, Any] = {
            "key": update.key,
            "status_page_incident_id": update.status_page_incident_id,
            "update_id": update.update_id,
            "url": update.url,
            "published_at": isoformat(update.published_at),
        }
        actor = draft.approved_by or "system"
        await self._record(
            AuditEventType.STATUSPAGE_PUBLISHED,
            incident.id,
            draft,
            actor=actor,
            **public_record(draft),
            **facts,
        )
        await self._record(
            AuditEventType.STATUS_UPDATE_SENT, incident.id, draft, actor=actor, **facts
        )
        if self._on_published is not None:
            try:
                await self._on_published.published(draft, update)
            except Exception as exc:
                raise PublishFailed(
                    f"draft {draft.id} version {draft.version} is on the status page, but its "
                    f"subscribers could not be notified yet ({str(exc) or type(exc).__name__}); "
                    "recovery will notify them, and never publish it twice",
                    draft_id=draft.id,
                    version=draft.version,
                ) from exc

        stage_before = incident.stage

        async def mark(
            current: Incident,
        ) -> tuple[Incident | None, tuple[StatusDraft, tuple[StatusDraft, ...]]]:
            nonlocal stage_before
            now = self._clock.now()
            new = published(_draft(current, draft.id), update.published_at, now)
            page = current.status_page or StatusPageRef(
                incident_id=update.status_page_incident_id, url=update.url
            )
            marked, older = superseding(with_draft(current, new, now), new, now)
            # what customers were told is where the incident stands publicly now
            stage_before = current.stage
            return marked.update(status_page=page, stage=new.stage), (new, older)

        incident, (done, older) = await self._mutate(incident.id, mark)
        if stage_before is not done.stage:
            await self._stage_moved(incident, done, stage_before)
        for gone in older:  # a crash before these is repaired by recover()
            await self._record(
                AuditEventType.STATUSPAGE_DRAFT_SUPERSEDED,
                incident.id,
                gone,
                actor="system",
                superseded_by=done.id,
                superseded_by_version=done.version,
            )
        await self._tell(AuditEventType.STATUSPAGE_PUBLISHED, incident.id, done, actor)
        return incident, PublishOutcome.of(incident, done, published_now=published_now)

    async def _stage_moved(
        self, incident: Incident, draft: StatusDraft, before: PublicStatus
    ) -> None:
        """Publishing moved the incident's stage: audited, and the room's topic follows (a chat
        failure is logged by `refresh_topic` and never fails the publication)."""
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType.STAGE_CHANGED,
                key=f"stage-changed:published:{draft.id}:v{draft.version}",
                at=self._clock.now(),
                actor=draft.approved_by or "system",
                data={
                    "from": before.value,
                    "to": draft.stage.value,
                    "by": "publish",
                    "draft_id": draft.id,
                    "version": draft.version,
                },
            )
        )
        if self._chat is not None:
            await refresh_topic(self._chat, incident)

    async def _record(
        self,
        type_: AuditEventType,
        incident_id: str,
        draft: StatusDraft,
        *,
        actor: str,
        **extra: Any,
    ) -> None:
        at = self._clock.now()
        await self._audit.append(
            draft_event(type_, incident_id, draft, actor=actor, at=at, **extra)
        )

    async def _tell(
        self, change: AuditEventType, incident_id: str, draft: StatusDraft, actor: str
    ) -> None:
        """Tell the observers; what they do is never the gate's concern (the draft's state and
        its audit record are already saved)."""
        for observer in self._observers:
            try:
                async with asyncio.timeout(OBSERVER_DEADLINE_SECONDS):
                    await observer.draft_changed(change, incident_id, draft, actor=actor)
            except Exception:
                log.warning(
                    "gate.observer_failed",
                    incident_id=incident_id,
                    draft_id=draft.id,
                    change=change.value,
                    exc_info=True,
                )

    async def _mutate(self, incident_id: str, change: Change[T]) -> tuple[Incident, T]:
        """Compare-and-set: reload, re-apply `change` and save until a save wins."""
        return await mutate(self._store, incident_id, change, attempts=self._max_attempts)

    async def _incident(self, incident_id: str) -> Incident:
        incident = await self._store.get(incident_id, consistent=True)
        if incident is None:
            raise NotFound(f"incident {incident_id} not found")
        return incident

    def _overdue(self, draft: StatusDraft) -> bool:
        approved_at = draft.approved_at or draft.updated_at
        return self._clock.now() - approved_at >= self._grace

    def _lock(self, incident_id: str) -> asyncio.Lock:
        lock = self._locks.get(incident_id)
        if lock is None:
            lock = self._locks[incident_id] = asyncio.Lock()
        return lock


def _seconds_since(moment: datetime | None, now: datetime) -> float | None:
    """Approval to publication, for approval_gate_latency (never negative)."""
    return None if moment is None else max((now - moment).total_seconds(), 0.0)


def surface(via: str | None) -> dict[str, str]:
    """The audit detail naming the surface a draft came through, when one was named."""
    return {"via": via} if via else {}


def _require_actor(actor: str) -> None:
    if not actor.strip():
        raise InvalidDraft("the acting person's e-mail is required")


def _draft(incident: Incident, draft_id: str) -> StatusDraft:
    draft = incident.draft(draft_id)
    if draft is None:
        raise DraftNotFound(f"incident {incident.id} has no draft {draft_id}")
    return draft


def _open_draft(incident: Incident, draft_id: str, verb: str) -> StatusDraft:
    draft = _draft(incident, draft_id)
    newer = superseded_by(incident, draft)
    if newer is not None:
        raise DraftSuperseded(draft_id, newer=newer, verb=verb)
    if draft.status is not DraftStatus.DRAFT:
        raise InvalidDraft(f"draft {draft_id} is {draft.status.value}: only a draft can be {verb}")
    return draft
