"""The incident metrics, computed from incidents and audit records built by hand."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from statistics import fmean, median
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.domain.alert import AlertEventKind
from incident_response.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditEventType,
    AuditRecord,
    seal,
)
from incident_response.domain.incident import AttachedAlert, Incident
from incident_response.services.metrics import (
    IncidentFacts,
    ReminderOutcome,
    incident_facts,
    percentile,
    period,
    report,
)
from tests.contract.incident_samples import sample_incident
from tests.support.audit import AUDIT_KEY

A = AuditEventType
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


def chain(
    incident_id: str, *events: tuple[AuditEventType, datetime, str, dict[str, Any]]
) -> list[AuditRecord]:
    records: list[AuditRecord] = []
    prev = GENESIS_HASH
    for seq, (kind, at, actor, data) in enumerate(events, start=1):
        record = seal(
            AuditEvent(
                incident_id=incident_id, type=kind, key=f"k{seq}", at=at, actor=actor, data=data
            ),
            seq,
            prev,
            AUDIT_KEY,
        )
        records.append(record)
        prev = record.hash
    return records


def opened_at(at: datetime, **changes: Any) -> Incident:
    incident = sample_incident()
    first = incident.alerts[0].model_copy(update={"at": at})
    return incident.update(created_at=at, updated_at=at, alerts=(first,), **changes)


def test_acknowledged_is_the_first_thing_a_person_did() -> None:
    incident = opened_at(T0, assembled_at=T0 + timedelta(seconds=3))
    records = chain(
        incident.id,
        (A.INCIDENT_OPENED, T0, "alert:grafana-oncall", {}),
        (A.WAR_ROOM_ASSEMBLED, T0 + timedelta(seconds=3), "system", {}),
        (A.SLASH_COMMAND_RECEIVED, T0 + timedelta(minutes=4), "alice@example.com", {}),
        (A.CHECKLIST_ITEM_UPDATED, T0 + timedelta(minutes=6), "bob@example.com", {}),
    )
    facts = incident_facts(incident, records)
    assert facts.seconds_to_acknowledge == 240
    assert facts.seconds_to_assemble == 3


def test_an_acknowledgement_in_the_alert_source_counts_when_it_came_first() -> None:
    ack = AttachedAlert(
        alert_group_key="grafana-oncall:IABC123",
        delivery_id="ack-1",
        title="acknowledged",
        kind=AlertEventKind.ACKNOWLEDGED,
        at=T0 + timedelta(minutes=2),
    )
    incident = opened_at(T0)
    incident = incident.update(alerts=(*incident.alerts, ack))
    records = chain(
        incident.id, (A.SLASH_COMMAND_RECEIVED, T0 + timedelta(minutes=9), "alice@example.com", {})
    )
    assert incident_facts(incident, records).seconds_to_acknowledge == 120


def test_nothing_but_automation_means_not_acknowledged() -> None:
    incident = opened_at(T0)
    records = chain(
        incident.id,
        (A.INCIDENT_OPENED, T0, "alert:grafana-oncall", {}),
        (A.STATUS_REMINDER_SENT, T0 + timedelta(minutes=15), "system", {}),
    )
    assert incident_facts(incident, records).acknowledged_at is None


def test_a_reminder_is_answered_by_a_publish_before_the_next_reminder() -> None:
    incident = opened_at(T0)
    records = chain(
        incident.id,
        (A.STATUS_REMINDER_SENT, T0 + timedelta(minutes=15), "system", {}),
        (A.STATUSPAGE_PUBLISHED, T0 + timedelta(minutes=20), "alice@example.com", {}),
        (A.STATUS_REMINDER_SENT, T0 + timedelta(minutes=50), "system", {}),
        (A.STATUS_REMINDER_SENT, T0 + timedelta(minutes=80), "system", {}),
        (A.STATUSPAGE_PUBLISHED, T0 + timedelta(minutes=95), "alice@example.com", {}),
        (A.STATUS_REMINDER_ESCALATED, T0 + timedelta(minutes=81), "system", {}),
    )
    facts = incident_facts(incident, records)
    assert [r.response_seconds for r in facts.reminders] == [300, None, 900]
    assert facts.escalations == 1


def test_drafts_approved_and_rejected_are_counted_once_per_version() -> None:
    incident = opened_at(T0)
    records = chain(
        incident.id,
        (A.STATUSPAGE_APPROVAL_REJECTED, T0 + timedelta(minutes=5), "alice@example.com", {}),
        (A.STATUSPAGE_DRAFT_APPROVED, T0 + timedelta(minutes=7), "alice@example.com", {}),
        (A.STATUSPAGE_DRAFT_APPROVED, T0 + timedelta(minutes=30), "alice@example.com", {}),
    )
    facts = incident_facts(incident, records)
    assert (facts.drafts_approved, facts.drafts_rejected) == (2, 1)


def facts_at(day: int, *, ack: float, resolve: float | None, assemble: float) -> IncidentFacts:
    opened = T0 + timedelta(days=day)
    return IncidentFacts(
        incident_id=f"inc-{day}-{ack}",
        opened_at=opened,
        acknowledged_at=opened + timedelta(seconds=ack),
        assembled_at=opened + timedelta(seconds=assemble),
        resolved_at=opened + timedelta(seconds=resolve) if resolve is not None else None,
        reminders=(ReminderOutcome(sent_at=opened, answered_at=opened + timedelta(seconds=60)),),
        drafts_approved=1,
    )


def test_the_report_summarises_the_window_and_each_day() -> None:
    history = [
        facts_at(0, ack=60, resolve=3600, assemble=2),
        facts_at(0, ack=180, resolve=None, assemble=4),
        facts_at(2, ack=120, resolve=1800, assemble=9),
        facts_at(10, ack=999, resolve=999, assemble=999),  # outside the window
    ]
    result = report(history, start=T0, end=T0 + timedelta(days=3), bucket=timedelta(days=1))
    inside = history[:3]
    assert result.overall.incidents == 3
    assert result.overall.mtta_seconds == fmean([60, 180, 120])
    assert result.overall.mttr_seconds == fmean([3600, 1800])
    assert (result.overall.assembled_p50, result.overall.assembled_p90) == (4, 9)
    assert result.overall.reminders_sent == result.overall.reminders_answered == 3
    assert result.overall.drafts_approved == len(inside)
    assert [b.incidents for b in result.buckets] == [2, 0, 1]
    assert result.buckets[1].mtta_seconds is None
    assert result.buckets[0].assembled_p90 == 4


def test_an_empty_window_has_no_figures_rather_than_zeros() -> None:
    empty = period([], start=T0, end=T0 + timedelta(days=1))
    assert empty.incidents == 0
    assert empty.mtta_seconds is None
    assert empty.assembled_p50 is None
    assert empty.answer_rate is None


def test_a_window_must_be_well_formed() -> None:
    with pytest.raises(ValueError, match="bucket"):
        report([], start=T0, end=T0 + timedelta(days=1), bucket=timedelta(0))
    with pytest.raises(ValueError, match="end after"):
        report([], start=T0, end=T0, bucket=timedelta(days=1))


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 11)]
    assert percentile(values, 50) == 5
    assert percentile(values, 90) == 9
    assert percentile(values, 100) == 10
    assert percentile([], 50) is None
    with pytest.raises(ValueError, match="percentile"):
        percentile(values, 0)


@given(st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=1, max_size=50))
def test_percentiles_are_values_of_the_sample_in_order(values: list[float]) -> None:
    p50, p90 = percentile(values, 50), percentile(values, 90)
    assert p50 is not None
    assert p90 is not None
    assert p50 in values
    assert p90 in values
    assert min(values) <= p50 <= p90 <= max(values)
    assert sum(1 for v in values if v <= p90) >= math.ceil(0.9 * len(values))


@given(st.lists(st.integers(min_value=0, max_value=86400 * 3), min_size=1, max_size=30))
def test_buckets_partition_the_window(offsets: list[int]) -> None:
    history = [
        IncidentFacts(incident_id=str(i), opened_at=T0 + timedelta(seconds=s))
        for i, s in enumerate(offsets)
    ]
    result = report(history, start=T0, end=T0 + timedelta(days=3), bucket=timedelta(hours=7))
    assert sum(b.incidents for b in result.buckets) == result.overall.incidents
    assert result.overall.incidents == sum(1 for s in offsets if s < 86400 * 3)
    assert result.buckets[-1].end == T0 + timedelta(days=3)


def test_reminder_response_median_uses_answered_reminders_only() -> None:
    opened = T0
    history = [
        IncidentFacts(
            incident_id="a",
            opened_at=opened,
            reminders=(
                ReminderOutcome(opened, opened + timedelta(seconds=100)),
                ReminderOutcome(opened, None),
                ReminderOutcome(opened, opened + timedelta(seconds=300)),
            ),
        )
    ]
    summary = period(history, start=T0, end=T0 + timedelta(days=1))
    assert summary.reminder_response_median == median([100, 300])
    assert summary.answer_rate == 2 / 3
