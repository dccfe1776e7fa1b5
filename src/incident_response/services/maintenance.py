"""Scheduled maintenance through the approval gate: schedule, edit, approve, publish once.

An approver (Action.MANAGE_STATUS_PAGE: a maintenance belongs to no incident, so there is no IC
to ask) writes the announcement: name, text, window and components, all in the draft's hashed
public content. Approving records the approval in the audit log (keyed by the maintenance's id,
binding the draft id, version and hash) before anything else, then asks the StatusUpdateGate to
publish; the gate publishes only what such a record binds, and only once. Approving an already
approved version again finishes a publish that failed (the approval stands).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from incident_response.domain.approval import body_problems, draft_event, public_record
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.clock import Clock, isoformat
from incident_response.domain.context import PublishedUpdate
from incident_response.domain.errors import ConcurrentUpdate, NotFound
from incident_response.domain.incident import StatusPageRef
from incident_response.domain.maintenance import Maintenance, parse_time, window_problems
from incident_response.domain.public import component_problems, components_of, title_problems
from incident_response.domain.status_update import DraftKind, DraftStatus, StatusDraft
from incident_response.domain.text import clean_line, clean_text
from incident_response.ports import AuditLog
from incident_response.services.authority import Authority
from incident_response.services.status_update_gate import (
    ApprovalRefused,
    InvalidDraft,
    StaleDraftVersion,
    new_draft_id,
)

T = TypeVar("T")


class MaintenanceStore(Protocol):
    async def create(self, maintenance: Maintenance) -> Maintenance: ...
    async def get(self, maintenance_id: str) -> Maintenance | None: ...
    async def save(self, maintenance: Maintenance) -> Maintenance: ...
    async def recent(self, limit: int = 50) -> list[Maintenance]: ...


class MaintenancePublisher(Protocol):
    """The StatusUpdateGate's side: it alone publishes, and only what an approval binds."""

    async def publish_maintenance(
        self, maintenance_id: str, draft: StatusDraft
    ) -> PublishedUpdate: ...


