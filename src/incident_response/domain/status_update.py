"""Customer-facing status drafts: versions, content hashes and their statuses.

A draft holds everything the public page will show for it: the text, the public incident name
(`title`), the stage, the impact and the affected components. The content hash covers all of
them, so the approval (which binds the hash) covers all of them: changing any one is a new
version that must be approved again.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict

from incident_response.domain.clock import isoformat
from incident_response.domain.context import ComponentStatus, Impact, PublicStatus


class DraftStatus(StrEnum):
    DRAFT = "draft"
    REJECTED = "rejected"
    APPROVED = "approved"  # approval recorded, publish under way or to be recovered
    PUBLISHED = "published"
    SUPERSEDED = "superseded"  # a newer draft of the incident was published first


class DraftKind(StrEnum):
    UPDATE = "update"
    RESOLVED = "resolved"
    MAINTENANCE = "maintenance"  # a scheduled maintenance (domain.maintenance), not an incident


class PublicComponent(BaseModel):
    """One status-page component an update names: its public name and the status the IC chose
    for it. `status` None (drafts written before it existed) follows the draft's impact; it is
    left out of the hashed content then, so those drafts keep their hash."""

    model_config = ConfigDict(frozen=True)

    name: str
    status: ComponentStatus | None = None


class StatusDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    version: int = 1
    kind: DraftKind = DraftKind.UPDATE
    status: DraftStatus = DraftStatus.DRAFT
    body: str
    # the public fields: drafts stored before they existed load empty and cannot be approved
    title: str = ""
    stage: PublicStatus = PublicStatus.INVESTIGATING
    impact: Impact = Impact.NONE
    components: tuple[PublicComponent, ...] = ()
    # a maintenance's window (kind MAINTENANCE only); hashed only when set, so older drafts
    # keep their hash
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None
    content_hash: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    published_at: datetime | None = None
    rejected_reason: str | None = None
    superseded_by: str | None = None

    @property
    def component_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.components)

    def public_content(self) -> dict[str, Any]:
        """Everything the public page will show for this draft: what an approval covers."""
        content: dict[str, Any] = {
            "body": self.body,
            "title": self.title,
            "stage": self.stage.value,
            "impact": self.impact.value,
            "components": [c.model_dump(mode="json", exclude_none=True) for c in self.components],
        }
        if self.scheduled_for is not None or self.scheduled_until is not None:
            content["scheduled_for"] = _when(self.scheduled_for)
            content["scheduled_until"] = _when(self.scheduled_until)
        return content

    def sealed(self) -> StatusDraft:
        """This draft with its content hash recomputed from its public content."""
        return self.model_copy(update={"content_hash": draft_hash(self)})


def _when(at: datetime | None) -> str | None:
    return isoformat(at) if at is not None else None


def content_hash(content: dict[str, Any]) -> str:
    """What an approval binds to: the exact public content, byte for byte (canonical JSON)."""
    canonical = json.dumps(content, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()


def draft_hash(draft: StatusDraft) -> str:
    return content_hash(draft.public_content())
