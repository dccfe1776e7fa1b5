"""The context snapshot, recent changes and published updates: facts services pass through ports."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field


class Fact(BaseModel):
    model_config = ConfigDict(frozen=True)

    label: str
    value: str
    url: str = ""


class SourceReport(BaseModel):
    """What one telemetry source (Mimir, Loki, Tempo, ...) was asked and what came of it.

    One readable line in the room: `found` when the source answered (it may have found nothing),
    `failed` when it did not (an error, a timeout, an open circuit). `query` says what was asked,
    so a responder can repeat it; `url` opens it in the vendor's UI when the adapter knows how.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    query: str = ""
    found: str = ""
    failed: str = ""
    url: str = ""


class ContextSnapshot(BaseModel):
    """Metrics, logs, traces and deploys around an alert, as the Telemetry port found them.

    `sources` is the readable summary, one report per source asked; the Fact tuples carry
    individual facts for adapters that have no sources to report on."""

    model_config = ConfigDict(frozen=True)

    sources: tuple[SourceReport, ...] = ()
    metrics: tuple[Fact, ...] = ()
    logs: tuple[Fact, ...] = ()
    traces: tuple[Fact, ...] = ()
    deploys: tuple[Fact, ...] = ()
    links: dict[str, str] = Field(default_factory=dict)
    taken_at: datetime | None = None


class Change(BaseModel):
    """A code change (commit or merged pull request) from the CodeHost port."""

    model_config = ConfigDict(frozen=True)

    repo: str
    sha: str
    title: str
    author: str
    at: datetime
    url: str = ""


class PublicStatus(StrEnum):
    """Statuspage's incident statuses, the words customers see."""

    INVESTIGATING = "investigating"
    IDENTIFIED = "identified"
    MONITORING = "monitoring"
    RESOLVED = "resolved"


class Impact(StrEnum):
    NONE = "none"
    MINOR = "minor"
    MAJOR = "major"
    CRITICAL = "critical"


class ComponentStatus(StrEnum):
    """Statuspage's component statuses: what an update says of each component it names."""

    OPERATIONAL = "operational"
    DEGRADED_PERFORMANCE = "degraded_performance"
    PARTIAL_OUTAGE = "partial_outage"
    MAJOR_OUTAGE = "major_outage"
    UNDER_MAINTENANCE = "under_maintenance"


# a component's status when the update does not choose one: from the incident's impact
COMPONENT_STATUS_BY_IMPACT: dict[Impact, ComponentStatus] = {
    Impact.NONE: ComponentStatus.OPERATIONAL,
    Impact.MINOR: ComponentStatus.DEGRADED_PERFORMANCE,
    Impact.MAJOR: ComponentStatus.PARTIAL_OUTAGE,
    Impact.CRITICAL: ComponentStatus.MAJOR_OUTAGE,
}


class PublishRequest(BaseModel):
    """One approved update on its way to the public status page.

    `key` (draft id and version) lets an adapter find an update it already published, which is
    how a crash between publish and record is recovered without a second public post.
    """

    model_config = ConfigDict(frozen=True)

    key: str
    incident_name: str
    body: str
    status: PublicStatus
    impact: Impact
    components: tuple[str, ...] = ()
    status_page_incident_id: str | None = None
    # the status the IC chose for each named component (by name); unnamed ones follow the impact
    component_statuses: dict[str, ComponentStatus] = Field(default_factory=dict)
    # a scheduled maintenance: its window (the page shows it as upcoming, in progress, completed)
    scheduled_for: datetime | None = None
    scheduled_until: datetime | None = None

    def status_of(self, component: str) -> ComponentStatus:
        """What the page shows for `component` after this update: operational once resolved,
        else the IC's choice, else what the impact implies."""
        if self.status is PublicStatus.RESOLVED:
            return ComponentStatus.OPERATIONAL
        chosen = self.component_statuses.get(component)
        return chosen if chosen is not None else COMPONENT_STATUS_BY_IMPACT[self.impact]


class PublishedUpdate(BaseModel):
    model_config = ConfigDict(frozen=True)

    key: str
    status_page_incident_id: str
    update_id: str
    url: str = ""
    published_at: datetime


class FiledPostmortem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    key: str
