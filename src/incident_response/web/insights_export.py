"""The insights as the console and the API hand them out: the query they read, CSV and JSON.

The CSV has one header row and, for each ISO week of the range, one `week` row with the week's
totals (service and severity empty; a week without incidents is such a row of zeros) followed by
one `service_severity` row per service and severity that had incidents that week. Durations are
seconds, empty where no incident reached the moment. Service names come from alerts, so a cell a
spreadsheet would run as a formula (starting with = + - @, tab or carriage return) is written
with a leading apostrophe.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from incident_response.domain.alert import Severity
from incident_response.domain.clock import isoformat
from incident_response.domain.insights import (
    DEFAULT_WEEKS,
    WEEK,
    Figures,
    Insights,
    InsightsFilter,
    InvalidInsightsQuery,
    Summary,
    WeekRange,
    parse_day,
    week_label,
)

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

# (column prefix, Figures attribute) for each duration, in the order the page shows them
DURATIONS: tuple[tuple[str, str], ...] = (
    ("mtta", "acknowledge"),
    ("mttr", "resolve"),
    ("time_to_mitigate", "mitigate"),
    ("time_to_first_update", "first_update"),
)
# what each prefix counts: incidents acknowledged, resolved, mitigated, with a public update
COUNTED = {
    "mtta": "acknowledged",
    "mttr": "resolved",
    "time_to_mitigate": "mitigated",
    "time_to_first_update": "updated",
}
HEADER: tuple[str, ...] = (
    "week",
    "week_start",
    "row",
    "service",
    "severity",
    "incidents",
    "still_open",
    *(
        column
        for prefix, _ in DURATIONS
        for column in (
            COUNTED[prefix],
            f"{prefix}_mean_seconds",
            f"{prefix}_median_seconds",
        )
    ),
)


def query(
    *,
    start: str | None,
    end: str | None,
    services: Sequence[str],
    severities: Sequence[str],
    now: datetime,
) -> tuple[WeekRange, InsightsFilter]:
    """The weeks and filter a request asks for: `from`/`to` are ISO dates or weeks (either may
    be left out: the last 12 weeks end this week); raises InvalidInsightsQuery saying what is
    wrong."""
    if start is None and end is None:
        weeks = WeekRange.ending(now)
    else:
        last = parse_day(end, name="to") if end else now.date()
        first = parse_day(start, name="from") if start else last - (DEFAULT_WEEKS - 1) * WEEK
        weeks = WeekRange.covering(first, last)
    chosen: set[Severity] = set()
    for text in (s for s in severities if s.strip()):
        try:
            chosen.add(Severity(text.strip().upper()))
        except ValueError:
            names = ", ".join(s.value for s in Severity)
            raise InvalidInsightsQuery(f"severity: {text!r} is not one of {names}") from None
    wanted = frozenset(s.strip() for s in services if s.strip())
    return weeks, InsightsFilter(services=wanted, severities=frozenset(chosen))


def safe_cell(value: object) -> str:
    """The cell as text, with an apostrophe before anything a spreadsheet would evaluate."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def _figure_cells(figures: Figures) -> list[str]:
    cells = [str(figures.incidents), str(figures.still_open)]
    for _, attribute in DURATIONS:
        summary: Summary = getattr(figures, attribute)
        cells += [
            str(summary.count),
            _seconds(summary.mean_seconds),
            _seconds(summary.median_seconds),
        ]
    return cells


def csv_rows(report: Insights) -> list[list[str]]:
    rows = [list(HEADER)]
    for week in report.weeks:
        day = week.start.date().isoformat()
        rows.append([week.label, day, "week", "", "", *_figure_cells(week.figures)])
        for part in (b for b in report.breakdown if b.week_start == week.start):
            rows.append(
                [
                    week.label,
                    day,
                    "service_severity",
                    part.service,
                    part.severity.value,
                    *_figure_cells(part.figures),
                ]
            )
    return [[safe_cell(cell) for cell in row] for row in rows]


def csv_text(report: Insights) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(csv_rows(report))
    return out.getvalue()


def csv_filename(report: Insights) -> str:
    first = week_label(report.range.first)
    last = week_label(report.range.starts[-1])
    return f"incident-insights-{first}-to-{last}.csv"


def csv_headers(report: Insights) -> dict[str, str]:
    return {
        "Content-Disposition": f'attachment; filename="{csv_filename(report)}"',
        "Cache-Control": "private, no-store",
    }


def _summary_json(summary: Summary) -> dict[str, Any]:
    return {
        "count": summary.count,
        "mean_seconds": summary.mean_seconds,
        "median_seconds": summary.median_seconds,
    }


def figures_json(figures: Figures) -> dict[str, Any]:
    return {
        "incidents": figures.incidents,
        "still_open": figures.still_open,
        **{prefix: _summary_json(getattr(figures, attr)) for prefix, attr in DURATIONS},
    }


def insights_json(report: Insights, *, truncated: bool = False) -> dict[str, Any]:
    return {
        "from": report.range.first.date().isoformat(),
        "to": (report.range.end - timedelta(days=1)).date().isoformat(),
        "filters": {
            "services": sorted(report.only.services),
            "severities": sorted(s.value for s in report.only.severities),
        },
        "truncated": truncated,
        "overall": figures_json(report.overall),
        "weeks": [
            {
                "week": w.label,
                "start": isoformat(w.start),
                **figures_json(w.figures),
                "by_severity": {s.value: n for s, n in w.by_severity},
                "by_service": dict(w.by_service),
            }
            for w in report.weeks
        ],
        "rows": [
            {
                "week": week_label(b.week_start),
                "service": b.service,
                "severity": b.severity.value,
                **figures_json(b.figures),
            }
            for b in report.breakdown
        ],
    }
