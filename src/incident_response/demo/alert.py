"""The demo's alert: what Grafana OnCall sends when an Alertmanager alert opens an alert group.

Built here rather than read from a sample file so the demo works from an installed package, and
with services of the sample roster so the war room fills with the right team.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

ONCALL_ID_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class Scenario:
    """One alert a newcomer recognises: a service of the sample roster misbehaving."""

    service: str
    alertname: str
    title: str
    severity: str
    summary: str
    description: str


SCENARIOS: tuple[Scenario, ...] = (
    Scenario(
        service="checkout",
        alertname="HighErrorRate",
        title="Checkout: 5xx error rate above 5%",
        severity="critical",
        summary="Checkout is failing 12% of requests",
        description="HTTP 5xx ratio on checkout-api has been above 5% for 5 minutes (now 12.4%).",
    ),
    Scenario(
        service="payments",
        alertname="PaymentAuthorisationLatency",
        title="Payments: p99 authorisation latency above 2 s",
        severity="critical",
        summary="Card authorisations are slow",
        description="p99 latency of /v1/authorise has been above 2 s for 10 minutes (now 3.8 s).",
    ),
    Scenario(
        service="api",
        alertname="APIAvailabilityBurnRate",
        title="API: availability SLO burning 14x too fast",
        severity="high",
        summary="Public API error budget burning fast",
        description="The 1h burn rate of the 99.9% availability SLO is 14.2 (threshold 14.4 / 1h).",
    ),
)


def oncall_alert(scenario: Scenario, *, group_id: str, at: datetime) -> dict[str, Any]:
    """An `alert group created` outgoing-webhook body as Grafana OnCall sends it for an
    Alertmanager integration (the shape of its published example, with a firing group)."""
    stamp = at.astimezone(UTC)
    iso = stamp.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    grafana = "https://grafana.example.com"
    labels = {
        "alertname": scenario.alertname,
        "service": scenario.service,
        "severity": scenario.severity,
        "cluster": "prod-eu-1",
        "namespace": scenario.service,
    }
    return {
        "event": {"type": "alert group created", "time": stamp.isoformat()},
        "user": None,
        "alert_group": {
            "id": group_id,
            "integration_id": "CDEMOALERTMGR",
            "route_id": "RDEMODEFAULT1",
            "alerts_count": 1,
            "state": "firing",
            "created_at": iso,
            "resolved_at": None,
            "acknowledged_at": None,
            "title": scenario.title,
            "permalinks": {
                "slack": None,
                "telegram": None,
                "web": f"{grafana}/a/grafana-oncall-app/alert-groups/{group_id}",
            },
            "labels": {"team": scenario.service},
        },
        "alert_group_id": group_id,
        "alert_payload": {
            "status": "firing",
            "labels": labels,
            "annotations": {
                "summary": scenario.summary,
                "description": scenario.description,
                "runbook_url": f"https://runbooks.example.com/{scenario.service}/{scenario.alertname}",
            },
            "startsAt": iso,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": f"{grafana}/alerting/grafana/{scenario.alertname.lower()}/view",
            "fingerprint": secrets.token_hex(8),
        },
        "integration": {
            "id": "CDEMOALERTMGR",
            "type": "alertmanager",
            "name": "Production Alertmanager",
            "team": scenario.service,
            "labels": {},
        },
        "alert_group_acknowledged_by": None,
        "alert_group_resolved_by": None,
        "notified_users": [],
        "users_to_be_notified": [],
        "responses": {},
        "webhook": {"id": "WHDEMOINCIDENT", "name": "incident-response", "labels": {}},
    }


def new_group_id() -> str:
    return "I" + "".join(secrets.choice(ONCALL_ID_ALPHABET) for _ in range(12))


def pick_scenario(incidents: list[Mapping[str, Any]]) -> Scenario:
    """The first scenario no open incident is about, so the alert opens a new war room instead of
    joining an earlier demo's (an open incident with the same service and alert name would
    absorb it as part of a storm)."""
    busy = {
        (i.get("labels", {}).get("service"), i.get("labels", {}).get("alertname"))
        for i in incidents
        if i.get("status") != "resolved"
    }
    return next((s for s in SCENARIOS if (s.service, s.alertname) not in busy), SCENARIOS[0])
