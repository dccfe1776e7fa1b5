"""The audit event catalogue and the hash chain that makes the log tamper-evident.

Each incident has its own chain: record n stores the hash of record n-1, and its own hash covers
its content and that link. Editing, deleting or reordering any record breaks the chain, and the
chain head (last seq and hash, kept beside the log) catches a deleted tail.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from incident_response.domain.clock import isoformat

GENESIS_HASH = "0" * 64


class AuditEventType(StrEnum):
    # the original service's 24 event types
    WAR_ROOM_CREATED = "WAR_ROOM_CREATED"
    RESPONDER_INVITED = "RESPONDER_INVITED"
    RESPONDER_INVITE_FAILED = "RESPONDER_INVITE_FAILED"
    CONTEXT_SNAPSHOT_ATTACHED = "CONTEXT_SNAPSHOT_ATTACHED"
    CHECKLIST_PINNED = "CHECKLIST_PINNED"
    CHECKLIST_ITEM_UPDATED = "CHECKLIST_ITEM_UPDATED"
    STATUS_UPDATE_SENT = "STATUS_UPDATE_SENT"
    STATUS_REMINDER_SENT = "STATUS_REMINDER_SENT"
    STATUS_REMINDER_SUPPRESSED = "STATUS_REMINDER_SUPPRESSED"
    STATUS_REMINDER_SILENCED = "STATUS_REMINDER_SILENCED"
    STATUSPAGE_DRAFT_CREATED = "STATUSPAGE_DRAFT_CREATED"
    STATUSPAGE_DRAFT_REVISED = "STATUSPAGE_DRAFT_REVISED"
    STATUSPAGE_DRAFT_APPROVED = "STATUSPAGE_DRAFT_APPROVED"
    STATUSPAGE_PUBLISHED = "STATUSPAGE_PUBLISHED"
    STATUSPAGE_APPROVAL_REJECTED = "STATUSPAGE_APPROVAL_REJECTED"
    POSTMORTEM_CREATED = "POSTMORTEM_CREATED"
    IC_RATED = "IC_RATED"
    INCIDENT_MITIGATED = "INCIDENT_MITIGATED"
    INCIDENT_RESOLVED = "INCIDENT_RESOLVED"
    WAR_ROOM_ARCHIVED = "WAR_ROOM_ARCHIVED"
    WAR_ROOM_ARCHIVE_FAILED = "WAR_ROOM_ARCHIVE_FAILED"
    DIRECTORY_LOOKUP_FAILED = "DIRECTORY_LOOKUP_FAILED"
    ASSEMBLY_FALLBACK_INITIATED = "ASSEMBLY_FALLBACK_INITIATED"
    SLASH_COMMAND_RECEIVED = "SLASH_COMMAND_RECEIVED"
    # added by this implementation
    INCIDENT_OPENED = "INCIDENT_OPENED"
    ALERT_ATTACHED = "ALERT_ATTACHED"
    INCIDENT_REOPENED = "INCIDENT_REOPENED"
    STORM_CAP_REACHED = "STORM_CAP_REACHED"
    ASSEMBLY_STEP_COMPLETED = "ASSEMBLY_STEP_COMPLETED"
    WAR_ROOM_ASSEMBLED = "WAR_ROOM_ASSEMBLED"
    ASSEMBLY_FAILED = "ASSEMBLY_FAILED"
    IC_ASSIGNED = "IC_ASSIGNED"
    STATUS_REMINDER_UNSILENCED = "STATUS_REMINDER_UNSILENCED"
    STATUS_REMINDER_ESCALATED = "STATUS_REMINDER_ESCALATED"
    SLA_BREACHED = "SLA_BREACHED"
    TIMELINE_NOTE_ADDED = "TIMELINE_NOTE_ADDED"
    STATUSPAGE_DRAFT_SUPERSEDED = "STATUSPAGE_DRAFT_SUPERSEDED"


class AuditEvent(BaseModel):
    """What a service asks the audit log to record.

    `key` makes the write idempotent: appending an event whose (incident_id, key) is already in
    the log returns the stored record and writes nothing.
    """

    model_config = ConfigDict(frozen=True)

    incident_id: str
    type: AuditEventType
    key: str
    at: datetime
    actor: str = "system"
    data: dict[str, Any] = Field(default_factory=dict)


class AuditRecord(BaseModel):
    """An audit event as stored: its place in the incident's chain and the chain hashes."""

    model_config = ConfigDict(frozen=True)

    incident_id: str
    seq: int
    type: AuditEventType
    key: str
    at: datetime
    actor: str
    data: dict[str, Any]
    prev_hash: str
    hash: str

    @property
    def event(self) -> AuditEvent:
        return AuditEvent(
            incident_id=self.incident_id,
            type=self.type,
            key=self.key,
            at=self.at,
            actor=self.actor,
            data=self.data,
        )


