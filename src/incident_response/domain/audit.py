"""The audit event catalogue and the keyed hash chain that makes the log tamper-evident.

Each incident has its own chain: record n stores the hash of record n-1, and its own hash is an
HMAC, under the audit key, of its content and that link. Editing, deleting or reordering any record
breaks the chain; the chain head (last seq and hash, with its own MAC, kept beside the log) catches
a deleted tail and a head moved back. Because every hash needs the key, which lives outside the
database, whoever can edit the database cannot re-seal a chain after changing it.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from incident_response.domain.clock import isoformat

GENESIS_HASH = "0" * 64

# what each MAC covers, so one can never stand in for another (a record hash is not a head)
RECORD_PURPOSE = "audit-record"
HEAD_PURPOSE = "audit-head"
CHAINS_PURPOSE = "audit-chains"

WRONG_KEY_HINT = "the audit key may be wrong or missing"

# The MAC of a head or count written over one that was already forged or missing: the log goes on
# appending (an incident never waits on its audit trail), but never re-seals what it cannot trust,
# so a tampered head or count stays visible however many records follow.
UNSEALED = ""


@dataclass(frozen=True)
class AuditKey:
    """The secret every audit MAC is computed with. It never appears in a repr or a log line."""

    secret: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not self.secret:
            raise ValueError("an audit key cannot be empty")

    def mac(self, purpose: str, payload: bytes) -> str:
        return hmac.new(self.secret, purpose.encode() + b"\0" + payload, hashlib.sha256).hexdigest()

    def matches(self, purpose: str, payload: bytes, mac: str) -> bool:
        return hmac.compare_digest(self.mac(purpose, payload), mac)


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
    # people steering the incident (issue 12)
    INCIDENT_DECLARED = "INCIDENT_DECLARED"
    SEVERITY_CHANGED = "SEVERITY_CHANGED"
    STAGE_CHANGED = "STAGE_CHANGED"
    ROLE_ASSIGNED = "ROLE_ASSIGNED"
    FOLLOWUP_ADDED = "FOLLOWUP_ADDED"
    FOLLOWUP_FILED = "FOLLOWUP_FILED"
    ALERT_IGNORED = "ALERT_IGNORED"
    ALERT_SPLIT = "ALERT_SPLIT"
    # severity and stage (issue 12, points 3-4): a raise called the on-call and team again
    RESPONDERS_ESCALATED = "RESPONDERS_ESCALATED"
    # issue 12: checklist on raise (the worse severity's items added; not a tick, so not
    # CHECKLIST_ITEM_UPDATED, whose records say an item was ticked or unticked)
    CHECKLIST_ITEMS_ADDED = "CHECKLIST_ITEMS_ADDED"


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


def chain_hash(event: AuditEvent, seq: int, prev_hash: str, key: AuditKey) -> str:
    return key.mac(RECORD_PURPOSE, canonical_bytes(event, seq, prev_hash))


def seal(event: AuditEvent, seq: int, prev_hash: str, key: AuditKey) -> AuditRecord:
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
        hash=chain_hash(event, seq, prev_hash, key),
    )


def _head_payload(incident_id: str, seq: int, last_hash: str) -> bytes:
    return json.dumps([incident_id, seq, last_hash], separators=(",", ":")).encode()


@dataclass(frozen=True)
class ChainHead:
    """Where an incident's chain ends. The MAC binds the incident, seq and hash together, so a
    head moved back to an earlier record, or copied from another incident, does not verify."""

    incident_id: str
    seq: int
    hash: str
    mac: str

    @classmethod
    def sealed(cls, incident_id: str, seq: int, last_hash: str, key: AuditKey) -> ChainHead:
        mac = key.mac(HEAD_PURPOSE, _head_payload(incident_id, seq, last_hash))
        return cls(incident_id, seq, last_hash, mac)

    @classmethod
    def following(cls, previous: ChainHead | None, record: AuditRecord, key: AuditKey) -> ChainHead:
        """The head after appending `record` to a chain whose head was `previous` (None: a new
        chain, or a head that had gone missing from a chain with records)."""
        trusted = record.seq == 1 if previous is None else previous.authentic(key)
        if trusted:
            return cls.sealed(record.incident_id, record.seq, record.hash, key)
        return cls(record.incident_id, record.seq, record.hash, UNSEALED)

    def authentic(self, key: AuditKey) -> bool:
        return key.matches(
            HEAD_PURPOSE, _head_payload(self.incident_id, self.seq, self.hash), self.mac
        )


@dataclass(frozen=True)
class ChainCount:
    """How many chains the log has started, MAC'd: deleting an incident's whole chain, head and
    all, leaves fewer chains than it counts."""

    chains: int
    mac: str

    @classmethod
    def sealed(cls, chains: int, key: AuditKey) -> ChainCount:
        return cls(chains, key.mac(CHAINS_PURPOSE, str(chains).encode()))

    @classmethod
    def following(
        cls, previous: ChainCount | None, key: AuditKey, *, other_chains: bool
    ) -> ChainCount:
        """The count after starting one more chain; `other_chains` says whether any other chain
        is stored (a missing count is then a deleted one, not the first chain's)."""
        trusted = not other_chains if previous is None else previous.authentic(key)
        chains = (previous.chains if previous is not None else 0) + 1
        return cls.sealed(chains, key) if trusted else cls(chains, UNSEALED)

    def authentic(self, key: AuditKey) -> bool:
        return key.matches(CHAINS_PURPOSE, str(self.chains).encode(), self.mac)


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


ALL_CHAINS = "*"  # the incident id of a break that concerns the log as a whole


def verify_chain(
    incident_id: str, records: Sequence[AuditRecord], head: ChainHead | None, key: AuditKey
) -> ChainReport:
    """Check one incident's records, given in storage order, against each other and the head."""
    report = ChainReport(incidents_checked=1, records_checked=len(records))
    prev = GENESIS_HASH
    forged: list[ChainBreak] = []
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
        if not key.matches(
            RECORD_PURPOSE, canonical_bytes(record.event, record.seq, record.prev_hash), record.hash
        ):
            forged.append(ChainBreak(incident_id, record.seq, "content does not match its hash"))
        prev = record.hash
    head_authentic = head is not None and head.authentic(key)
    if records and len(forged) == len(records) and not head_authentic:
        # not one MAC verifies, the head's included: far likelier another key than a forgery
        forged = [
            ChainBreak(
                incident_id,
                records[0].seq,
                f"no record matches its hash: {WRONG_KEY_HINT}, or the chain was re-sealed "
                "without it",
            )
        ]
    report.breaks.extend(forged)
    last_seq, last_hash = (records[-1].seq, records[-1].hash) if records else (0, GENESIS_HASH)
    if head is None:
        if records:
            report.breaks.append(ChainBreak(incident_id, last_seq, "chain head missing"))
    elif head.incident_id != incident_id or head.seq != last_seq or head.hash != last_hash:
        report.breaks.append(
            ChainBreak(incident_id, last_seq, f"head says seq {head.seq}: records deleted or added")
        )
    elif head.mac == UNSEALED:
        report.breaks.append(
            ChainBreak(
                incident_id,
                last_seq,
                "chain head unsealed: it was already moved, forged or missing when a later "
                f"record was appended, or {WRONG_KEY_HINT}",
            )
        )
    elif not head_authentic:
        report.breaks.append(
            ChainBreak(
                incident_id,
                last_seq,
                f"chain head does not match its MAC: moved or forged, or {WRONG_KEY_HINT}",
            )
        )
    return report


def verify_count(count: ChainCount | None, chains: int, key: AuditKey) -> list[ChainBreak]:
    """Whether the log still holds as many chains as it has started."""
    if count is None:
        if not chains:
            return []
        return [ChainBreak(ALL_CHAINS, 0, "the chain count is missing: it was deleted")]
    if count.mac == UNSEALED:
        return [
            ChainBreak(
                ALL_CHAINS,
                0,
                "the chain count is unsealed: it was already forged or missing when a later "
                f"chain was started, or {WRONG_KEY_HINT}",
            )
        ]
    if not count.authentic(key):
        return [
            ChainBreak(
                ALL_CHAINS,
                0,
                f"the chain count does not match its MAC: forged, or {WRONG_KEY_HINT}",
            )
        ]
    if count.chains != chains:
        return [
            ChainBreak(
                ALL_CHAINS,
                0,
                f"the log started {count.chains} chains but holds {chains}: "
                "whole chains were deleted or added",
            )
        ]
    return []
