"""Incidents for contract suites and unit tests, built the way intake builds them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incident_response.domain.alert import Alert, AlertEventKind, AlertSource, Severity, delivery_id
from incident_response.domain.incident import Incident, Responder

STARTED = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

LABELS = {
    "alertname": "HighErrorRate",
    "service": "checkout",
    "severity": "critical",
    "instance": "ip-10-4-2-17.eu-west-1.compute.internal",
    "pod": "checkout-7f9c6d8b5-x2kqp",
    "team": "payments",
}
LINKS = {
    "dashboard": "https://grafana.example.com/d/checkout-errors",
    "runbook": "https://runbooks.example.com/checkout/high-error-rate",
    "source": "https://oncall.example.com/alert-groups/IABC123",
}


def sample_alert(**overrides: Any) -> Alert:
    fields: dict[str, Any] = {
        "source": AlertSource.GRAFANA_ONCALL,
        "kind": AlertEventKind.FIRING,
        "source_event": "alert group created",
        "alert_group_id": "IABC123",
        "title": "HighErrorRate on ip-10-4-2-17.eu-west-1.compute.internal",
        "labels": dict(LABELS),
        "severity": Severity.P1,
        "fired_at": STARTED,
        "received_at": STARTED,
        "links": dict(LINKS),
        "delivery_id": delivery_id("sample", "IABC123"),
    }
    fields.update(overrides)
    return Alert(**fields)


def sample_incident(**changes: Any) -> Incident:
    """A P1 checkout incident with an IC, responders and internal labels that must stay inside."""
    incident = Incident.open_from(sample_alert(), grouping_key="service=checkout", now=STARTED)
    incident = incident.update(
        ic="alice@example.com",
        responders=(
            Responder(email="alice@example.com", name="Alice Martin", role="primary"),
            Responder(email="bob@example.com", name="Bob Okafor", role="secondary"),
        ),
    )
    return incident.update(**changes) if changes else incident