class MaintenanceDesk:
    def __init__(
        self,
        *,
        store: MaintenanceStore,
        gate: MaintenancePublisher,
        audit: AuditLog,
        authority: Authority,
        clock: Clock,
    ) -> None:
        self._store = store
        self._gate = gate
        self._audit = audit
        self._authority = authority
        self._clock = clock

    async def schedule(
        self,
        *,
        actor: str,
        title: str,
        body: str,
        scheduled_for: str,
        scheduled_until: str,
        components: Sequence[str],
    ) -> Maintenance:
        """A new maintenance with its announcement as draft version 1 (nothing public yet)."""
        await self._authority.require(Action.MANAGE_STATUS_PAGE, None, actor)
        fields = self._fields(
            title=title,
            body=body,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            components=components,
        )
        now = self._clock.now()
        draft = StatusDraft(
            id=new_draft_id(),
            kind=DraftKind.MAINTENANCE,
            content_hash="",
            created_by=actor,
            created_at=now,
            updated_at=now,
            **fields,
        ).sealed()
        maintenance = await self._store.create(
            Maintenance(
                id="mnt_" + secrets.token_hex(6),
                created_by=actor,
                created_at=now,
                drafts=(draft,),
            )
        )
        await self._record(AuditEventType.STATUSPAGE_DRAFT_CREATED, maintenance, draft, actor)
        return maintenance

    async def edit(
        self,
        maintenance_id: str,
        draft_id: str,
        *,
        actor: str,
        expected_version: int,
        title: str,
        body: str,
        scheduled_for: str,
        scheduled_until: str,
        components: Sequence[str],
    ) -> StatusDraft:
        """A new version of the announcement (every field given again)."""
        await self._authority.require(Action.MANAGE_STATUS_PAGE, None, actor)
        fields = self._fields(
            title=title,
            body=body,
            scheduled_for=scheduled_for,
            scheduled_until=scheduled_until,
            components=components,
        )

        def revise(current: Maintenance) -> tuple[Maintenance | None, StatusDraft]:
            draft = _draft(current, draft_id)
            if draft.status is not DraftStatus.DRAFT:
                raise InvalidDraft(f"draft {draft_id} is {draft.status.value}: it cannot change")
            if draft.version != expected_version:
                raise StaleDraftVersion(draft_id, given=expected_version, current=draft.version)
            new = draft.model_copy(
                update={
                    **fields,
                    "version": draft.version + 1,
                    "updated_at": self._clock.now(),
                }
            ).sealed()
            return current.with_draft(new), new

        maintenance, draft = await self._mutate(maintenance_id, revise)
        await self._record(AuditEventType.STATUSPAGE_DRAFT_REVISED, maintenance, draft, actor)
        return draft

    async def approve(
        self, maintenance_id: str, draft_id: str, *, actor: str, version: int
    ) -> Maintenance:
        """Approve exactly `version` and have the gate publish it, once."""
        decision = await self._authority.decide(Action.MANAGE_STATUS_PAGE, None, actor)
        if not decision.allowed:
            raise ApprovalRefused(decision.reasons)

        def decide(current: Maintenance) -> tuple[Maintenance | None, StatusDraft]:
            draft = _draft(current, draft_id)
            if draft.version != version:
                raise StaleDraftVersion(draft_id, given=version, current=draft.version)
            if draft.status in (DraftStatus.APPROVED, DraftStatus.PUBLISHED):
                return None, draft  # a repeated approval finishes an unfinished publish
            if draft.status is not DraftStatus.DRAFT:
                raise InvalidDraft(f"draft {draft_id} is {draft.status.value}")
            if draft.content_hash != draft.sealed().content_hash:
                raise InvalidDraft(f"the content of draft {draft_id} does not match its hash")
            now = self._clock.now()
            done = draft.model_copy(
                update={
                    "status": DraftStatus.APPROVED,
                    "approved_by": actor,
                    "approved_at": now,
                    "updated_at": now,
                }
            )
            return current.with_draft(done), done

        current = await self._get(maintenance_id)
        _, preview = decide(current)  # refuses before anything is recorded
        if preview.status is DraftStatus.APPROVED and preview.approved_by == actor:
            # the approval is recorded before the draft changes: a crash leaves no draft
            # marked approved without its record
            await self._record(
                AuditEventType.STATUSPAGE_DRAFT_APPROVED,
                current,
                preview.model_copy(update={"status": DraftStatus.DRAFT}),
                actor,
                approved_by=actor,
            )
        maintenance, draft = await self._mutate(maintenance_id, decide)
        if draft.status is DraftStatus.PUBLISHED:
            return maintenance
        update = await self._gate.publish_maintenance(maintenance.id, draft)

        def mark(current: Maintenance) -> tuple[Maintenance | None, StatusDraft]:
            now = self._clock.now()
            done = _draft(current, draft_id).model_copy(
                update={
                    "status": DraftStatus.PUBLISHED,
                    "published_at": update.published_at,
                    "updated_at": now,
                }
            )
            page = StatusPageRef(incident_id=update.status_page_incident_id, url=update.url)
            return current.with_draft(done).model_copy(update={"status_page": page}), done

        maintenance, _ = await self._mutate(maintenance_id, mark)
        return maintenance

    async def recent(self, *, actor: str) -> list[Maintenance]:
        await self._authority.require(Action.READ, None, actor)
        return await self._store.recent()

    async def get(self, maintenance_id: str, *, actor: str) -> Maintenance:
        """One maintenance (NotFound otherwise): what `maintenance approve` shows before it
        approves, and reads the current draft of."""
        await self._authority.require(Action.READ, None, actor)
        return await self._get(maintenance_id)

    # -- internals -----------------------------------------------------------------------------

    def _fields(
        self,
        *,
        title: str,
        body: str,
        scheduled_for: str,
        scheduled_until: str,
        components: Sequence[str],
    ) -> dict[str, object]:
        title, body = clean_line(title), clean_text(body)
        names = [clean_line(n) for n in components if n.strip()]
        start, end = parse_time(scheduled_for), parse_time(scheduled_until)
        problems = [*title_problems(title), *body_problems(body)]
        if not names:
            problems.append("name at least one status-page component")
        problems.extend(component_problems(names))
        if start is None and scheduled_for.strip():
            problems.append(f"scheduled_for {scheduled_for!r} is not an ISO 8601 time with a zone")
        if end is None and scheduled_until.strip():
            problems.append(
                f"scheduled_until {scheduled_until!r} is not an ISO 8601 time with a zone"
            )
        problems.extend(window_problems(start, end, now=self._clock.now()))
        if problems:
            raise InvalidDraft("; ".join(dict.fromkeys(problems)))
        return {
            "title": title,
            "body": body,
            "components": components_of(names),
            "scheduled_for": start,
            "scheduled_until": end,
        }

    async def _record(
        self,
        type_: AuditEventType,
        maintenance: Maintenance,
        draft: StatusDraft,
        actor: str,
        **extra: object,
    ) -> None:
        await self._audit.append(
            draft_event(
                type_,
                maintenance.id,
                draft,
                actor=actor,
                at=self._clock.now(),
                scheduled_for=_when(draft.scheduled_for),
                scheduled_until=_when(draft.scheduled_until),
                **public_record(draft),
                **extra,
            )
        )

    async def _get(self, maintenance_id: str) -> Maintenance:
        found = await self._store.get(maintenance_id)
        if found is None:
            raise NotFound(f"there is no maintenance {maintenance_id}")
        return found

    async def _mutate(
        self,
        maintenance_id: str,
        change: Callable[[Maintenance], tuple[Maintenance | None, T]],
        attempts: int = 10,
    ) -> tuple[Maintenance, T]:
        for _ in range(attempts):
            current = await self._get(maintenance_id)
            changed, result = change(current)
            if changed is None:
                return current, result
            try:
                return await self._store.save(changed), result
            except ConcurrentUpdate:
                continue
        raise ConcurrentUpdate(f"maintenance {maintenance_id} kept changing; try again")


def _draft(maintenance: Maintenance, draft_id: str) -> StatusDraft:
    draft = maintenance.draft(draft_id)
    if draft is None:
        raise NotFound(f"maintenance {maintenance.id} has no draft {draft_id}")
    return draft


def _when(at: datetime | None) -> str | None:
    return isoformat(at) if at is not None else None
