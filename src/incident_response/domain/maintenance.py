"""Scheduled maintenance: planned work announced on the public page through the same approval.

A maintenance is not an incident (nobody is paged, no war room), so it is its own aggregate;
what it announces is a StatusDraft of kind MAINTENANCE whose hashed public content carries the
window (`scheduled_for`, `scheduled_until`) beside the name, text and components. An approver
writes it, an approver approves exactly that version, and only the StatusUpdateGate publishes it
(after finding the approval record that binds its hash), once.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from incident_response.domain.clock import utc
from incident_response.domain.incident import StatusPageRef
from incident_response.domain.status_update import StatusDraft

MAX_WINDOW = timedelta(days=14)
MAX_AHEAD = timedelta(days=366)


class MaintenancePhase(StrEnum):
    """Statuspage's words for a scheduled incident, from its window and the time now."""

    SCHEDULED = "scheduled"
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"


PHASE_LABELS = {
    MaintenancePhase.SCHEDULED: "Upcoming",
    MaintenancePhase.IN_PROGRESS: "In progress",
    MaintenancePhase.COMPLETED: "Completed",
}


class Maintenance(BaseModel):
    """One scheduled maintenance and the drafts that announce it. `version` is the store's
    compare-and-set counter."""

    model_config = ConfigDict(frozen=True)

    id: str
    version: int = 0
    created_by: str
    created_at: datetime
    drafts: tuple[StatusDraft, ...] = ()
    status_page: StatusPageRef | None = None

    def draft(self, draft_id: str) -> StatusDraft | None:
        return next((d for d in self.drafts if d.id == draft_id), None)

    def with_draft(self, draft: StatusDraft) -> Maintenance:
        drafts = tuple(draft if d.id == draft.id else d for d in self.drafts)
        if self.draft(draft.id) is None:
            drafts = (*drafts, draft)
        return self.model_copy(update={"drafts": drafts})


def window_problems(
    scheduled_for: datetime | None, scheduled_until: datetime | None, *, now: datetime
) -> tuple[str, ...]:
    """Why a maintenance window cannot be announced; empty when it can."""
    if scheduled_for is None or scheduled_until is None:
        return ("a maintenance needs a start and an end (scheduled_for, scheduled_until)",)
    start, end = utc(scheduled_for), utc(scheduled_until)
    problems = []
    if end <= start:
        problems.append("the maintenance must end after it starts")
    elif end - start > MAX_WINDOW:
        problems.append(f"a maintenance window is at most {MAX_WINDOW.days} days")
    if end <= utc(now):
        problems.append("the maintenance window is already over")
    if start - utc(now) > MAX_AHEAD:
        problems.append("a maintenance is announced at most a year ahead")
    return tuple(problems)


def phase(scheduled_for: datetime, scheduled_until: datetime, now: datetime) -> MaintenancePhase:
    if utc(now) < utc(scheduled_for):
        return MaintenancePhase.SCHEDULED
    if utc(now) < utc(scheduled_until):
        return MaintenancePhase.IN_PROGRESS
    return MaintenancePhase.COMPLETED


def parse_time(raw: str) -> datetime | None:
    """An ISO 8601 time with its zone (`2026-12-05T02:00:00Z`); None when it is not one."""
    try:
        parsed = datetime.fromisoformat(raw.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return utc(parsed) if parsed.tzinfo is not None else None


def names(components: Sequence[str]) -> list[str]:
    return [n.strip() for n in components if n.strip()]
