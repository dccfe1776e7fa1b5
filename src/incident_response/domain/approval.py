"""The approval rules for customer-facing status updates, as pure functions.

The StatusUpdateGate asks these before it writes anything, so every rule can be tested without
a store, an audit log or a status page, and a refusal always comes with the reasons a person can
act on (firefighter's `can_be_closed()` shape).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord
from incident_response.domain.authority import Action, Actor, decide
from incident_response.domain.context import Impact, PublicStatus, PublishRequest
from incident_response.domain.incident import Incident, IncidentStatus, StatusPageRef
from incident_response.domain.public import (
    ComponentMap,
    component_problems,
    components_of,
    impact_problem,
    parse_impact,
    parse_stage,
    proposed_title,
    stage_problem,
    title_problems,
    with_statuses,
)
from incident_response.domain.status_update import (
    DraftKind,
    DraftStatus,
    PublicComponent,
    StatusDraft,
    draft_hash,
)
from incident_response.domain.steering import STAGE_ORDER
from incident_response.domain.text import clean_line, clean_text, encodable

MAX_BODY_CHARS = 5000
MAX_REASON_CHARS = 1000

IMPACT_BY_SEVERITY: Mapping[Severity, Impact] = {
    Severity.P1: Impact.CRITICAL,
    Severity.P2: Impact.MAJOR,
    Severity.P3: Impact.MINOR,
    Severity.P4: Impact.NONE,
}


@dataclass(frozen=True)
class ApprovalDecision:
    """Whether an approval may go ahead, and every reason it may not.

    `stale` marks that the approver looked at an older version than the stored one: on its own
    that is a conflict to reload (HTTP 409), not a refusal (403). So is `superseded_by`, the
    newer draft published after this one was written: this one can never publish.
    """

    allowed: bool
    reasons: tuple[str, ...] = ()
    stale: bool = False
    superseded_by: str | None = None

    @property
    def only_stale(self) -> bool:
        return self.stale and len(self.reasons) == 1

    @property
    def only_superseded(self) -> bool:
        conflicts = 1 + int(self.stale)
        return self.superseded_by is not None and len(self.reasons) == conflicts


def may_approve(incident: Incident, *, actor: Actor) -> bool:
    """The IC, or an approver the roster (or the settings) names; nobody else (the policy)."""
    return decide(Action.APPROVE, incident, actor).allowed


def body_problems(body: str) -> tuple[str, ...]:
    """Why a text cannot be a status update; empty when it can."""
    if not body.strip():
        return ("the text is empty",)
    if len(body) > MAX_BODY_CHARS:
        return (f"the text has {len(body)} characters; the limit is {MAX_BODY_CHARS}",)
    if not encodable(body):
        return ("the text contains characters that are not valid Unicode",)
    return ()


def reason_problems(reason: str) -> tuple[str, ...]:
    """Why a rejection reason cannot be recorded; empty when it can (it may be empty)."""
    if len(reason) > MAX_REASON_CHARS:
        return (f"the reason has {len(reason)} characters; the limit is {MAX_REASON_CHARS}",)
    if not encodable(reason):
        return ("the reason contains characters that are not valid Unicode",)
    return ()


def approval_decision(
    incident: Incident,
    draft: StatusDraft,
    *,
    actor: Actor,
    version: int,
) -> ApprovalDecision:
    """May `actor` approve version `version` of `draft` for publication, and if not, why not."""
    reasons: list[str] = list(decide(Action.APPROVE, incident, actor).reasons)
    newer = superseded_by(incident, draft)
    if newer is not None:
        reasons.append(
            f"draft {draft.id} was superseded by draft {newer}, published after it was written: "
            "a draft never publishes after a newer one"
        )
    elif draft.status is not DraftStatus.DRAFT:
        reasons.append(f"draft {draft.id} is {draft.status.value}: only a draft can be approved")
    stale = version != draft.version
    if stale:
        reasons.append(
            f"version {version} of draft {draft.id} is stale: the draft is at version "
            f"{draft.version}; review the current text and approve that"
        )
    if draft_hash(draft) != draft.content_hash:
        reasons.append(f"the content of draft {draft.id} does not match its content hash")
    reasons.extend(body_problems(draft.body))
    reasons.extend(title_problems(draft.title))
    if not draft.components:
        reasons.append(f"draft {draft.id} names no status-page component")
    reasons.extend(component_problems(draft.component_names))
    reasons.extend(
        f"draft {other.id} is approved and still being published: it must finish first"
        for other in incident.drafts
        if other.status is DraftStatus.APPROVED and other.id != draft.id
    )
    return ApprovalDecision(
        allowed=not reasons, reasons=tuple(reasons), stale=stale, superseded_by=newer
    )


def superseded_by(incident: Incident, draft: StatusDraft) -> str | None:
    """The newer draft published after `draft` was written, if any: `draft` may never publish.

    Drafts are kept in the order they were written, so "newer" is "later in the incident".
    """
    if draft.status is DraftStatus.SUPERSEDED:
        return draft.superseded_by or "a newer draft"
    if draft.status is not DraftStatus.DRAFT:
        return None
    ids = [d.id for d in incident.drafts]
    if draft.id not in ids:
        return None
    later = incident.drafts[ids.index(draft.id) + 1 :]
    newest = [d for d in later if d.status is DraftStatus.PUBLISHED]
    return newest[-1].id if newest else None


def superseding(
    incident: Incident, published_draft: StatusDraft, now: datetime
) -> tuple[Incident, tuple[StatusDraft, ...]]:
    """Every pending draft written before `published_draft`, now superseded by it."""
    ids = [d.id for d in incident.drafts]
    older = incident.drafts[: ids.index(published_draft.id)] if published_draft.id in ids else ()
    gone = tuple(
        d.model_copy(
            update={
                "status": DraftStatus.SUPERSEDED,
                "superseded_by": published_draft.id,
                "updated_at": now,
            }
        )
        for d in older
        if d.status is DraftStatus.DRAFT
    )
    for draft in gone:
        incident = with_draft(incident, draft, now)
    return incident, gone


def proposed_public_fields(
    incident: Incident, kind: DraftKind, components: ComponentMap
) -> dict[str, Any]:
    """A new draft's public fields, for the IC to keep or change before approving.

    The name already public for this incident stays (customers follow one incident); otherwise
    the impact and the configured component. Never the alert title or the internal service name.
    """
    impact = impact_for(incident)
    affected = (components.component_for(incident.service),)
    public = [d for d in incident.drafts if d.status is DraftStatus.PUBLISHED and d.title]
    title = public[-1].title if public else proposed_title(impact, affected)
    return {
        "title": title,
        "stage": public_status_for(incident, kind),
        "impact": impact,
        "components": affected,
    }


def same_public_content(draft: StatusDraft, body: str, fields: Mapping[str, Any]) -> bool:
    return draft.body == body and all(getattr(draft, k) == v for k, v in fields.items())


def reusable_draft(
    incident: Incident, kind: DraftKind, body: str, fields: Mapping[str, Any]
) -> StatusDraft | None:
    """The newest pending draft of `kind`, if nobody edited it and it says exactly this."""
    pending = [d for d in incident.drafts if d.kind is kind and d.status is DraftStatus.DRAFT]
    if not pending or superseded_by(incident, pending[-1]) is not None:
        return None
    newest = pending[-1]
    if newest.version == 1 and same_public_content(newest, body, fields):
        return newest
    return None


def edited_fields(
    *,
    body: str | None = None,
    title: str | None = None,
    stage: str | None = None,
    impact: str | None = None,
    components: Sequence[str] | None = None,
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The draft fields an edit sets (those given), and every problem with them.

    Text is cleaned first (`domain.text`): pasted control and invisible characters are removed,
    so they can neither break the public documents nor disguise what the IC approves.
    """
    changes: dict[str, Any] = {}
    problems: list[str] = []
    if body is not None:
        body = clean_text(body)
        problems.extend(body_problems(body))
        changes["body"] = body
    if title is not None:
        title = clean_line(title)
        problems.extend(title_problems(title))
        changes["title"] = title
    if stage is not None:
        parsed_stage = parse_stage(stage)
        if parsed_stage is None:
            problems.append(stage_problem(stage))
        changes["stage"] = parsed_stage
    if impact is not None:
        parsed_impact = parse_impact(impact)
        if parsed_impact is None:
            problems.append(impact_problem(impact))
        changes["impact"] = parsed_impact
    if components is not None:
        components = [clean_line(name) for name in components]
        named: tuple[PublicComponent, ...] = components_of(components)
        if not named:
            problems.append("name at least one status-page component")
        problems.extend(component_problems(components))
        changes["components"] = named
    return changes, tuple(problems)


