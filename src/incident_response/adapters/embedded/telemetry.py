"""Telemetry without a backend: the alert's own labels and links, clearly marked as such.

The war room still gets what the alert carried (dashboard, runbook and source links, labels), and
nobody mistakes it for live metrics: the snapshot says no telemetry backend is configured.
"""

from __future__ import annotations

from datetime import datetime

from incident_response.domain.clock import utc
from incident_response.domain.context import ContextSnapshot, Fact
from incident_response.domain.incident import Incident

NOT_CONFIGURED = "no telemetry backend configured"
NOTICE = Fact(
    label="Telemetry",
    value=f"{NOT_CONFIGURED}: showing the alert's own labels and links (configure Grafana Cloud "
    "for metrics, logs, traces and deploys)",
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
        labels = tuple(
            Fact(label=f"label {name}", value=value)
            for name, value in sorted(incident.labels.items())
        )
        return ContextSnapshot(
            metrics=(NOTICE, *labels),
            links=web_links(incident.links),
            taken_at=utc(at),
        )