def canonical_bytes(event: AuditEvent, seq: int, prev_hash: str) -> bytes:
    """The exact bytes a record's hash covers; stable across adapters and Python versions."""
    doc = {
        "incident_id": event.incident_id,
        "seq": seq,
        "type": event.type.value,
        "key": event.key,
        "at": isoformat(event.at),
        "actor": event.actor,
        "data": event.data,
        "prev_hash": prev_hash,
    }
    return json.dumps(
        doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str
    ).encode()


def chain_hash(event: AuditEvent, seq: int, prev_hash: str) -> str:
    return hashlib.sha256(canonical_bytes(event, seq, prev_hash)).hexdigest()


def seal(event: AuditEvent, seq: int, prev_hash: str) -> AuditRecord:
    """The record to store for `event` placed after a record whose hash is `prev_hash`."""
    return AuditRecord(
        incident_id=event.incident_id,
        seq=seq,
        type=event.type,
        key=event.key,
        at=event.at,
        actor=event.actor,
        data=event.data,
        prev_hash=prev_hash,
        hash=chain_hash(event, seq, prev_hash),
    )


@dataclass(frozen=True)
class ChainHead:
    incident_id: str
    seq: int
    hash: str


@dataclass(frozen=True)
class ChainBreak:
    incident_id: str
    seq: int
    problem: str


@dataclass
class ChainReport:
    incidents_checked: int = 0
    records_checked: int = 0
    breaks: list[ChainBreak] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.breaks

    def merge(self, other: ChainReport) -> None:
        self.incidents_checked += other.incidents_checked
        self.records_checked += other.records_checked
        self.breaks.extend(other.breaks)


def verify_chain(
    incident_id: str, records: Sequence[AuditRecord], head: ChainHead | None
) -> ChainReport:
    """Check one incident's records, given in storage order, against each other and the head."""
    report = ChainReport(incidents_checked=1, records_checked=len(records))
    prev = GENESIS_HASH
    for expected_seq, record in enumerate(records, start=1):
        if record.seq != expected_seq:
            report.breaks.append(
                ChainBreak(
                    incident_id, record.seq, f"expected seq {expected_seq}: missing or reordered"
                )
            )
        if record.prev_hash != prev:
            report.breaks.append(
                ChainBreak(incident_id, record.seq, "link to previous record broken")
            )
        if chain_hash(record.event, record.seq, record.prev_hash) != record.hash:
            report.breaks.append(
                ChainBreak(incident_id, record.seq, "content does not match its hash")
            )
        prev = record.hash
    last_seq, last_hash = (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)
    if head is None:
        if records:
            report.breaks.append(ChainBreak(incident_id, last_seq, "chain head missing"))
    elif head.seq != last_seq or head.hash != last_hash:
        report.breaks.append(
            ChainBreak(incident_id, last_seq, f"head says seq {head.seq}: records deleted or added")
        )
    return report


def verify_all(
    chains: Iterable[tuple[str, Sequence[AuditRecord], ChainHead | None]],
) -> ChainReport:
    report = ChainReport()
    for incident_id, records, head in chains:
        report.merge(verify_chain(incident_id, records, head))
    return report
