"""Alert bodies for tests: a Grafana OnCall `resolve` body written from the documented fields
(tests/vendor/grafana-oncall/resolve.json), and Alertmanager v4 bodies."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from functools import cache
from typing import Any

from tests.vendor import vendor_file

ONCALL_EVENT_TYPES = (
    "escalation",
    "alert group created",
    "acknowledge",
    "resolve",
    "silence",
    "unsilence",
    "unresolve",
    "unacknowledge",
    "status change",
    "personal notification",
)


@cache
def _oncall_example_text() -> str:
    path = vendor_file("grafana-oncall/resolve.json")
    return path.read_text()


def oncall_example() -> dict[str, Any]:
    """The `resolve` fixture, untouched."""
    loaded: dict[str, Any] = json.loads(_oncall_example_text())
    return loaded


def oncall_body(
    event_type: str = "alert group created",
    *,
    group: str = "IGROUP0001",
    at: datetime | str = "2026-11-26T09:00:00.000000+00:00",
    labels: dict[str, str] | None = None,
    title: str | None = None,
) -> dict[str, Any]:
    """The fixture turned into another event, as OnCall would send it."""
    body = copy.deepcopy(oncall_example())
    body["event"] = {"type": event_type, "time": at if isinstance(at, str) else at.isoformat()}
    body["alert_group_id"] = group
    body["alert_group"]["id"] = group
    if title is not None:
        body["alert_group"]["title"] = title
    if event_type != "resolve":
        body["alert_group"]["state"] = "firing"
        body["alert_group"]["resolved_at"] = None
        body["alert_group_resolved_by"] = None
    if labels is not None:
        body["alert_payload"]["labels"] = labels
    return body


def alertmanager_body(
    status: str = "firing",
    *,
    group_key: str = '{}:{alertname="HighErrorRate", service="checkout"}',
    common_labels: dict[str, str] | None = None,
    summary: str | None = "Checkout error rate above 5%",
    alerts: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    labels = common_labels or {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "critical",
    }
    annotations = {"summary": summary} if summary else {}
    return {
        "version": "4",
        "groupKey": group_key,
        "truncatedAlerts": 0,
        "status": status,
        "receiver": "incident-response",
        "groupLabels": {"alertname": labels.get("alertname", "")},
        "commonLabels": labels,
        "commonAnnotations": annotations,
        "externalURL": "https://alertmanager.example.com",
        "alerts": alerts
        if alerts is not None
        else [am_alert(status, fingerprint="a1b2c3", labels=labels)],
    }


def am_alert(
    status: str = "firing",
    *,
    fingerprint: str,
    starts_at: str = "2026-11-26T08:58:00.123456789Z",
    labels: dict[str, str] | None = None,
) -> dict[str, Any]:
    return {
        "status": status,
        "labels": {**(labels or {}), "instance": f"pod-{fingerprint}"},
        "annotations": {"summary": "Checkout error rate above 5%"},
        "startsAt": starts_at,
        "endsAt": "0001-01-01T00:00:00Z" if status == "firing" else "2026-11-26T09:10:00Z",
        "generatorURL": f"https://prometheus.example.com/graph?g0.expr={fingerprint}",
        "fingerprint": fingerprint,
    }


def encode(body: dict[str, Any]) -> bytes:
    return json.dumps(body).encode()
