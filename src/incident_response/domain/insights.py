"""Insights: how fast incidents are acknowledged, resolved and first explained to customers,
week by week, by service and by severity. Pure: from the moments of each incident to weekly rows.

Definitions (docs/metrics.md says the same for operators):
- opened: the incident's `created_at`; each incident counts in the ISO week (UTC, Monday 00:00
  to the next Monday) it was opened in, whatever happened later;
- acknowledged: the first moment the incident had an incident commander in an assembled war
  room, i.e. the later of WAR_ROOM_ASSEMBLED and the first IC_ASSIGNED. Before both, nobody is
  accountable for it (only the IC approves what customers read) or nobody has a room to work
  in. A room that never assembled counts from the first IC_ASSIGNED alone; an IC with no
  IC_ASSIGNED on record held the role from the start (declared with one);
- MTTA: opened to acknowledged; MTTR: opened to resolved (`resolved_at`); time to mitigate:
  opened to `mitigated_at`; time to first public update: opened to the first update published
  on the status page (the first STATUSPAGE_PUBLISHED);
- an incident still open is counted, but is not in MTTR (it has no resolution yet), and an
  incident without a moment is left out of that moment's mean and median only;
- means sit beside medians because one long incident drags a mean far from the typical case.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from statistics import fmean, median

from incident_response.domain.alert import Severity
from incident_response.domain.clock import utc
from incident_response.domain.errors import IncidentResponseError

WEEK = timedelta(days=7)
DEFAULT_WEEKS = 12
MAX_WEEKS = 104  # two years: enough for a trend, small enough to read in one go

_ISO_WEEK = re.compile(r"^(\d{4})-?W(\d{2})$")


class InvalidInsightsQuery(IncidentResponseError, ValueError):
    """A range or filter that cannot be answered; the message says what to send instead."""


def week_start(moment: datetime) -> datetime:
    """Monday 00:00 UTC of the ISO week `moment` falls in."""
    day = utc(moment).date()
    return datetime.combine(day - timedelta(days=day.weekday()), time(), tzinfo=UTC)


def week_label(start: datetime) -> str:
    """`2026-W49`: the ISO week, as spreadsheets and `date +%G-W%V` write it."""
    year, week, _ = utc(start).isocalendar()
    return f"{year}-W{week:02d}"


def parse_day(text: str, *, name: str) -> date:
    """An ISO date (`2026-11-30`) or ISO week (`2026-W49`, meaning its Monday)."""
    text = text.strip()
    found = _ISO_WEEK.match(text)
    try:
        if found:
            return date.fromisocalendar(int(found[1]), int(found[2]), 1)
        return date.fromisoformat(text)
    except ValueError:
        pass
    raise InvalidInsightsQuery(
        f"{name}: {text!r} is not a date; send an ISO date (2026-11-30) or week (2026-W49)"
    )


@dataclass(frozen=True)
class WeekRange:
    """Whole ISO weeks: `weeks` of them from the Monday `first`."""

    first: datetime
    weeks: int

    @classmethod
    def covering(cls, start: date, end: date) -> WeekRange:
        """The weeks holding `start` through the week holding `end`, both included (two days
        of one week are that week, in either order)."""
        first = week_start(datetime.combine(start, time(), tzinfo=UTC))
        last = week_start(datetime.combine(end, time(), tzinfo=UTC))
        if last < first:
            raise InvalidInsightsQuery(f"to ({end}) is before from ({start})")
        weeks = (last - first) // WEEK + 1
        if weeks > MAX_WEEKS:
            raise InvalidInsightsQuery(
                f"the range spans {weeks} weeks; ask for at most {MAX_WEEKS} at a time"
            )
        return cls(first=first, weeks=weeks)

    @classmethod
    def ending(cls, now: datetime, weeks: int = DEFAULT_WEEKS) -> WeekRange:
        """The last `weeks` weeks, this one included."""
        return cls(first=week_start(now) - (weeks - 1) * WEEK, weeks=weeks)

    @property
    def end(self) -> datetime:
        """The Monday after the last week: the range is [first, end)."""
        return self.first + self.weeks * WEEK

    @property
    def starts(self) -> list[datetime]:
        return [self.first + n * WEEK for n in range(self.weeks)]

    def holds(self, moment: datetime) -> bool:
        return self.first <= utc(moment) < self.end


@dataclass(frozen=True)
class IncidentTimes:
    """The moments of one incident that the insights are made of."""

    incident_id: str
    service: str
    severity: Severity
    opened_at: datetime
    acknowledged_at: datetime | None = None
    first_update_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def since_opened(self, moment: datetime | None) -> float | None:
        """Seconds from opening to `moment`; a moment stamped a little before the opening
        (clocks of two machines) counts as zero, never as a negative time."""
        if moment is None:
            return None
        return max((utc(moment) - utc(self.opened_at)).total_seconds(), 0.0)


def acknowledged_at(
    *, assembled_at: datetime | None, ic_at_assembly: bool, ic_assigned: Iterable[datetime]
) -> datetime | None:
    """When the incident first had an IC in an assembled war room (see the module's docstring).

    `ic_at_assembly`: the room assembled with an IC already named (the usual case: the on-call
    primary, or the person who declared it), so the assembly is the acknowledgement;
    `ic_assigned`: the IC_ASSIGNED times, which matter only when it did not.
    """
    if assembled_at is not None and ic_at_assembly:
        return assembled_at
    first = min(ic_assigned, default=None)
    if first is None:
        return None
    return first if assembled_at is None else max(first, assembled_at)


@dataclass(frozen=True)
class Summary:
    """One duration over a set of incidents: how many reached it, its mean and median."""

    count: int
    mean_seconds: float | None
    median_seconds: float | None

    @classmethod
    def of(cls, seconds: Sequence[float]) -> Summary:
        if not seconds:
            return cls(count=0, mean_seconds=None, median_seconds=None)
        return cls(count=len(seconds), mean_seconds=fmean(seconds), median_seconds=median(seconds))


@dataclass(frozen=True)
class Figures:
    """The figures for one set of incidents (a week, or a week's service and severity)."""

    incidents: int
    still_open: int
    acknowledge: Summary
    mitigate: Summary
    resolve: Summary
    first_update: Summary


def figures(times: Sequence[IncidentTimes]) -> Figures:
    def summary(moment: Callable[[IncidentTimes], datetime | None]) -> Summary:
        return Summary.of([s for t in times if (s := t.since_opened(moment(t))) is not None])

    return Figures(
        incidents=len(times),
        still_open=sum(1 for t in times if t.is_open),
        acknowledge=summary(lambda t: t.acknowledged_at),
        mitigate=summary(lambda t: t.mitigated_at),
        resolve=summary(lambda t: t.resolved_at),
        first_update=summary(lambda t: t.first_update_at),
    )


@dataclass(frozen=True)
class Week:
    start: datetime
    figures: Figures
    by_severity: tuple[tuple[Severity, int], ...]  # every severity, P1 first, zeros included
    by_service: tuple[tuple[str, int], ...]  # services with incidents, most first

    @property
    def label(self) -> str:
        return week_label(self.start)


@dataclass(frozen=True)
class Breakdown:
    """One week's incidents of one service at one severity."""

    week_start: datetime
    service: str
    severity: Severity
    figures: Figures


@dataclass(frozen=True)
class InsightsFilter:
    """Which incidents to look at; an empty set means all of them."""

    services: frozenset[str] = frozenset()
    severities: frozenset[Severity] = frozenset()

    def admits(self, times: IncidentTimes) -> bool:
        return (not self.services or times.service in self.services) and (
            not self.severities or times.severity in self.severities
        )


EVERYTHING = InsightsFilter()


@dataclass(frozen=True)
class Insights:
    range: WeekRange
    only: InsightsFilter
    overall: Figures
    weeks: tuple[Week, ...]
    breakdown: tuple[Breakdown, ...]  # week, then severity, then service
    services: tuple[str, ...] = field(default=())  # every service opened in the range, sorted


def insights(
    times: Iterable[IncidentTimes], *, weeks: WeekRange, only: InsightsFilter = EVERYTHING
) -> Insights:
    """The incidents opened in `weeks` that `only` admits, week by week; a week without
    incidents is a row of zeros, so a quiet week shows as one."""
    in_range = [t for t in times if weeks.holds(t.opened_at)]
    chosen = [t for t in in_range if only.admits(t)]
    by_week: dict[datetime, list[IncidentTimes]] = {start: [] for start in weeks.starts}
    for t in chosen:
        by_week[week_start(t.opened_at)].append(t)
    rows = []
    breakdown = []
    for start, mine in by_week.items():
        severities = Counter(t.severity for t in mine)
        services = Counter(t.service for t in mine)
        rows.append(
            Week(
                start=start,
                figures=figures(mine),
                by_severity=tuple((s, severities[s]) for s in sorted(Severity, key=_rank)),
                by_service=tuple(sorted(services.items(), key=lambda kv: (-kv[1], kv[0]))),
            )
        )
        groups: dict[tuple[Severity, str], list[IncidentTimes]] = {}
        for t in sorted(mine, key=lambda t: (_rank(t.severity), t.service)):
            groups.setdefault((t.severity, t.service), []).append(t)
        breakdown += [
            Breakdown(week_start=start, service=service, severity=severity, figures=figures(group))
            for (severity, service), group in groups.items()
        ]
    return Insights(
        range=weeks,
        only=only,
        overall=figures(chosen),
        weeks=tuple(rows),
        breakdown=tuple(breakdown),
        services=tuple(sorted({t.service for t in in_range})),
    )


def _rank(severity: Severity) -> int:
    return severity.rank
