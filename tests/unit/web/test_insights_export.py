"""The insights CSV and the query the console and the API read (web/insights_export.py)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from incident_response.domain.alert import Severity
from incident_response.domain.insights import (
    IncidentTimes,
    InvalidInsightsQuery,
    WeekRange,
    insights,
)
from incident_response.web.insights_export import (
    HEADER,
    csv_headers,
    csv_text,
    insights_json,
    query,
    safe_cell,
)

MONDAY = datetime(2026, 11, 2, tzinfo=UTC)  # 2026-W45
NOW = MONDAY + timedelta(days=23, hours=5)  # Wednesday of 2026-W48


def incident(
    n: int, *, service: str, severity: Severity, ack: float, resolve: float | None
) -> IncidentTimes:
    opened = MONDAY + timedelta(hours=n)
    return IncidentTimes(
        incident_id=f"inc-{n}",
        service=service,
        severity=severity,
        opened_at=opened,
        acknowledged_at=opened + timedelta(seconds=ack),
        resolved_at=None if resolve is None else opened + timedelta(seconds=resolve),
    )


def rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_one_week_row_then_one_row_per_service_and_severity_empty_weeks_included() -> None:
    report = insights(
        [
            incident(1, service="checkout", severity=Severity.P1, ack=60, resolve=600),
            incident(2, service="checkout", severity=Severity.P1, ack=180, resolve=None),
            incident(3, service="search", severity=Severity.P3, ack=30, resolve=90),
        ],
        weeks=WeekRange(first=MONDAY, weeks=2),
    )
    text = csv_text(report)
    assert text.splitlines()[0] == ",".join(HEADER)
    found = rows(text)
    assert [(r["week"], r["row"], r["service"], r["severity"], r["incidents"]) for r in found] == [
        ("2026-W45", "week", "", "", "3"),
        ("2026-W45", "service_severity", "checkout", "P1", "2"),
        ("2026-W45", "service_severity", "search", "P3", "1"),
        ("2026-W46", "week", "", "", "0"),
    ]
    checkout = found[1]
    assert checkout["week_start"] == "2026-11-02"
    assert checkout["still_open"] == "1"
    assert checkout["acknowledged"] == "2"
    assert checkout["mtta_mean_seconds"] == "120.0"
    assert checkout["mtta_median_seconds"] == "120.0"
    assert checkout["resolved"] == "1"
    assert checkout["mttr_mean_seconds"] == "600.0"
    assert checkout["updated"] == "0"
    assert checkout["time_to_first_update_mean_seconds"] == ""
    assert found[3]["mttr_mean_seconds"] == ""


def test_cells_a_spreadsheet_would_run_get_an_apostrophe() -> None:
    for dangerous in ('=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"):
        assert safe_cell(dangerous) == "'" + dangerous
    assert safe_cell("checkout") == "checkout"
    assert safe_cell("a=b") == "a=b"
    report = insights(
        [incident(1, service='=cmd|" /C calc"!A0', severity=Severity.P2, ack=1, resolve=2)],
        weeks=WeekRange(first=MONDAY, weeks=1),
    )
    found = rows(csv_text(report))
    assert found[1]["service"] == '\'=cmd|" /C calc"!A0'


def test_the_download_is_named_after_its_weeks() -> None:
    report = insights([], weeks=WeekRange(first=MONDAY, weeks=3))
    assert csv_headers(report)["Content-Disposition"] == (
        'attachment; filename="incident-insights-2026-W45-to-2026-W47.csv"'
    )


def test_json_names_the_range_and_each_week() -> None:
    report = insights(
        [incident(1, service="checkout", severity=Severity.P1, ack=60, resolve=600)],
        weeks=WeekRange(first=MONDAY, weeks=2),
    )
    body = insights_json(report)
    assert body["from"] == "2026-11-02"
    assert body["to"] == "2026-11-15"
    assert body["weeks"][0]["week"] == "2026-W45"
    assert body["weeks"][0]["mttr"] == {"count": 1, "mean_seconds": 600.0, "median_seconds": 600.0}
    assert body["weeks"][0]["by_severity"] == {"P1": 1, "P2": 0, "P3": 0, "P4": 0}
    assert body["weeks"][1]["incidents"] == 0
    assert [(r["week"], r["service"], r["severity"], r["incidents"]) for r in body["rows"]] == [
        ("2026-W45", "checkout", "P1", 1)
    ]
    assert body["rows"][0]["mtta"]["mean_seconds"] == 60.0


def test_the_query_defaults_to_the_last_12_weeks() -> None:
    weeks, only = query(start=None, end=None, services=[], severities=[], now=NOW)
    assert weeks.weeks == 12
    assert weeks.starts[-1] == MONDAY + timedelta(days=21)
    assert not only.services
    assert not only.severities
    weeks, _ = query(start="2026-W45", end=None, services=[], severities=[], now=NOW)
    assert (weeks.first, weeks.weeks) == (MONDAY, 4)
    weeks, _ = query(start=None, end="2026-11-04", services=[], severities=[], now=NOW)
    assert (weeks.starts[-1], weeks.weeks) == (MONDAY, 12)


def test_the_query_reads_filters_and_refuses_nonsense() -> None:
    _, only = query(
        start=None, end=None, services=["checkout", "", "api"], severities=["p1", "P3"], now=NOW
    )
    assert only.services == {"checkout", "api"}
    assert only.severities == {Severity.P1, Severity.P3}
    with pytest.raises(InvalidInsightsQuery, match="severity"):
        query(start=None, end=None, services=[], severities=["P9"], now=NOW)
    with pytest.raises(InvalidInsightsQuery, match="before"):
        query(start="2026-11-20", end="2026-11-01", services=[], severities=[], now=NOW)
    with pytest.raises(InvalidInsightsQuery, match="to"):
        query(start=None, end="soon", services=[], severities=[], now=NOW)
