"""Prometheus Alertmanager webhook, version 4: one Alert per notification."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.domain.alert import Alert, AlertEventKind, AlertSource, Severity
from incident_response.domain.errors import InvalidAlert
from incident_response.intake import alertmanager
from tests.unit.intake.examples import alertmanager_body, am_alert, encode

RECEIVED = datetime(2026, 11, 26, 9, 0, 5, tzinfo=UTC)


def parse(body: dict[str, Any] | bytes) -> Alert:
    raw = body if isinstance(body, bytes) else encode(body)
    alerts = alertmanager.parse(raw, received_at=RECEIVED, severity_map={"critical": Severity.P1})
    assert len(alerts) == 1
    return alerts[0]


def test_a_firing_notification_is_one_firing_alert_for_the_group() -> None:
    body = alertmanager_body(
        alerts=[
            am_alert(fingerprint="f1", starts_at="2026-11-26T08:58:00Z"),
            am_alert(fingerprint="f2", starts_at="2026-11-26T08:57:30.5Z"),
        ]
    )

    alert = parse(body)

    assert alert.source is AlertSource.ALERTMANAGER
    assert alert.kind is AlertEventKind.FIRING
    assert alert.title == "Checkout error rate above 5%"
    assert alert.labels == {
        "alertname": "HighErrorRate",
        "service": "checkout",
        "severity": "critical",
    }
    assert alert.severity is Severity.P1
    assert alert.alerts_count == 2
    assert alert.fired_at == datetime(2026, 11, 26, 8, 57, 30, 500000, tzinfo=UTC)
    assert alert.links["alertmanager"] == "https://alertmanager.example.com"
    assert alert.links["generator"].startswith("https://prometheus.example.com/")


def test_a_resolved_notification_is_a_resolved_alert_for_the_same_group() -> None:
    firing = parse(alertmanager_body("firing"))
    resolved = parse(alertmanager_body("resolved"))

    assert resolved.kind is AlertEventKind.RESOLVED
    assert resolved.alert_group_key == firing.alert_group_key
    assert resolved.delivery_id != firing.delivery_id


def test_the_alert_group_id_is_a_short_stable_digest_of_the_group_key() -> None:
    one = parse(alertmanager_body(group_key='{}:{alertname="A"}'))
    same = parse(alertmanager_body(group_key='{}:{alertname="A"}'))
    other = parse(alertmanager_body(group_key='{}:{alertname="B"}'))

    assert one.alert_group_id == same.alert_group_id
    assert one.alert_group_id != other.alert_group_id
    assert len(one.alert_group_id) <= 24
    assert "{" not in one.alert_group_id


def test_the_title_falls_back_to_the_alertname() -> None:
    body = alertmanager_body(summary=None)

    assert parse(body).title == "HighErrorRate"


def test_a_repeated_notification_is_the_same_delivery_but_a_new_member_is_not() -> None:
    first = parse(alertmanager_body(alerts=[am_alert(fingerprint="f1")]))
    repeat = parse(alertmanager_body(alerts=[am_alert(fingerprint="f1")]))
    grown = parse(
        alertmanager_body(alerts=[am_alert(fingerprint="f1"), am_alert(fingerprint="f2")])
    )
    refired = parse(
        alertmanager_body(alerts=[am_alert(fingerprint="f1", starts_at="2026-11-26T10:00:00Z")])
    )

    assert first.delivery_id == repeat.delivery_id
    assert len({first.delivery_id, grown.delivery_id, refired.delivery_id}) == 3


@given(st.permutations(["f1", "f2", "f3", "f4"]))
def test_the_delivery_id_does_not_depend_on_the_order_of_alerts(order: list[str]) -> None:
    canonical = parse(alertmanager_body(alerts=[am_alert(fingerprint=f) for f in sorted(order)]))
    shuffled = parse(alertmanager_body(alerts=[am_alert(fingerprint=f) for f in order]))

    assert shuffled.delivery_id == canonical.delivery_id


@pytest.mark.parametrize(("version", "shown"), [("3", '"3"'), (5, "5")])
def test_only_version_4_is_accepted(version: object, shown: str) -> None:
    body = alertmanager_body()
    body["version"] = version

    with pytest.raises(InvalidAlert) as caught:
        parse(body)

    assert str(caught.value) == f'version: must be "4", got {shown}'


@pytest.mark.parametrize(
    ("field", "message"),
    [
        ("version", "version: field required"),
        ("groupKey", "groupKey: field required"),
        ("status", "status: field required"),
        ("alerts", "alerts: field required"),
    ],
)
def test_a_missing_required_field_is_named(field: str, message: str) -> None:
    body = alertmanager_body()
    del body[field]

    with pytest.raises(InvalidAlert) as caught:
        parse(body)

    assert str(caught.value) == message


def test_a_bad_member_alert_is_named_by_its_position() -> None:
    body = alertmanager_body(alerts=[am_alert(fingerprint="f1"), am_alert(fingerprint="f2")])
    body["alerts"][1]["status"] = "exploded"

    with pytest.raises(InvalidAlert) as caught:
        parse(body)

    assert caught.value.field == "alerts.1.status"


def test_a_truncated_body_says_where_the_json_breaks() -> None:
    raw = json.dumps(alertmanager_body()).encode()[:100]

    with pytest.raises(InvalidAlert) as caught:
        parse(raw)

    assert caught.value.field == "body"
    assert "invalid JSON at char" in caught.value.problem
