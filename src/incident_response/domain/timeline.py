"""The incident's story: what people did and saw, in order, told from its audit records.

The audit log keeps everything (assembly steps, delivery ids, hashes, every command typed); the
timeline is what a responder, a reader of the postmortem or a stakeholder wants to follow: the
incident opened or declared, who commands it, severity and stage changes, roles, the status
updates customers read, mitigation and resolution, follow-ups and notes. Only the event types in
`STORY` are told; every other type is bookkeeping and stays in the audit trail.

Pure: no I/O. How people are named is the caller's (`Naming`): the console shows names, the
postmortem roles and names with anything personal stripped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.clock import isoformat, utc
from incident_response.domain.incident import Incident, IncidentRole
from incident_response.domain.text import shortened

A = AuditEventType


class TimelineKind(StrEnum):
    OPENED = "opened"
    DECLARED = "declared"
    IC = "ic"
    SEVERITY = "severity"
    STAGE = "stage"
    ROLE = "role"
    UPDATE = "update"
    MITIGATED = "mitigated"
    REOPENED = "reopened"
    RESOLVED = "resolved"
    FOLLOW_UP = "follow-up"
    NOTE = "note"


@dataclass(frozen=True)
class TimelineEntry:
    """One moment of the story: when, who did it (their handle, or "system"), what kind of
    moment, and the sentence a person reads."""

    at: datetime
    who: str
    kind: TimelineKind
    text: str

    def as_json(self) -> dict[str, str]:
        """As the API, the MCP tools and command replies show it."""
        return {
            "at": isoformat(self.at),
            "who": self.who,
            "kind": self.kind.value,
            "text": self.text,
        }


def _same(text: str) -> str:
    return text


@dataclass(frozen=True)
class Naming:
    """How the story names people (`person`: a handle -> a name) and how it shows text written
    outside the service (`outside`: alert titles, notes, quoted messages). Identity by default."""

    person: Callable[[str], str] = _same
    outside: Callable[[str], str] = _same


Render = Callable[[Mapping[str, Any], Naming], str]


def _s(data: Mapping[str, Any], key: str) -> str:
    value = data.get(key)
    return "" if value is None else str(value).strip()


def _quoted(text: str) -> str:
    return f"\u201c{text}\u201d"


def _title(title: str, naming: Naming) -> str:
    """An alert or incident title as the story quotes it: cut for reading (the incident keeps
    the whole title, shown in full by the API)."""
    return _quoted(shortened(naming.outside(title)))


def _was(data: Mapping[str, Any], naming: Naming) -> str:
    previous = _s(data, "previous")
    return f" (was {naming.person(previous)})" if previous else ""


def _opened(data: Mapping[str, Any], naming: Naming) -> str:
    title, severity = _s(data, "title"), _s(data, "severity")
    text = f"Opened by the alert {_title(title, naming)}" if title else "Opened"
    return f"{text} ({severity})" if severity else text


def _declared(data: Mapping[str, Any], naming: Naming) -> str:
    facts = ", ".join(naming.outside(f) for f in (_s(data, "severity"), _s(data, "service")) if f)
    text = "Declared"
    if title := _s(data, "title"):
        text += f": {_title(title, naming)}"
    return f"{text} ({facts})" if facts else text


def _ic(data: Mapping[str, Any], naming: Naming) -> str:
    ic = _s(data, "ic")
    return f"{naming.person(ic) if ic else 'Nobody'} is the incident commander{_was(data, naming)}"


def _severity(data: Mapping[str, Any], naming: Naming) -> str:
    before, after = _s(data, "from"), _s(data, "to")
    verb = "changed"
    if before in Severity.__members__ and after in Severity.__members__:
        verb = "raised" if Severity(after).rank < Severity(before).rank else "lowered"
    return f"Severity {verb} from {before or '?'} to {after or '?'}"


def _stage(data: Mapping[str, Any], naming: Naming) -> str:
    return f"Stage moved from {_s(data, 'from') or '?'} to {_s(data, 'to') or '?'}"


def _role(data: Mapping[str, Any], naming: Naming) -> str:
    role = _s(data, "role")
    label = IncidentRole(role).label if role in {r.value for r in IncidentRole} else role
    holder = _s(data, "email")
    who = naming.person(holder) if holder else "Nobody"
    return f"{who} is the {label}{_was(data, naming)}"


def _published(data: Mapping[str, Any], naming: Naming) -> str:
    """Quoted as customers read it: approved public text, shown as published."""
    stage = _s(data, "stage")
    head = f"Status update published ({stage})" if stage else "Status update published"
    body = " ".join(_s(data, "body").split())
    return f"{head}: {_quoted(body)}" if body else head


def _mitigated(data: Mapping[str, Any], naming: Naming) -> str:
    title = _s(data, "title")
    return f"Mitigated: the alert {_title(title, naming)} resolved" if title else "Mitigated"


def _reopened(data: Mapping[str, Any], naming: Naming) -> str:
    title = _s(data, "title")
    return f"Reopened: the alert {_title(title, naming)} fired again" if title else "Reopened"


def _resolved(data: Mapping[str, Any], naming: Naming) -> str:
    return "Resolved"


def _followup(data: Mapping[str, Any], naming: Naming) -> str:
    text = f"Follow-up: {naming.outside(_s(data, 'text'))}"
    owner = _s(data, "owner")
    return f"{text} (owner: {naming.person(owner)})" if owner else text


def _note(data: Mapping[str, Any], naming: Naming) -> str:
    """A note typed with `note`, or a room message pinned to the timeline, quoted with its
    author."""
    text = naming.outside(" ".join(_s(data, "text").split()))
    author = _s(data, "author")
    if author:
        return f"{_quoted(text)} \u2014 {naming.person(author)}"
    return text


STORY: Mapping[AuditEventType, tuple[TimelineKind, Render]] = {
    A.INCIDENT_OPENED: (TimelineKind.OPENED, _opened),
    A.INCIDENT_DECLARED: (TimelineKind.DECLARED, _declared),
    A.IC_ASSIGNED: (TimelineKind.IC, _ic),
    A.SEVERITY_CHANGED: (TimelineKind.SEVERITY, _severity),
    A.STAGE_CHANGED: (TimelineKind.STAGE, _stage),
    A.ROLE_ASSIGNED: (TimelineKind.ROLE, _role),
    A.STATUSPAGE_PUBLISHED: (TimelineKind.UPDATE, _published),
    A.INCIDENT_MITIGATED: (TimelineKind.MITIGATED, _mitigated),
    A.INCIDENT_REOPENED: (TimelineKind.REOPENED, _reopened),
    A.INCIDENT_RESOLVED: (TimelineKind.RESOLVED, _resolved),
    A.FOLLOWUP_ADDED: (TimelineKind.FOLLOW_UP, _followup),
    A.TIMELINE_NOTE_ADDED: (TimelineKind.NOTE, _note),
}

# everything else: assembly steps, deliveries, drafts in the making, commands, reminders...
BOOKKEEPING: frozenset[AuditEventType] = frozenset(t for t in AuditEventType if t not in STORY)


def _who(record: AuditRecord) -> str:
    if record.type is A.INCIDENT_DECLARED and _s(record.data, "by"):
        return _s(record.data, "by")
    return record.actor


def story(records: Iterable[AuditRecord], *, naming: Naming | None = None) -> list[TimelineEntry]:
    """The key moments among `records`, oldest first (ties in log order)."""
    naming = naming or Naming()
    ordered = sorted(records, key=lambda r: (utc(r.at), r.seq))
    # a declared incident is opened too; its declaration is the one opening worth telling
    declared = any(r.type is A.INCIDENT_DECLARED for r in ordered)
    entries = []
    for record in ordered:
        told = STORY.get(record.type)
        if told is None or (declared and record.type is A.INCIDENT_OPENED):
            continue
        if record.type is A.STAGE_CHANGED and record.data.get("by") == "publish":
            continue  # the published update just before it says the stage customers were told
        kind, render = told
        entries.append(
            TimelineEntry(utc(record.at), _who(record), kind, render(record.data, naming))
        )
    return entries


def incident_story(
    incident: Incident, records: Sequence[AuditRecord], *, naming: Naming | None = None
) -> list[TimelineEntry]:
    """The story of `incident`. An incident declared by hand before its declaration was audited
    (or one whose opening record is missing) still starts with its opening."""
    entries = story(records, naming=naming)
    if not any(e.kind in (TimelineKind.OPENED, TimelineKind.DECLARED) for e in entries):
        naming = naming or Naming()
        if incident.declared_by:
            opening = TimelineEntry(
                utc(incident.created_at),
                incident.declared_by,
                TimelineKind.DECLARED,
                _declared({"title": incident.title, "severity": incident.severity.value}, naming),
            )
        else:
            opening = TimelineEntry(
                utc(incident.created_at),
                "system",
                TimelineKind.OPENED,
                _opened({"title": incident.title, "severity": incident.severity.value}, naming),
            )
        entries.insert(0, opening)
    if incident.resolved_at is not None and not any(
        e.kind is TimelineKind.RESOLVED for e in entries
    ):
        # the postmortem is written while the resolution is under way, before it is audited
        asked = incident.resolution_steps.get("requested")
        who = str(asked.get("by") or "system") if isinstance(asked, dict) else "system"
        entries.append(
            TimelineEntry(utc(incident.resolved_at), who, TimelineKind.RESOLVED, "Resolved")
        )
        entries.sort(key=lambda e: e.at)  # stable: ties keep their order
    return entries


def stage_path(records: Iterable[AuditRecord]) -> list[str]:
    """The public stages the incident went through, in order, from investigating: its stage
    changes and the stages of the updates published."""
    path = ["investigating"]
    for record in sorted(records, key=lambda r: (utc(r.at), r.seq)):
        if record.type is A.STAGE_CHANGED:
            stage = _s(record.data, "to")
        elif record.type is A.STATUSPAGE_PUBLISHED:
            stage = _s(record.data, "stage")
        else:
            continue
        if stage and stage != path[-1]:
            path.append(stage)
    return path


# The postmortem's judgement sections, left to people: a heading and a one-line prompt each.
CONTRIBUTING_FACTORS = (
    "Contributing factors",
    "What conditions, decisions or gaps let this happen, or made it last? One line each, "
    "without blame.",
)
LESSONS: tuple[tuple[str, str], ...] = (
    ("What went well", "What helped us notice, respond or recover quickly?"),
    ("What went badly", "What slowed us down or made it worse?"),
    ("Where we got lucky", "What could have made this worse, and what would stop it next time?"),
)
