"""How people steer an incident: its severity, its public stage and the roles beside the IC.

Pure rules the `severity`, `stage` and `role` commands ask before they change anything, so a
person's mistake gets a reason they can act on and changes nothing.

The stage may go back as well as forward (investigating, identified, monitoring): a fix that did
not hold sends the team from monitoring back to investigating, Statuspage allows any order, and
every move is audited and announced in the room, so going back is visible rather than hidden.
Only "resolved" is not a stage people set: it is reached by resolving, which files the
postmortem, drafts the resolved update and archives the room (the `resolve` command).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from incident_response.domain.alert import Severity
from incident_response.domain.context import PublicStatus
from incident_response.domain.incident import IncidentRole

SEVERITY_WORD = re.compile(r"^(?:p|sev|sev-)?([1-4])$", re.IGNORECASE)

# the stages people set by hand, in the order an incident usually moves through them
SETTABLE_STAGES: tuple[PublicStatus, ...] = (
    PublicStatus.INVESTIGATING,
    PublicStatus.IDENTIFIED,
    PublicStatus.MONITORING,
)
STAGE_ORDER: Mapping[PublicStatus, int] = {
    PublicStatus.INVESTIGATING: 0,
    PublicStatus.IDENTIFIED: 1,
    PublicStatus.MONITORING: 2,
    PublicStatus.RESOLVED: 3,
}

# what people type for a role: its value and the words of its label
ROLE_WORDS: Mapping[str, IncidentRole] = {
    "comms": IncidentRole.COMMS,
    "communications": IncidentRole.COMMS,
    "communication": IncidentRole.COMMS,
    "scribe": IncidentRole.SCRIBE,
    "ops": IncidentRole.OPS,
    "operations": IncidentRole.OPS,
}


def parse_severity(raw: str) -> Severity | None:
    """`P1`, `p1`, `1`, `sev1`: the severity meant, or None."""
    found = SEVERITY_WORD.match(raw.strip())
    return Severity(f"P{found.group(1)}") if found else None


def severity_problem(raw: str) -> str:
    return f"unknown severity {raw!r}: use one of {', '.join(s.value for s in Severity)}"


def is_raise(before: Severity, after: Severity) -> bool:
    """P3 -> P1 is a raise (P1 is the most severe)."""
    return after.rank < before.rank


def stage_refusal(target: PublicStatus) -> str | None:
    """Why `target` cannot be set with the `stage` command, or None when it can."""
    if target is PublicStatus.RESOLVED:
        return (
            "an incident reaches the resolved stage by being resolved: use `resolve` "
            "(it drafts the resolved status update, files the postmortem and archives the room)"
        )
    return None


def parse_role(raw: str) -> IncidentRole | None:
    return ROLE_WORDS.get(raw.strip().lower())


def role_problem(raw: str) -> str:
    return f"unknown role {raw!r}: use one of {', '.join(r.value for r in IncidentRole)}"
