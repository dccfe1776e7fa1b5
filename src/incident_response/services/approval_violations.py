"""The violations sweep: every status update published must have been approved, that exact version.

The gate makes this true at publish time; the sweep checks it after the fact, over the audit log
alone, on any backend: a STATUSPAGE_PUBLISHED record without a STATUSPAGE_DRAFT_APPROVED record of
the same incident, draft id, version and content hash is a violation (a publish that bypassed the
gate, or an approval that was deleted since: either way someone must look).
"""

from __future__ import annotations

from dataclasses import dataclass

from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.ports import AuditLog

_BINDING = ("draft_id", "version", "content_hash")


@dataclass(frozen=True)
class ApprovalViolation:
    incident_id: str
    seq: int
    draft_id: str
    version: int
    problem: str

    def __str__(self) -> str:
        return (
            f"incident {self.incident_id} record {self.seq}: draft {self.draft_id} version "
            f"{self.version} {self.problem}"
        )


def _binding(record: AuditRecord) -> tuple[object, ...]:
    return tuple(record.data.get(name) for name in _BINDING)


async def unapproved_publishes(
    audit: AuditLog, *, incident_id: str | None = None
) -> list[ApprovalViolation]:
    """Every published status update (of one incident, or all) without a matching approval."""
    ids = [incident_id] if incident_id is not None else await audit.incident_ids()
    violations: list[ApprovalViolation] = []
    for one in ids:
        published = await audit.find(one, AuditEventType.STATUSPAGE_PUBLISHED)
        if not published:
            continue
        approvals = await audit.find(one, AuditEventType.STATUSPAGE_DRAFT_APPROVED)
        approved = {_binding(record) for record in approvals}
        approved_versions = {_binding(record)[:2] for record in approvals}
        for record in published:
            binding = _binding(record)
            if binding in approved:
                continue
            problem = (
                "was published with text other than the approved text"
                if binding[:2] in approved_versions
                else "was published without an approval of that version"
            )
            violations.append(
                ApprovalViolation(
                    incident_id=one,
                    seq=record.seq,
                    draft_id=str(record.data.get("draft_id", "")),
                    version=int(record.data.get("version", 0) or 0),
                    problem=problem,
                )
            )
    return violations
