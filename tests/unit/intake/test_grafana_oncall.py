"""Grafana OnCall outgoing webhooks, from the vendor's real example body."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pytest

from incident_response.domain.alert import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertEventKind,
    AlertSource,
    Severity,
)
from incident_response.domain.errors import InvalidAlert
from incident_response.intake import grafana_oncall
from tests.unit.intake.examples import (
    ONCALL_EVENT_TYPES,
    encode,
    oncall_body,
    oncall_example,
)

RECEIVED = datetime(2026, 11, 26, 9, 0, 5, tzinfo=UTC)


def parse(
    body: dict[str, Any] | bytes, severity_map: Mapping[str, Severity] | None = None
) -> Alert:
    raw = body if isinstance(body, bytes) else encode(body)
    alerts = grafana_oncall.parse(
        raw, received_at=RECEIVED, severity_map=severity_map or DEFAULT_SEVERITY_MAP
    )
    assert len(alerts) == 1
    return alerts[0]


def test_the_resolve_fixture_is_a_resolve_of_its_alert_group() -> None:
    alert = parse(oncall_example())

    assert alert.source is AlertSource.GRAFANA_ONCALL
    assert alert.kind is AlertEventKind.RESOLVED
    assert alert.source_event == "resolve"
    assert alert.alert_group_id == "IQXR4T8M2PZ51"
    assert alert.alert_group_key == "grafana-oncall:IQXR4T8M2PZ51"
    assert alert.title == "Ledger write latency"
    assert alert.fired_at == datetime(2026, 10, 14, 7, 31, 5, 118402, tzinfo=UTC)
    assert alert.received_at == RECEIVED
    assert alert.links == {
        "web": "https://oncall.example.org/a/grafana-oncall-app/alert-groups/IQXR4T8M2PZ51"
    }
    assert alert.labels == {"priority": "2", "alertname": "LedgerWriteLatency", "cluster": "blue-2"}
    assert alert.raw["responses"]["WTICKETSYNC01"]["status"] == "new"


EXPECTED_KINDS = {
    "alert group created": AlertEventKind.FIRING,
    "unresolve": AlertEventKind.FIRING,
    "resolve": AlertEventKind.RESOLVED,
    "acknowledge": AlertEventKind.ACKNOWLEDGED,
    "silence": AlertEventKind.SILENCED,
    "unsilence": AlertEventKind.UPDATED,
    "unacknowledge": AlertEventKind.UPDATED,
    "escalation": AlertEventKind.UPDATED,
    "personal notification": AlertEventKind.UPDATED,
    # oncall_body leaves a non-resolve event's alert group in state "firing"
    "status change": AlertEventKind.FIRING,
}


def test_every_documented_event_type_has_an_expected_kind() -> None:
    assert set(EXPECTED_KINDS) == set(ONCALL_EVENT_TYPES)


@pytest.mark.parametrize("event_type", ONCALL_EVENT_TYPES)
def test_each_event_type_maps_to_its_kind(event_type: str) -> None:
    alert = parse(oncall_body(event_type, group="IEVENT01"))

    assert alert.kind is EXPECTED_KINDS[event_type]
    assert alert.source_event == event_type
    assert alert.alert_group_id == "IEVENT01"


@pytest.mark.parametrize(
    ("state", "kind"),
    [
        ("firing", AlertEventKind.FIRING),
        ("resolved", AlertEventKind.RESOLVED),
        ("acknowledged", AlertEventKind.ACKNOWLEDGED),
        ("silenced", AlertEventKind.SILENCED),
        ("something new", AlertEventKind.UPDATED),
    ],
)
def test_a_status_change_takes_its_kind_from_the_alert_group_state(
    state: str, kind: AlertEventKind
) -> None:
    body = oncall_body("status change")
    body["alert_group"]["state"] = state

    assert parse(body).kind is kind


def test_an_unknown_event_type_is_recorded_rather_than_refused() -> None:
    assert parse(oncall_body("maintenance started")).kind is AlertEventKind.UPDATED


def test_labels_merge_integration_group_and_raw_alert_with_the_raw_alert_winning() -> None:
    body = oncall_body(labels={"service": "checkout", "severity": "critical", "team": "payments"})
    body["integration"]["labels"] = {"team": "platform", "env": "prod"}
    body["alert_group"]["labels"] = {"team": "sre", "urgency": "1"}

    alert = parse(body)

    assert alert.labels == {
        "env": "prod",
        "urgency": "1",
        "team": "payments",
        "service": "checkout",
        "severity": "critical",
    }
    assert alert.severity is Severity.P1
    assert alert.service == "checkout"


@pytest.mark.parametrize(
    "group_labels",
    [
        [{"key": "team", "value": "sre"}, {"key": "tier", "value": 1}],
        [
            {"key": {"id": "k1", "name": "team"}, "value": {"id": "v1", "name": "sre"}},
            {"key": {"id": "k2", "name": "tier"}, "value": {"id": "v2", "name": "1"}},
        ],
        {"team": "sre", "tier": 1},
    ],
    ids=["pairs", "named-pairs", "mapping"],
)
def test_alert_group_labels_are_read_in_each_shape_oncall_uses(group_labels: object) -> None:
    body = oncall_body(labels={})
    body["integration"]["labels"] = {}
    body["alert_group"]["labels"] = group_labels

    assert parse(body).labels == {"team": "sre", "tier": "1"}


def test_severity_uses_the_configured_mapping() -> None:
    body = oncall_body(labels={"severity": "sev0"})

    assert parse(body).severity is Severity.P3  # unknown to the default map
    assert parse(body, {"sev0": Severity.P1}).severity is Severity.P1


def test_the_title_falls_back_to_the_summary_then_the_alertname() -> None:
    body = oncall_body(labels={"alertname": "DiskFull"})
    body["alert_group"]["title"] = None
    assert parse(body).title == "DiskFull"

    body["alert_payload"]["annotations"] = {"summary": "Disk 95% full on db-1"}
    assert parse(body).title == "Disk 95% full on db-1"

    body["alert_payload"] = None
    assert parse(body).title == "Alert group IGROUP0001"


def test_the_same_delivery_twice_has_one_delivery_id() -> None:
    body = oncall_body("alert group created")

    assert parse(body).delivery_id == parse(json.loads(json.dumps(body))).delivery_id


def test_a_later_event_for_the_same_group_is_a_new_delivery() -> None:
    first = parse(oncall_body("alert group created", at="2026-11-26T09:00:00+00:00"))
    resolved = parse(oncall_body("resolve", at="2026-11-26T09:00:00+00:00"))
    again = parse(oncall_body("alert group created", at="2026-11-26T10:00:00+00:00"))

    assert len({first.delivery_id, resolved.delivery_id, again.delivery_id}) == 3
    assert first.alert_group_key == again.alert_group_key


def test_optional_fields_in_an_odd_shape_are_read_as_absent() -> None:
    body = oncall_body()
    body["alert_payload"] = ["a raw alert", "from some other integration"]
    body["integration"]["labels"] = "team=sre"
    body["alert_group"]["permalinks"] = {"web": {"url": "nested"}, "slack": "https://slack/x"}
    body["alert_group"]["alerts_count"] = "many"
    body["alert_group"]["created_at"] = "a while ago"

    alert = parse(body)

    assert alert.labels == {"priority": "2"}
    assert alert.links == {"slack": "https://slack/x"}
    assert alert.alerts_count == 1
    assert alert.fired_at == datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def test_unknown_keys_are_ignored() -> None:
    body = oncall_body()
    body["brand_new_field"] = {"nested": [1, 2, 3]}
    body["alert_group"]["also_new"] = True

    assert parse(body).alert_group_id == "IGROUP0001"


@pytest.mark.parametrize(
    ("path", "message"),
    [
        (("alert_group", "id"), "alert_group.id: field required"),
        (("alert_group",), "alert_group: field required"),
        (("event", "type"), "event.type: field required"),
        (("event", "time"), "event.time: field required"),
    ],
)
def test_a_missing_required_field_is_named(path: tuple[str, ...], message: str) -> None:
    body = oncall_body()
    parent = body
    for part in path[:-1]:
        parent = parent[part]
    del parent[path[-1]]

    with pytest.raises(InvalidAlert) as caught:
        parse(body)

    assert str(caught.value) == message


def test_a_wrongly_typed_field_is_named() -> None:
    body = oncall_body()
    body["event"]["time"] = "yesterday-ish"

    with pytest.raises(InvalidAlert) as caught:
        parse(body)

    assert caught.value.field == "event.time"


def test_a_truncated_body_says_where_the_json_breaks() -> None:
    whole = encode(oncall_body())
    raw = whole[: whole.rindex(b",") + 1]  # cut off after a member: the JSON ends too soon

    with pytest.raises(InvalidAlert) as caught:
        parse(raw)

    assert caught.value.field == "body"
    assert caught.value.problem.startswith(f"invalid JSON at char {len(raw)}")


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        (b"", "empty"),
        (b"[1, 2]", "expected a JSON object, got list"),
        (b"\xff\xfe{}", "not UTF-8 text at byte 0"),
    ],
)
def test_bodies_that_are_not_a_json_object_are_refused(raw: bytes, problem: str) -> None:
    with pytest.raises(InvalidAlert) as caught:
        parse(raw)

    assert str(caught.value) == f"body: {problem}"
