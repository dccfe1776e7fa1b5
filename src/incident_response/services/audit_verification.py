"""Audit verification across the two stores: each incident's chain must be whole, and it must exist.

The AuditLog checks its chains against each other and the key; only beside the IncidentStore can
it be seen that an incident's whole chain is gone, that a chain no longer starts where every
incident's does (its opening at seq 1: INCIDENT_OPENED for an alert's, INCIDENT_DECLARED for one
a person declared), or that a chain outlived its incident.
"""

from __future__ import annotations

from collections.abc import Collection

from incident_response.domain.audit import AuditEventType, ChainBreak, ChainReport
from incident_response.ports import AuditLog, IncidentStore

# what an incident's chain starts with: an alert opened it, or a person declared it
OPENINGS = (AuditEventType.INCIDENT_OPENED, AuditEventType.INCIDENT_DECLARED)


async def verify_audit_trail(
    *,
    store: IncidentStore,
    audit: AuditLog,
    not_incidents: Collection[str],
    incident_id: str | None = None,
) -> ChainReport:
    """Verify every chain (or one incident's) and cross-check it with the stored incidents.

    `not_incidents` names chains that belong to no incident (commands typed outside one): they
    are verified like any chain but need neither an incident nor an opening."""
    report = await audit.verify(incident_id)
    incidents = set(await store.incident_ids())
    chains = set(await audit.incident_ids())
    if incident_id is not None:
        incidents &= {incident_id}
        chains &= {incident_id}
    breaks: list[ChainBreak] = []
    for orphan in sorted(chains - incidents - set(not_incidents)):
        breaks.append(ChainBreak(orphan, 0, "no incident has this chain: the incident was deleted"))
    for one in sorted(incidents & chains):
        opened = [r for kind in OPENINGS for r in await audit.find(one, kind)]
        if not any(record.seq == 1 for record in opened):
            breaks.append(
                ChainBreak(
                    one,
                    1,
                    "chain does not start with INCIDENT_OPENED or INCIDENT_DECLARED: "
                    "its start was deleted",
                )
            )
    without_chain = incidents - chains
    if without_chain:
        # read again: an incident being opened right now gets its first record a moment later
        without_chain -= set(await audit.incident_ids())
    for missing in sorted(without_chain):
        breaks.append(
            ChainBreak(
                missing,
                0,
                "the incident has no audit chain: it was deleted, or its opening never recorded",
            )
        )
    report.incidents_checked += len(without_chain)
    report.breaks.extend(breaks)
    return report
