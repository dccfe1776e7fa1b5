"""The drill's alert: a Grafana OnCall `alert group created` body that says it is a drill.

It carries the label `drill=true` (the incident keeps its alert's labels, so every surface can
tell a drill: the API's `drill` field, the console, the room's title) and an alert name unique
to the run, so a drill never joins an open incident as part of a storm, nor another drill.
"""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from incident_response.demo.alert import new_group_id
from incident_response.domain.incident import DRILL_LABEL

DRILL_ALERTNAME = "IncidentResponseDrill"
TITLE_PREFIX = "[DRILL]"


def drill_run_id() -> str:
    return secrets.token_hex(4)


def drill_alert(*, run_id: str, service: str, severity: str, at: datetime) -> dict[str, Any]:
    """What Grafana OnCall sends for a firing Alertmanager alert, marked as a drill."""
    group_id = new_group_id()
    iso = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    title = f"{TITLE_PREFIX} synthetic alert on {service} (run {run_id})"
    labels = {
        "alertname": f"{DRILL_ALERTNAME}-{run_id}",
        "service": service,
        "severity": severity,
        DRILL_LABEL: "true",
        "drill_run": run_id,
    }
    return {
        "event": {"type": "alert group created", "time": at.astimezone(UTC).isoformat()},
        "user": None,
        "alert_group": {
            "id": group_id,
            "integration_id": "CDRILL",
            "route_id": "RDRILL",
            "alerts_count": 1,
            "state": "firing",
            "created_at": iso,
            "resolved_at": None,
            "acknowledged_at": None,
            "title": title,
            "permalinks": {"slack": None, "telegram": None, "web": None},
            "labels": {DRILL_LABEL: "true"},
        },
        "alert_group_id": group_id,
        "alert_payload": {
            "status": "firing",
            "labels": labels,
            "annotations": {
                "summary": f"Drill {run_id}: nothing is broken",
                "description": "A synthetic alert fired by `incident-response drill` to time the "
                "war room's assembly. It is resolved by the drill; nothing is published.",
            },
            "startsAt": iso,
            "endsAt": "0001-01-01T00:00:00Z",
            "generatorURL": "",
            "fingerprint": secrets.token_hex(8),
        },
        "integration": {
            "id": "CDRILL",
            "type": "alertmanager",
            "name": "incident-response drill",
            "team": service,
            "labels": {},
        },
        "alert_group_acknowledged_by": None,
        "alert_group_resolved_by": None,
        "notified_users": [],
        "users_to_be_notified": [],
        "responses": {},
        "webhook": {"id": "WHDRILL", "name": "incident-response drill", "labels": {}},
    }
