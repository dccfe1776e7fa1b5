"""The weekly insights computed from incident moments built by hand (domain/insights.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.domain.alert import Severity
from incident_response.domain.insights import (
    MAX_WEEKS,
    IncidentTimes,
    InsightsFilter,
    InvalidInsightsQuery,
    WeekRange,
    acknowledged_at,
    insights,
    parse_day,
    week_label,
    week_start,
)

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # ISO week 2026-W45
WEEKS = WeekRange(first=MONDAY, weeks=4)


def times(
    opened: datetime,
    *,
    service: str = "checkout",
    severity: Severity = Severity.P2,
    ack: float | None = None,
    update: float | None = None,
    resolve: float | None = None,
    n: int = 0,
) -> IncidentTimes:
    def after(seconds: float | None) -> datetime | None:
        return None if seconds is None else opened + timedelta(seconds=seconds)

    return IncidentTimes(
        incident_id=f"inc-{n}",
        service=service,
        severity=severity,
        opened_at=opened,
        acknowledged_at=after(ack),
        first_update_at=after(update),
        resolved_at=after(resolve),
    )


def test_weeks_are_iso_weeks_in_utc_starting_on_monday() -> None:
    sunday_night = datetime(2026, 11, 8, 23, 59, tzinfo=UTC)
    assert week_start(sunday_night) == MONDAY
    assert week_start(sunday_night + timedelta(minutes=1)) == MONDAY + timedelta(days=7)
    # 01:00 on Monday in UTC+2 is still Sunday in UTC
    east = datetime(2026, 11, 9, 1, 0, tzinfo=UTC) - timedelta(hours=2)
    assert week_start(east) == MONDAY
    assert week_label(MONDAY) == "2026-W45"
    assert week_label(datetime(2026, 12, 28, tzinfo=UTC)) == "2026-W53"


def test_means_sit_beside_medians_and_open_incidents_stay_out_of_mttr() -> None:
    report = insights(
        [
            times(MONDAY, ack=60, update=600, resolve=1800, n=1),
            times(MONDAY + timedelta(hours=1), ack=120, update=900, resolve=3600, n=2),
            # one long incident: the mean moves a lot, the median does not
            times(MONDAY + timedelta(hours=2), ack=180, update=1200, resolve=86400, n=3),
            times(MONDAY + timedelta(hours=3), ack=240, n=4),  # still open
        ],
        weeks=WEEKS,
    )
    week = report.weeks[0]
    assert week.figures.incidents == 4
    assert week.figures.still_open == 1
    assert week.figures.acknowledge.mean_seconds == 150
    assert week.figures.acknowledge.median_seconds == 150
    assert week.figures.resolve.count == 3
    assert week.figures.resolve.mean_seconds == (1800 + 3600 + 86400) / 3
    assert week.figures.resolve.median_seconds == 3600
    assert week.figures.first_update.median_seconds == 900
    assert [w.figures.incidents for w in report.weeks] == [4, 0, 0, 0]
    assert report.weeks[1].figures.resolve.mean_seconds is None


def test_incidents_by_service_and_severity_per_week() -> None:
    report = insights(
        [
            times(MONDAY, service="checkout", severity=Severity.P1, n=1),
            times(MONDAY, service="checkout", severity=Severity.P1, n=2),
            times(MONDAY, service="search", severity=Severity.P3, n=3),
            times(MONDAY + timedelta(days=7), service="search", severity=Severity.P3, n=4),
        ],
        weeks=WEEKS,
    )
    first, second = report.weeks[0], report.weeks[1]
    assert first.by_service == (("checkout", 2), ("search", 1))
    assert dict(first.by_severity) == {
        Severity.P1: 2,
        Severity.P2: 0,
        Severity.P3: 1,
        Severity.P4: 0,
    }
    assert second.by_service == (("search", 1),)
    parts = [(b.week_start, b.service, b.severity, b.figures.incidents) for b in report.breakdown]
    assert parts == [
        (MONDAY, "checkout", Severity.P1, 2),
        (MONDAY, "search", Severity.P3, 1),
        (MONDAY + timedelta(days=7), "search", Severity.P3, 1),
    ]


def test_filters_keep_the_chosen_services_and_severities_and_list_every_service() -> None:
    everything = [
        times(MONDAY, service="checkout", severity=Severity.P1, ack=60, n=1),
        times(MONDAY, service="search", severity=Severity.P1, ack=600, n=2),
        times(MONDAY, service="checkout", severity=Severity.P4, ack=6000, n=3),
    ]
    only = InsightsFilter(services=frozenset({"checkout"}), severities=frozenset({Severity.P1}))
    report = insights(everything, weeks=WEEKS, only=only)
    assert report.overall.incidents == 1
    assert report.overall.acknowledge.mean_seconds == 60
    assert report.services == ("checkout", "search")  # the filter's choices, unfiltered


def test_incidents_outside_the_range_are_not_counted() -> None:
    report = insights(
        [times(MONDAY - timedelta(seconds=1), n=1), times(WEEKS.end, n=2), times(MONDAY, n=3)],
        weeks=WEEKS,
    )
    assert report.overall.incidents == 1


def test_acknowledged_is_the_later_of_assembly_and_the_first_ic() -> None:
    assembled = MONDAY + timedelta(seconds=8)
    later = MONDAY + timedelta(minutes=20)
    # the room assembled with the on-call IC: the assembly is the acknowledgement
    assert acknowledged_at(assembled_at=assembled, ic_at_assembly=True, ic_assigned=[]) == assembled
    # nobody on call: someone took the IC role by hand 20 minutes later
    got = acknowledged_at(
        assembled_at=assembled,
        ic_at_assembly=False,
        ic_assigned=[later + timedelta(hours=1), later],
    )
    assert got == later
    assert acknowledged_at(assembled_at=assembled, ic_at_assembly=False, ic_assigned=[]) is None
    # the room never assembled: the first IC alone
    assert acknowledged_at(assembled_at=None, ic_at_assembly=False, ic_assigned=[later]) == later
    # an IC assigned before a late assembly waits for the room
    early = MONDAY + timedelta(seconds=2)
    got = acknowledged_at(assembled_at=later, ic_at_assembly=False, ic_assigned=[early])
    assert got == later


def test_a_moment_stamped_before_the_opening_counts_as_zero() -> None:
    skewed = times(MONDAY, ack=-2)
    assert skewed.since_opened(skewed.acknowledged_at) == 0


def test_a_range_covers_whole_weeks_and_refuses_what_it_cannot_answer() -> None:
    weeks = WeekRange.covering(date(2026, 11, 4), date(2026, 11, 16))
    assert weeks.first == MONDAY
    assert weeks.weeks == 3
    assert WeekRange.covering(date(2026, 11, 2), date(2026, 11, 2)).weeks == 1
    with pytest.raises(InvalidInsightsQuery, match="before"):
        WeekRange.covering(date(2026, 11, 16), date(2026, 11, 4))
    with pytest.raises(InvalidInsightsQuery, match=f"at most {MAX_WEEKS}"):
        WeekRange.covering(date(2020, 1, 1), date(2026, 11, 4))
    assert WeekRange.ending(MONDAY + timedelta(days=3)).starts[-1] == MONDAY
    assert len(WeekRange.ending(MONDAY).starts) == 12


def test_days_are_iso_dates_or_weeks() -> None:
    assert parse_day("2026-11-04", name="from") == date(2026, 11, 4)
    assert parse_day("2026-W45", name="from") == date(2026, 11, 2)
    for bad in ("yesterday", "2026-13-01", "2026-W60", ""):
        with pytest.raises(InvalidInsightsQuery, match="from"):
            parse_day(bad, name="from")


# -- properties ---------------------------------------------------------------------------

SERVICES = st.sampled_from(["checkout", "search", "=cmd()", "api"])
seconds = st.none() | st.floats(min_value=0, max_value=30 * 86400, allow_nan=False)


@st.composite
def incident_times(draw: st.DrawFn) -> list[IncidentTimes]:
    count = draw(st.integers(min_value=0, max_value=30))
    made = []
    for n in range(count):
        # a little before, within and after the range
        opened = MONDAY + timedelta(
            seconds=draw(st.integers(min_value=-3 * 86400, max_value=31 * 86400))
        )
        made.append(
            times(
                opened,
                service=draw(SERVICES),
                severity=draw(st.sampled_from(list(Severity))),
                ack=draw(seconds),
                update=draw(seconds),
                resolve=draw(seconds),
                n=n,
            )
        )
    return made


@given(incident_times())
def test_every_incident_in_range_counts_in_exactly_one_week(made: list[IncidentTimes]) -> None:
    report = insights(made, weeks=WEEKS)
    in_range = [t for t in made if MONDAY <= t.opened_at < WEEKS.end]
    assert sum(w.figures.incidents for w in report.weeks) == len(in_range)
    assert report.overall.incidents == len(in_range)
    assert sum(b.figures.incidents for b in report.breakdown) == len(in_range)
    for week in report.weeks:
        assert sum(n for _, n in week.by_severity) == week.figures.incidents
        assert sum(n for _, n in week.by_service) == week.figures.incidents
        mine = [t for t in in_range if week.start <= t.opened_at < week.start + timedelta(days=7)]
        assert week.figures.incidents == len(mine)


@given(incident_times())
def test_means_and_medians_lie_within_the_values(made: list[IncidentTimes]) -> None:
    report = insights(made, weeks=WEEKS)
    for week in report.weeks:
        mine = [t for t in made if week.start <= t.opened_at < week.start + timedelta(days=7)]
        resolved = [s for t in mine if (s := t.since_opened(t.resolved_at)) is not None]
        summary = week.figures.resolve
        assert summary.count == len(resolved)
        assert week.figures.still_open == sum(1 for t in mine if t.resolved_at is None)
        if resolved:
            assert summary.mean_seconds is not None
            assert summary.median_seconds is not None
            assert min(resolved) - 1e-6 <= summary.mean_seconds <= max(resolved) + 1e-6
            assert min(resolved) <= summary.median_seconds <= max(resolved)
        else:
            assert summary.mean_seconds is None
            assert summary.median_seconds is None


@given(incident_times(), st.integers(min_value=1, max_value=10))
def test_every_week_of_the_range_has_a_row_and_empty_ones_show_zero(
    made: list[IncidentTimes], weeks: int
) -> None:
    span = WeekRange(first=MONDAY, weeks=weeks)
    report = insights(made, weeks=span)
    assert [w.start for w in report.weeks] == [MONDAY + timedelta(weeks=n) for n in range(weeks)]
    for week in report.weeks:
        if week.figures.incidents == 0:
            assert week.by_service == ()
            assert all(n == 0 for _, n in week.by_severity)
            assert week.figures.acknowledge.count == 0
            assert week.figures.acknowledge.mean_seconds is None
