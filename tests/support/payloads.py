"""Alert bodies built from the Grafana OnCall fixture (tests/vendor/), so tests speak the wire format."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from functools import cache
from typing import Any

from tests.vendor import vendor_file


@cache
def _oncall_example() -> dict[str, Any]:
    doc: dict[str, Any] = json.loads(vendor_file("grafana-oncall/resolve.json").read_text())
    return doc


def oncall_payload(
    event_type: str = "alert group created",
    *,
    group: str = "IE2E0001",
    title: str = "HighErrorRate checkout",
    labels: dict[str, str] | None = None,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The vendor's example with its event type, group, title and labels changed."""
    body = copy.deepcopy(_oncall_example())
    body["event"]["type"] = event_type
    body["event"]["time"] = (at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%S.%f+00:00")
    body["alert_group_id"] = group
    body["alert_group"]["id"] = group
    body["alert_group"]["title"] = title
    if event_type == "resolve":
        body["alert_group"]["state"] = "resolved"
    else:
        body["alert_group"]["state"] = "firing"
        body["alert_group"]["resolved_at"] = None
        body["alert_group_resolved_by"] = None
    body["alert_payload"]["labels"] = labels or {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "critical",
    }
    return body
