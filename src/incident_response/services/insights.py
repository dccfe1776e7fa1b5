"""Reading the insights (domain/insights.py) from the store, on any backend.

One ranged read of the incidents opened in the weeks asked for. Every moment but one is on the
incident itself (`created_at`, `assembled_at`, `mitigated_at`, `resolved_at`, each draft's
`published_at`), so the audit log is read only for the incidents whose war room assembled without
an IC (nobody on call) or never assembled: for those the first IC_ASSIGNED says when someone
took the incident (an IC without any IC_ASSIGNED record held the role from the start). That keeps the report to one query plus a few, not one per incident.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from incident_response.domain.audit import AuditEventType
from incident_response.domain.clock import utc
from incident_response.domain.incident import Incident
from incident_response.domain.insights import (
    EVERYTHING,
    IncidentTimes,
    Insights,
    InsightsFilter,
    WeekRange,
    acknowledged_at,
    insights,
)
from incident_response.ports import AuditLog, IncidentStore
from incident_response.services.war_room_steps import Step

MAX_INCIDENTS = 10_000
AUDIT_READS_AT_ONCE = 8  # the few audit reads run side by side, without a burst on the table


@dataclass(frozen=True)
class InsightsReport:
    insights: Insights
    truncated: bool  # more incidents were opened in the range than one report reads


def first_update_at(incident: Incident) -> datetime | None:
    """The first status update published on the status page: the draft the gate marked
    published, at the moment its STATUSPAGE_PUBLISHED record names."""
    return min((utc(d.published_at) for d in incident.drafts if d.published_at), default=None)


def ic_at_assembly(incident: Incident) -> bool:
    """Whether the war room's responder step named an IC (the assembly then acknowledges)."""
    found = incident.assembly_steps.get(Step.RESOLVE_RESPONDERS)
    return isinstance(found, Mapping) and bool(found.get("ic"))


class InsightsReader:
    def __init__(
        self, *, store: IncidentStore, audit: AuditLog, limit: int = MAX_INCIDENTS
    ) -> None:
        self._store = store
        self._audit = audit
        self._limit = limit
        self._reads = asyncio.Semaphore(AUDIT_READS_AT_ONCE)

    async def read(self, weeks: WeekRange, only: InsightsFilter = EVERYTHING) -> InsightsReport:
        incidents = await self._store.created_between(weeks.first, weeks.end, limit=self._limit)
        # a drill rehearses the response; counting it would flatter (or spoil) the real figures
        times = await asyncio.gather(*(self.times(i) for i in incidents if not i.is_drill))
        return InsightsReport(
            insights=insights(times, weeks=weeks, only=only),
            truncated=len(incidents) >= self._limit,
        )

    async def times(self, incident: Incident) -> IncidentTimes:
        assembled = utc(incident.assembled_at) if incident.assembled_at else None
        named = ic_at_assembly(incident)
        assigned: list[datetime] = []
        if incident.ic is not None and not (assembled and named):
            async with self._reads:
                records = await self._audit.find(incident.id, AuditEventType.IC_ASSIGNED)
            assigned = [utc(r.at) for r in records]
            # an IC with no assignment on record had it from the start (declared with one)
            named = named or not assigned
        return IncidentTimes(
            incident_id=incident.id,
            service=incident.service,
            severity=incident.severity,
            opened_at=utc(incident.created_at),
            acknowledged_at=acknowledged_at(
                assembled_at=assembled, ic_at_assembly=named, ic_assigned=assigned
            ),
            first_update_at=first_update_at(incident),
            mitigated_at=utc(incident.mitigated_at) if incident.mitigated_at else None,
            resolved_at=utc(incident.resolved_at) if incident.resolved_at else None,
        )
