"""Telemetry without a backend: the alert's own links, clearly marked as such.

The war room still gets what the alert carried (dashboard, runbook and source links; its labels
are in the brief already), and nobody mistakes it for live metrics: the snapshot's one source
line says no telemetry backend is configured.
"""

from __future__ import annotations

from datetime import datetime

from incident_response.domain.clock import utc
from incident_response.domain.context import ContextSnapshot, SourceReport
from incident_response.domain.incident import Incident

NOT_CONFIGURED = "no telemetry backend configured"
NOTICE = SourceReport(
    source="Telemetry",
    found=f"{NOT_CONFIGURED}: showing the alert's own labels and links (configure Grafana Cloud "
    "for metrics, logs and traces)",
)


def web_links(links: dict[str, str]) -> dict[str, str]:
    """Links a browser can open; anything else an alert carried is left out."""
    return {
        name: url
        for name, url in links.items()
        if isinstance(url, str) and url.startswith(("https://", "http://"))
    }


class EmbeddedTelemetry:
    """Telemetry port for the embedded default."""

    async def snapshot(self, incident: Incident, *, at: datetime) -> ContextSnapshot:
        return ContextSnapshot(sources=(NOTICE,), links=web_links(incident.links), taken_at=utc(at))
