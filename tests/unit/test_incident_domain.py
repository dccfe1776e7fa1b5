"""The incident's status machine and the severity rules."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from incident_response.domain.alert import (
    Alert,
    AlertEventKind,
    AlertSource,
    Severity,
    severity_from_labels,
)
from incident_response.domain.errors import IllegalTransition
from incident_response.domain.incident import TRANSITIONS, Incident, IncidentStatus

T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def alert(delivery: str = "d1", severity: Severity = Severity.P2) -> Alert:
    return Alert(
        source=AlertSource.GRAFANA_ONCALL,
        kind=AlertEventKind.FIRING,
        source_event="alert group created",
        alert_group_id="G1",
        title="HighErrorRate",
        labels={"service": "checkout"},
        severity=severity,
        fired_at=T0,
        received_at=T0,
        delivery_id=delivery,
    )


def incident(status: IncidentStatus = IncidentStatus.ALERT_RECEIVED) -> Incident:
    return Incident.open_from(alert(), grouping_key="", now=T0).update(status=status)


@pytest.mark.parametrize("current", list(IncidentStatus))
@pytest.mark.parametrize("target", list(IncidentStatus))
def test_every_transition_is_either_allowed_or_refused(
    current: IncidentStatus, target: IncidentStatus
) -> None:
    start = incident(current)
    if target in TRANSITIONS[current]:
        assert start.transition(target, at=T0).status is target
    else:
        with pytest.raises(IllegalTransition, match=f"{current} -> {target}"):
            start.transition(target, at=T0)


def test_the_happy_path_stamps_its_times_once() -> None:
    later = T0 + timedelta(seconds=4)
    assembled = (
        incident()
        .transition(IncidentStatus.ASSEMBLING, at=T0)
        .transition(IncidentStatus.ASSEMBLED, at=later)
    )
    assert assembled.assembled_at == later
    mitigated = assembled.transition(IncidentStatus.MITIGATED, at=later + timedelta(minutes=5))
    refired = mitigated.transition(IncidentStatus.ASSEMBLED, at=later + timedelta(minutes=9))
    assert refired.assembled_at == later  # a re-fire keeps the first assembly time
    resolved = refired.transition(IncidentStatus.RESOLVED, at=later + timedelta(hours=1))
    assert resolved.resolved_at == later + timedelta(hours=1)
    assert not resolved.is_open


def test_a_resolved_incident_goes_nowhere() -> None:
    assert TRANSITIONS[IncidentStatus.RESOLVED] == frozenset()


def test_attaching_keeps_each_delivery_once_and_takes_the_worst_severity() -> None:
    first = incident()
    worse = first.attach(alert("d2", Severity.P1), at=T0)
    assert [a.delivery_id for a in worse.alerts] == ["d1", "d2"]
    assert worse.severity is Severity.P1
    assert worse.attach(alert("d2", Severity.P1), at=T0) == worse
    assert worse.attach(alert("d3", Severity.P4), at=T0).severity is Severity.P1


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ({"severity": "critical"}, Severity.P1),
        ({"severity": "CRITICAL "}, Severity.P1),
        ({"priority": "p2"}, Severity.P2),
        ({"severity": "weird", "priority": "high"}, Severity.P2),
        ({"level": "info"}, Severity.P4),
        ({"severity": "warning"}, Severity.P3),
        ({}, Severity.P3),
        ({"severity": "unheard-of"}, Severity.P3),
    ],
)
def test_severity_comes_from_the_first_label_that_names_one(
    labels: dict[str, str], expected: Severity
) -> None:
    assert severity_from_labels(labels) is expected


def test_the_incident_id_derives_from_the_first_delivery() -> None:
    assert incident().id == Incident.open_from(alert(), grouping_key="", now=T0).id
    assert Incident.open_from(alert("other"), grouping_key="", now=T0).id != incident().id
