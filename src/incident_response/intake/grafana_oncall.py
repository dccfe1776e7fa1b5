"""Grafana OnCall (and Grafana Cloud IRM) outgoing webhooks, normalised into Alerts.

OnCall has no "firing" event: it tells us what happened to an alert group. How each event type
maps onto what we do with it:

| event.type              | AlertEventKind                       | why                                        |
|-------------------------|--------------------------------------|--------------------------------------------|
| `alert group created`   | FIRING                               | a new problem: open an incident            |
| `unresolve`             | FIRING                               | the problem is back: reopen / new incident |
| `resolve`               | RESOLVED                             | the source says it is gone: mitigate       |
| `acknowledge`           | ACKNOWLEDGED                         | someone is on it; recorded only            |
| `silence`               | SILENCED                             | paging paused; recorded only               |
| `status change`         | from `alert_group.state` (firing ->  | a webhook set up only for status changes   |
|                         | FIRING, resolved -> RESOLVED, ...)   | must still mitigate and reopen             |
| `unacknowledge`,        | UPDATED                              | the incident is unchanged by these;        |
| `unsilence`,            |                                      | recorded only                              |
| `escalation`,           |                                      |                                            |
| `personal notification` |                                      |                                            |
| anything else           | UPDATED                              | a new OnCall event type must not fail      |
|                         |                                      | intake (OnCall does not retry a non-2xx)   |

Labels merge integration labels, then alert-group labels, then the raw alert's labels (the most
specific wins). Alert-group labels come as a mapping or as a list of `{key, value}` pairs, where
key and value are strings or `{id, name}` objects; all three shapes are accepted.

Only `event.type`, `event.time` and `alert_group.id` are required (422 without them). OnCall
does not retry a refused delivery, so any other field in an unexpected shape (the raw alert of a
non-Alertmanager integration, say) is read as absent rather than costing us the page.

The raw alert's annotations are kept: web addresses (`runbook_url`, `dashboard_url`, a
Grafana-managed alert's `dashboardURL`/`panelURL`) as links beside the permalinks, the rest
(`summary`, `description`) as texts for the room's brief.

The delivery id covers (source, alert group, event type, event time): the same delivery posted
twice is one delivery, while a later `alert group created` for the same group is a new one.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, TypeVar

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
)

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
from incident_response.domain.text import clean_line
from incident_response.intake.annotations import split_annotations
from incident_response.intake.body import json_object, text_labels, validate

SOURCE = AlertSource.GRAFANA_ONCALL

EVENT_KINDS: Mapping[str, AlertEventKind] = {
    "alert group created": AlertEventKind.FIRING,
    "unresolve": AlertEventKind.FIRING,
    "resolve": AlertEventKind.RESOLVED,
    "acknowledge": AlertEventKind.ACKNOWLEDGED,
    "silence": AlertEventKind.SILENCED,
    "unacknowledge": AlertEventKind.UPDATED,
    "unsilence": AlertEventKind.UPDATED,
    "escalation": AlertEventKind.UPDATED,
    "personal notification": AlertEventKind.UPDATED,
}

STATE_KINDS: Mapping[str, AlertEventKind] = {
    "firing": AlertEventKind.FIRING,
    "resolved": AlertEventKind.RESOLVED,
    "acknowledged": AlertEventKind.ACKNOWLEDGED,
    "silenced": AlertEventKind.SILENCED,
}


def _or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    try:
        return handler(value)
    except ValidationError:
        return None


T = TypeVar("T")
# An optional field that reads as None when malformed: OnCall does not retry a refused delivery,
# so a cosmetic field in an odd shape must not cost us the page.
Lenient = Annotated[T | None, WrapValidator(_or_none)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", coerce_numbers_to_str=True)


class _Named(_Model):
    name: str


class _LabelPair(_Model):
    key: str | _Named
    value: str | _Named | None = None


Labels = dict[str, Any] | list[_LabelPair]


class Event(_Model):
    type: str = Field(min_length=1)
    time: datetime


class AlertGroup(_Model):
    id: str = Field(min_length=1)
    alerts_count: Lenient[int] = 1
    state: Lenient[str] = None
    created_at: Lenient[datetime] = None
    title: Lenient[str] = None
    permalinks: Lenient[dict[str, Lenient[str]]] = None
    labels: Lenient[Labels] = None


class Integration(_Model):
    labels: Lenient[Labels] = None


class RawAlert(_Model):
    """The first raw alert of the group (often an Alertmanager alert); every field optional."""

    labels: Lenient[dict[str, Any]] = None
    annotations: Lenient[dict[str, Any]] = None
    generatorURL: Lenient[str] = None
    dashboardURL: Lenient[str] = None
    panelURL: Lenient[str] = None


class OnCallWebhook(_Model):
    """The outgoing-webhook body. Only `event.type`, `event.time` and `alert_group.id` are
    required; every other key is optional, read when it makes sense and otherwise ignored."""

    event: Event
    alert_group: AlertGroup
    alert_payload: Lenient[RawAlert] = None
    integration: Lenient[Integration] = None


def parse(
    body: bytes,
    *,
    received_at: datetime,
    severity_map: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
) -> list[Alert]:
    """One Alert per delivery; raises InvalidAlert naming the field that is missing or wrong."""
    doc = json_object(body)
    hook = validate(OnCallWebhook, doc)
    group = hook.alert_group
    raw_alert = hook.alert_payload or RawAlert()
    labels = {
        **_labels(hook.integration.labels if hook.integration else None),
        **_labels(group.labels),
        **text_labels(raw_alert.labels),
    }
    event_time = utc(hook.event.time)
    kept_links, kept_texts = split_annotations(
        text_labels(raw_alert.annotations),
        {"dashboardURL": raw_alert.dashboardURL, "panelURL": raw_alert.panelURL},
    )
    return [
        Alert(
            source=SOURCE,
            kind=event_kind(hook.event.type, group.state),
            source_event=hook.event.type,
            alert_group_id=group.id,
            title=_title(group, raw_alert),
            labels=labels,
            severity=severity_from_labels(labels, severity_map),
            fired_at=utc(group.created_at) if group.created_at else event_time,
            received_at=utc(received_at),
            links={**kept_links, **_links(group, raw_alert)},
            annotations=kept_texts,
            alerts_count=max(group.alerts_count or 1, 1),
            delivery_id=delivery_id(
                SOURCE.value, group.id, hook.event.type, event_time.isoformat()
            ),
            raw=doc,
        )
    ]


def event_kind(event_type: str, state: str | None) -> AlertEventKind:
    normalised = event_type.strip().lower()
    if normalised == "status change":
        return STATE_KINDS.get((state or "").strip().lower(), AlertEventKind.UPDATED)
    return EVENT_KINDS.get(normalised, AlertEventKind.UPDATED)


def _labels(raw: Labels | None) -> dict[str, str]:
    if raw is None:
        return {}
    if isinstance(raw, dict):
        return text_labels(raw)
    pairs: dict[str, str] = {}
    for pair in raw:
        key = pair.key if isinstance(pair.key, str) else pair.key.name
        if pair.value is None:
            continue
        pairs[key] = pair.value if isinstance(pair.value, str) else pair.value.name
    return pairs


def _title(group: AlertGroup, raw_alert: RawAlert) -> str:
    annotations = text_labels(raw_alert.annotations)
    labels = text_labels(raw_alert.labels)
    for candidate in (group.title, annotations.get("summary"), labels.get("alertname")):
        title = clean_line(candidate or "")
        if title:
            return title
    return clean_line(f"Alert group {group.id}")


def _links(group: AlertGroup, raw_alert: RawAlert) -> dict[str, str]:
    links = {name: url for name, url in (group.permalinks or {}).items() if url}
    if raw_alert.generatorURL:
        links["generator"] = raw_alert.generatorURL
    return links
