"""How well incidents are run, from the incidents and their audit trails: pure functions.

The operational figures of the metrics page: first response (alert to the first thing a person
did; `mtta_seconds` here), alert to resolution, alert-to-assembled time (the headline promise),
whether reminders to update customers were answered, and how many drafts the IC approved or
rejected. The weekly MTTA and MTTR the page leads with are domain/insights.py's. Everything is
derived from facts the audit log already holds, so the numbers can be recomputed at any time
and never drift from what happened.

Definitions (each incident counts in the time bucket it was opened in):
- opened: the first alert's arrival at intake;
- acknowledged: the earliest of an acknowledgement from the alert source and the first audit
  record whose actor is a person (an e-mail address), e.g. a command, a tick, a draft;
- answered reminder: a status update was published after the reminder and before the next one;
- percentiles are nearest-rank (p90 of ten values is the ninth smallest).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from statistics import fmean, median

from incident_response.domain.alert import AlertEventKind
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.clock import utc
from incident_response.domain.incident import Incident

A = AuditEventType


@dataclass(frozen=True)
class ReminderOutcome:
    sent_at: datetime
    answered_at: datetime | None = None

    @property
    def response_seconds(self) -> float | None:
        if self.answered_at is None:
            return None
        return (self.answered_at - self.sent_at).total_seconds()


@dataclass(frozen=True)
class IncidentFacts:
    """The moments of one incident that the metrics are made of."""

    incident_id: str
    opened_at: datetime
    acknowledged_at: datetime | None = None
    assembled_at: datetime | None = None
    resolved_at: datetime | None = None
    reminders: tuple[ReminderOutcome, ...] = ()
    escalations: int = 0
    drafts_approved: int = 0
    drafts_rejected: int = 0

    def _since_open(self, moment: datetime | None) -> float | None:
        if moment is None:
            return None
        return max((moment - self.opened_at).total_seconds(), 0.0)

    @property
    def seconds_to_acknowledge(self) -> float | None:
        return self._since_open(self.acknowledged_at)

    @property
    def seconds_to_assemble(self) -> float | None:
        return self._since_open(self.assembled_at)

    @property
    def seconds_to_resolve(self) -> float | None:
        return self._since_open(self.resolved_at)


def is_person(actor: str) -> bool:
    """Services record as `system` and alert sources as `alert:<source>`; people by e-mail."""
    return "@" in actor and not actor.startswith("alert:")


def incident_facts(incident: Incident, records: Sequence[AuditRecord]) -> IncidentFacts:
    """Read one incident's metrics facts from the incident and its audit records (chain order)."""
    opened = min((a.at for a in incident.alerts), default=incident.created_at)
    acknowledgements = [a.at for a in incident.alerts if a.kind is AlertEventKind.ACKNOWLEDGED]
    acknowledgements += [r.at for r in records if is_person(r.actor)]
    published = sorted(r.at for r in records if r.type is A.STATUSPAGE_PUBLISHED)
    sent = sorted(r.at for r in records if r.type is A.STATUS_REMINDER_SENT)
    reminders = []
    for i, at in enumerate(sent):
        until = sent[i + 1] if i + 1 < len(sent) else None
        answer = next((p for p in published if p >= at and (until is None or p < until)), None)
        reminders.append(ReminderOutcome(sent_at=utc(at), answered_at=answer and utc(answer)))
    return IncidentFacts(
        incident_id=incident.id,
        opened_at=utc(opened),
        acknowledged_at=utc(min(acknowledgements)) if acknowledgements else None,
        assembled_at=utc(incident.assembled_at) if incident.assembled_at else None,
        resolved_at=utc(incident.resolved_at) if incident.resolved_at else None,
        reminders=tuple(reminders),
        escalations=sum(1 for r in records if r.type is A.STATUS_REMINDER_ESCALATED),
        drafts_approved=_distinct_drafts(records, A.STATUSPAGE_DRAFT_APPROVED),
        drafts_rejected=_distinct_drafts(records, A.STATUSPAGE_APPROVAL_REJECTED),
    )


def _distinct_drafts(records: Iterable[AuditRecord], kind: AuditEventType) -> int:
    """Draft versions approved (or rejected): the audit keys already make each count once."""
    return len({r.key for r in records if r.type is kind})


def percentile(values: Iterable[float], q: float) -> float | None:
    """Nearest-rank percentile (0 < q <= 100); None for no values."""
    ordered = sorted(values)
    if not ordered:
        return None
    if not 0 < q <= 100:
        raise ValueError(f"percentile must be in (0, 100], got {q}")
    return ordered[max(math.ceil(q / 100 * len(ordered)), 1) - 1]


def _mean(values: Sequence[float]) -> float | None:
    return fmean(values) if values else None


@dataclass(frozen=True)
class Period:
    """The figures for the incidents opened in [start, end)."""

    start: datetime
    end: datetime
    incidents: int
    mtta_seconds: float | None
    acknowledged: int
    mttr_seconds: float | None
    resolved: int
    assembled_p50: float | None
    assembled_p90: float | None
    assembled: int
    reminders_sent: int
    reminders_answered: int
    reminder_response_median: float | None
    escalations: int
    drafts_approved: int
    drafts_rejected: int

    @property
    def answer_rate(self) -> float | None:
        if not self.reminders_sent:
            return None
        return self.reminders_answered / self.reminders_sent


@dataclass(frozen=True)
class MetricsReport:
    overall: Period
    buckets: tuple[Period, ...]
    bucket: timedelta


def period(facts: Sequence[IncidentFacts], *, start: datetime, end: datetime) -> Period:
    """Summarise the incidents opened in [start, end)."""
    mine = [f for f in facts if start <= f.opened_at < end]
    acks = [s for f in mine if (s := f.seconds_to_acknowledge) is not None]
    resolves = [s for f in mine if (s := f.seconds_to_resolve) is not None]
    assembles = [s for f in mine if (s := f.seconds_to_assemble) is not None]
    reminders = [r for f in mine for r in f.reminders]
    answers = [s for r in reminders if (s := r.response_seconds) is not None]
    return Period(
        start=start,
        end=end,
        incidents=len(mine),
        mtta_seconds=_mean(acks),
        acknowledged=len(acks),
        mttr_seconds=_mean(resolves),
        resolved=len(resolves),
        assembled_p50=percentile(assembles, 50),
        assembled_p90=percentile(assembles, 90),
        assembled=len(assembles),
        reminders_sent=len(reminders),
        reminders_answered=len(answers),
        reminder_response_median=median(answers) if answers else None,
        escalations=sum(f.escalations for f in mine),
        drafts_approved=sum(f.drafts_approved for f in mine),
        drafts_rejected=sum(f.drafts_rejected for f in mine),
    )


def report(
    facts: Sequence[IncidentFacts], *, start: datetime, end: datetime, bucket: timedelta
) -> MetricsReport:
    """The whole window [start, end) and consecutive buckets of `bucket` covering it."""
    if bucket <= timedelta(0):
        raise ValueError("the bucket must be a positive duration")
    if end <= start:
        raise ValueError("the window must end after it starts")
    start, end = utc(start), utc(end)
    buckets = []
    edge = start
    while edge < end:
        buckets.append(period(facts, start=edge, end=min(edge + bucket, end)))
        edge += bucket
    return MetricsReport(
        overall=period(facts, start=start, end=end), buckets=tuple(buckets), bucket=bucket
    )
