"""Customer-facing status drafts: versions, content hashes and their statuses."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict


class DraftStatus(StrEnum):
    DRAFT = "draft"
    REJECTED = "rejected"
    APPROVED = "approved"  # approval recorded, publish under way or to be recovered
    PUBLISHED = "published"
    SUPERSEDED = "superseded"


class DraftKind(StrEnum):
    UPDATE = "update"
    RESOLVED = "resolved"


def content_hash(body: str) -> str:
    """What an approval binds to: the exact text, byte for byte."""
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


class StatusDraft(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    version: int = 1
    kind: DraftKind = DraftKind.UPDATE
    status: DraftStatus = DraftStatus.DRAFT
    body: str
    content_hash: str
    created_by: str
    created_at: datetime
    updated_at: datetime
    approved_by: str | None = None
    approved_at: datetime | None = None
    published_at: datetime | None = None
    rejected_reason: str | None = None
