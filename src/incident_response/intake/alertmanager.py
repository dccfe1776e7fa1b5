"""Prometheus Alertmanager webhook (version 4), normalised into one Alert per notification.

Alertmanager notifies per alert group (its `groupKey`), so one notification is one Alert whose
alert-group id is a short digest of the group key (group keys are long and full of braces).
The group's common annotations (filled in from its first alert's) are kept: web addresses
(`runbook_url`, `dashboard_url`, Grafana's `dashboardURL`) as links, the rest (`summary`,
`description`) as texts for the room's brief. Alertmanager re-sends an unchanged group every `repeat_interval`; the delivery id covers the
group key, the status and each alert's (fingerprint, startsAt, status), so a repeat is a
duplicate while a new alert joining the group, or a re-fire after a resolve, is a new delivery.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from incident_response.domain.alert import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertEventKind,
    AlertSource,
    Severity,
    delivery_id,
    severity_from_labels,
)
from incident_response.domain.clock import utc
from incident_response.domain.errors import InvalidAlert
from incident_response.domain.text import clean_line
from incident_response.intake.annotations import split_annotations
from incident_response.intake.body import json_object, text_labels, validate

SOURCE = AlertSource.ALERTMANAGER
SUPPORTED_VERSION = "4"

Status = Literal["firing", "resolved"]


class _Model(BaseModel):
    """Vendor keys keep their camelCase spelling; keys we do not read are ignored."""

    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class AlertmanagerAlert(_Model):
    status: Status
    labels: dict[str, Any] = Field(default_factory=dict)
    annotations: dict[str, Any] = Field(default_factory=dict)
    startsAt: datetime
    endsAt: datetime | None = None
    generatorURL: str = ""
    fingerprint: str = ""
    # Grafana-managed alerts (Grafana's own Alertmanager) add these beside the annotations
    dashboardURL: str = ""
    panelURL: str = ""


class AlertmanagerWebhook(_Model):
    version: str
    groupKey: str = Field(min_length=1)
    truncatedAlerts: int = 0
    status: Status
    receiver: str = ""
    groupLabels: dict[str, Any] = Field(default_factory=dict)
    commonLabels: dict[str, Any] = Field(default_factory=dict)
    commonAnnotations: dict[str, Any] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[AlertmanagerAlert]


def parse(
    body: bytes,
    *,
    received_at: datetime,
    severity_map: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
) -> list[Alert]:
    """One Alert per notification; raises InvalidAlert naming the field that is missing or wrong."""
    doc = json_object(body)
    version = doc.get("version")
    if version is not None and str(version) != SUPPORTED_VERSION:
        raise InvalidAlert("version", f'must be "{SUPPORTED_VERSION}", got {json.dumps(version)}')
    hook = validate(AlertmanagerWebhook, doc)
    labels = {**text_labels(hook.groupLabels), **text_labels(hook.commonLabels)}
    annotations = text_labels(hook.commonAnnotations)
    first = hook.alerts[0] if hook.alerts else None
    kept_links, kept_texts = split_annotations(
        {**(text_labels(first.annotations) if first else {}), **annotations},
        {"dashboardURL": first.dashboardURL, "panelURL": first.panelURL} if first else None,
    )
    received = utc(received_at)
    group_id = group_digest(hook.groupKey)
    return [
        Alert(
            source=SOURCE,
            kind=AlertEventKind.FIRING if hook.status == "firing" else AlertEventKind.RESOLVED,
            source_event=hook.status,
            alert_group_id=group_id,
            title=_title(annotations, labels, hook.receiver, group_id),
            labels=labels,
            severity=severity_from_labels(labels, severity_map),
            fired_at=min((utc(a.startsAt) for a in hook.alerts), default=received),
            received_at=received,
            links={**kept_links, **_links(hook)},
            annotations=kept_texts,
            alerts_count=len(hook.alerts) + max(hook.truncatedAlerts, 0),
            delivery_id=delivery_id(SOURCE.value, hook.groupKey, hook.status, _alerts_digest(hook)),
            raw=doc,
        )
    ]


def group_digest(group_key: str) -> str:
    """A short id for a group key that stays the same across restarts and processes."""
    return "am-" + hashlib.sha256(group_key.encode()).hexdigest()[:16]


def _alerts_digest(hook: AlertmanagerWebhook) -> str:
    members = sorted((a.fingerprint, utc(a.startsAt).isoformat(), a.status) for a in hook.alerts)
    return json.dumps(members, separators=(",", ":"))


def _title(
    annotations: Mapping[str, str], labels: Mapping[str, str], receiver: str, group_id: str
) -> str:
    for candidate in (annotations.get("summary"), labels.get("alertname")):
        title = clean_line(candidate or "")
        if title:
            return title
    return clean_line(f"Alertmanager group {receiver or group_id}")


def _links(hook: AlertmanagerWebhook) -> dict[str, str]:
    links: dict[str, str] = {}
    if hook.externalURL:
        links["alertmanager"] = hook.externalURL
    generator = next((a.generatorURL for a in hook.alerts if a.generatorURL), "")
    if generator:
        links["generator"] = generator
    return links