def with_chosen_statuses(
    draft: StatusDraft, changes: Mapping[str, Any], statuses: Mapping[str, str] | None
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """`changes` with the components' statuses settled: a component the edit names again keeps
    the status it had, a new one follows the impact, and `statuses` (name -> status) sets any
    of them. The statuses are public content: changing one is a new version to approve."""
    if statuses is None and "components" not in changes:
        return dict(changes), ()
    had = {c.name.casefold(): c.status for c in draft.components}
    named: tuple[PublicComponent, ...] = changes.get("components", draft.components)
    kept = tuple(
        c if c.status is not None else c.model_copy(update={"status": had.get(c.name.casefold())})
        for c in named
    )
    settled, problems = with_statuses(kept, statuses or {})
    return {**changes, "components": settled}, problems


def public_status_for(incident: Incident, kind: DraftKind) -> PublicStatus:
    """The word customers see beside the text, from where the incident stands: its stage (set
    with `stage` or by the last update published), at least "monitoring" once mitigated, and
    "resolved" for the resolution's update or a resolved incident."""
    if kind is DraftKind.RESOLVED or incident.status is IncidentStatus.RESOLVED:
        return PublicStatus.RESOLVED
    mitigated = incident.status is IncidentStatus.MITIGATED
    if mitigated and STAGE_ORDER[incident.stage] < STAGE_ORDER[PublicStatus.MONITORING]:
        return PublicStatus.MONITORING
    return incident.stage


def impact_for(incident: Incident) -> Impact:
    return IMPACT_BY_SEVERITY[incident.severity]


def publish_key(draft_id: str, version: int) -> str:
    """The status page's idempotency key: one public post per approved draft version."""
    return f"{draft_id}:v{version}"


EVENT_KEYS: Mapping[AuditEventType, str] = {
    AuditEventType.STATUSPAGE_DRAFT_CREATED: "statuspage-draft-created:{id}",
    AuditEventType.STATUSPAGE_DRAFT_REVISED: "statuspage-draft-revised:{id}:v{version}",
    AuditEventType.STATUSPAGE_APPROVAL_REJECTED: "statuspage-approval-rejected:{id}:v{version}",
    # an approval binds the draft, its version and the exact text
    AuditEventType.STATUSPAGE_DRAFT_APPROVED: "statuspage-draft-approved:{id}:v{version}:{hash}",
    AuditEventType.STATUSPAGE_PUBLISHED: "statuspage-published:{id}:v{version}",
    AuditEventType.STATUS_UPDATE_SENT: "status-update-sent:{id}:v{version}",
    # a draft is superseded once, by the first newer draft published
    AuditEventType.STATUSPAGE_DRAFT_SUPERSEDED: "statuspage-draft-superseded:{id}",
}


def event_key(type_: AuditEventType, draft: StatusDraft) -> str:
    """The idempotency key of a draft's audit event: writing it twice records it once."""
    return EVENT_KEYS[type_].format(id=draft.id, version=draft.version, hash=draft_hash(draft))


# -- what the gate writes: draft transitions and their audit events ------------------------------


def with_draft(incident: Incident, draft: StatusDraft, now: datetime) -> Incident:
    """The incident with `draft` replacing its namesake (or added when new)."""
    drafts = tuple(draft if d.id == draft.id else d for d in incident.drafts)
    if incident.draft(draft.id) is None:
        drafts = (*drafts, draft)
    return incident.update(drafts=drafts, updated_at=now)


def revised(draft: StatusDraft, changes: Mapping[str, Any], now: datetime) -> StatusDraft:
    """The next version with `changes` (any of body, title, stage, impact, components)."""
    return draft.model_copy(
        update={**changes, "version": draft.version + 1, "updated_at": now}
    ).sealed()


def approved(draft: StatusDraft, actor: str, now: datetime) -> StatusDraft:
    return draft.model_copy(
        update={
            "status": DraftStatus.APPROVED,
            "approved_by": actor,
            "approved_at": now,
            "updated_at": now,
        }
    )


def published(draft: StatusDraft, at: datetime, now: datetime) -> StatusDraft:
    return draft.model_copy(
        update={
            "status": DraftStatus.PUBLISHED,
            "published_at": draft.published_at or at,
            "updated_at": now,
        }
    )


def draft_event(
    type_: AuditEventType,
    incident_id: str,
    draft: StatusDraft,
    *,
    actor: str,
    at: datetime,
    **extra: Any,
) -> AuditEvent:
    """An audit event about one draft version; `content_hash` is recomputed from its content."""
    return AuditEvent(
        incident_id=incident_id,
        type=type_,
        key=event_key(type_, draft),
        at=at,
        actor=actor,
        data={
            "draft_id": draft.id,
            "version": draft.version,
            "kind": draft.kind.value,
            "content_hash": draft_hash(draft),
            **extra,
        },
    )


def approval_event(
    incident: Incident, draft: StatusDraft, *, actor: str, at: datetime
) -> AuditEvent:
    return draft_event(
        AuditEventType.STATUSPAGE_DRAFT_APPROVED,
        incident.id,
        draft,
        actor=actor,
        at=at,
        approved_by=actor,
        ic=incident.ic,
        **public_record(draft),
    )


def public_record(draft: StatusDraft) -> dict[str, Any]:
    """The public content as an audit record keeps it: what was approved or published."""
    return {
        "body": draft.body,
        "title": draft.title,
        "stage": draft.stage.value,
        "impact": draft.impact.value,
        "components": list(draft.component_names),
        "component_statuses": {
            c.name: c.status.value for c in draft.components if c.status is not None
        },
    }


def approval_binds(records: Iterable[AuditRecord], draft: StatusDraft) -> bool:
    """Whether an approval record binds this draft id, version and (recomputed) content hash."""
    body_hash = draft_hash(draft)
    return any(
        r.type is AuditEventType.STATUSPAGE_DRAFT_APPROVED
        and r.data.get("draft_id") == draft.id
        and r.data.get("version") == draft.version
        and r.data.get("content_hash") == body_hash
        for r in records
    )


def publish_request(incident: Incident, draft: StatusDraft) -> PublishRequest:
    """The first update creates the public incident; later ones add to the same one.

    Everything public comes from the approved draft; the incident gives only the page's id.
    """
    return PublishRequest(
        key=publish_key(draft.id, draft.version),
        incident_name=draft.title,
        body=draft.body,
        status=draft.stage,
        impact=draft.impact,
        components=draft.component_names,
        status_page_incident_id=incident.status_page.incident_id if incident.status_page else None,
        component_statuses={c.name: c.status for c in draft.components if c.status is not None},
    )


def maintenance_request(draft: StatusDraft) -> PublishRequest:
    """A scheduled maintenance for the page: everything from its approved draft."""
    return PublishRequest(
        key=publish_key(draft.id, draft.version),
        incident_name=draft.title,
        body=draft.body,
        status=draft.stage,
        impact=draft.impact,
        components=draft.component_names,
        scheduled_for=draft.scheduled_for,
        scheduled_until=draft.scheduled_until,
    )


def missing_draft_events(incident: Incident, have: set[str]) -> list[AuditEvent]:
    """Draft records a crash lost between saving the incident and auditing it.

    Approvals are never among them: an APPROVED draft without its record stays unpublished.
    """
    missing: list[AuditEvent] = []
    for draft in incident.drafts:
        wanted: list[tuple[AuditEventType, datetime, dict[str, Any]]] = [
            (AuditEventType.STATUSPAGE_DRAFT_CREATED, draft.created_at, {})
        ]
        if draft.version > 1:
            wanted.append((AuditEventType.STATUSPAGE_DRAFT_REVISED, draft.updated_at, {}))
        if draft.status is DraftStatus.REJECTED:
            wanted.append((AuditEventType.STATUSPAGE_APPROVAL_REJECTED, draft.updated_at, {}))
        if draft.status is DraftStatus.SUPERSEDED:
            wanted.append(
                (
                    AuditEventType.STATUSPAGE_DRAFT_SUPERSEDED,
                    draft.updated_at,
                    {"superseded_by": draft.superseded_by},
                )
            )
        missing.extend(
            draft_event(type_, incident.id, draft, actor="system", at=at, restored=True, **extra)
            for type_, at, extra in wanted
            if event_key(type_, draft) not in have
        )
    return missing


@dataclass(frozen=True)
class PublishOutcome:
    """Where one approved draft version stands after an approval or a recovery.

    `status` is PUBLISHED once it is on the page, or APPROVED while another worker is still
    publishing it (or recovery will). `published_now` is True only for the call that posted it.
    """

    incident_id: str
    draft_id: str
    version: int
    status: DraftStatus
    published_now: bool
    published_at: datetime | None = None
    status_page: StatusPageRef | None = None

    @classmethod
    def of(cls, incident: Incident, draft: StatusDraft, *, published_now: bool) -> PublishOutcome:
        return cls(
            incident_id=incident.id,
            draft_id=draft.id,
            version=draft.version,
            status=draft.status,
            published_now=published_now,
            published_at=draft.published_at,
            status_page=incident.status_page,
        )


@dataclass
class RecoveryReport:
    outcomes: list[PublishOutcome] = field(default_factory=list)
    failures: dict[str, str] = field(default_factory=dict)  # incident id -> what went wrong
