"""Alerts as every source is normalised into: one shape, one stable alert-group key."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class AlertSource(StrEnum):
    """Where an incident came from: an alert source, or (MANUAL) a person who declared it. No
    parser produces MANUAL; a declared incident carries it so every surface shows its origin."""

    GRAFANA_ONCALL = "grafana-oncall"
    ALERTMANAGER = "alertmanager"
    MANUAL = "manual"


class AlertEventKind(StrEnum):
    """What a delivery says happened to the alert group, across sources."""

    FIRING = "firing"  # a new or re-opened alert group: open or reopen an incident
    RESOLVED = "resolved"  # the source considers the problem gone: mitigate
    ACKNOWLEDGED = "acknowledged"
    SILENCED = "silenced"
    UPDATED = "updated"  # escalation steps, notifications, status changes: recorded only


class Severity(StrEnum):
    P1 = "P1"
    P2 = "P2"
    P3 = "P3"
    P4 = "P4"

    @property
    def rank(self) -> int:
        return int(self.value[1])


DEFAULT_SEVERITY_MAP: Mapping[str, Severity] = {
    "critical": Severity.P1,
    "page": Severity.P1,
    "p1": Severity.P1,
    "sev1": Severity.P1,
    "high": Severity.P2,
    "error": Severity.P2,
    "major": Severity.P2,
    "p2": Severity.P2,
    "sev2": Severity.P2,
    "warning": Severity.P3,
    "medium": Severity.P3,
    "p3": Severity.P3,
    "sev3": Severity.P3,
    "info": Severity.P4,
    "low": Severity.P4,
    "none": Severity.P4,
    "p4": Severity.P4,
    "sev4": Severity.P4,
}

SEVERITY_LABELS: Sequence[str] = ("severity", "priority", "level")


def severity_from_labels(
    labels: Mapping[str, str],
    mapping: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
    default: Severity = Severity.P3,
) -> Severity:
    """Severity from the first label that names one (`severity`, then `priority`, then `level`).

    Unknown values fall back to `default` rather than failing intake: an alert with an odd label
    must still open an incident.
    """
    for name in SEVERITY_LABELS:
        value = labels.get(name)
        if value is None:
            continue
        found = mapping.get(str(value).strip().lower())
        if found is not None:
            return found
    return default


class Alert(BaseModel):
    """One delivery from an alert source, normalised."""

    model_config = ConfigDict(frozen=True)

    source: AlertSource
    kind: AlertEventKind
    source_event: str = Field(
        description="The source's own event name, e.g. 'alert group created'."
    )
    alert_group_id: str = Field(description="The source's id of the alert group.")
    title: str
    labels: dict[str, str] = Field(default_factory=dict)
    severity: Severity
    fired_at: datetime
    received_at: datetime
    links: dict[str, str] = Field(default_factory=dict)
    annotations: dict[str, str] = Field(
        default_factory=dict,
        description="The alert's words for people (summary, description), by annotation name; "
        "its web addresses are in `links`.",
    )
    alerts_count: int = 1
    delivery_id: str = Field(description="Stable id of this delivery: the same body twice, one id.")
    raw: dict[str, Any] = Field(default_factory=dict, repr=False)

    @property
    def alert_group_key(self) -> str:
        """The key an incident is looked up by: source-qualified, so ids never collide."""
        return alert_group_key(self.source, self.alert_group_id)

    @property
    def service(self) -> str:
        return self.labels.get("service") or self.labels.get("job") or "unknown"


def alert_group_key(source: AlertSource | str, alert_group_id: str) -> str:
    return f"{AlertSource(source).value}:{alert_group_id}"


def delivery_id(*parts: object) -> str:
    """A stable digest of the parts that identify one delivery."""
    canonical = json.dumps([str(p) for p in parts], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:32]


def grouping_key(labels: Mapping[str, str], names: Sequence[str]) -> str:
    """The storm-grouping key: alerts whose `names` labels agree belong to one incident.

    When none of the labels are present the key is empty and grouping does not apply.
    """
    values = [f"{n}={labels[n]}" for n in names if labels.get(n)]
    return "|".join(values)
