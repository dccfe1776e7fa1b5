"""The insights on the metrics page, week by week, and their CSV download for a console session.

The same query (`from`, `to`, `service`, `severity`), reader and CSV as `GET /api/insights`, so
the page, its download and the API never disagree. Reading them is anyone in the roster.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from incident_response.domain.alert import Severity
from incident_response.domain.authority import Action
from incident_response.domain.insights import (
    Insights,
    InsightsFilter,
    InvalidInsightsQuery,
    WeekRange,
)
from incident_response.services.insights import InsightsReader, InsightsReport
from incident_response.web.console.charts import Series, bar_chart
from incident_response.web.console.rendering import PageError
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.signin import Visitor
from incident_response.web.insights_export import CSV_MEDIA_TYPE, csv_headers, csv_text, query


def reader_for(services: ConsoleServices) -> InsightsReader:
    return InsightsReader(store=services.store, audit=services.audit)


async def require_reader(services: ConsoleServices, visitor: Visitor) -> None:
    decision = await services.authority.decide(Action.READ, None, visitor.person.email)
    if not decision.allowed:
        raise PageError(403, decision.text)


def asked(request: Request, now: datetime) -> tuple[WeekRange, InsightsFilter]:
    """What the request's query string asks for; raises InvalidInsightsQuery."""
    params = request.query_params
    return query(
        start=params.get("from") or None,
        end=params.get("to") or None,
        services=params.getlist("service"),
        severities=params.getlist("severity"),
        now=now,
    )


def chart(insights: Insights) -> Markup:
    labels = [w.label for w in insights.weeks]
    total = insights.overall.incidents
    return bar_chart(
        chart_id="chart-insights",
        title="Incidents opened per week, by severity",
        description=f"{total} incidents over {len(labels)} weeks. The table below lists every week.",
        labels=labels,
        series=[
            Series(s.value, [float(dict(w.by_severity)[s]) for w in insights.weeks])
            for s in Severity
        ],
        fmt=lambda v: f"{v:g}",  # a small count's axis steps by halves: 0.5, 1, 1.5
    )


async def section(
    services: ConsoleServices, visitor: Visitor, request: Request
) -> tuple[dict[str, Any], bool]:
    """The template's `insight*` values, and whether the query was refused (the page then
    shows the default weeks and says why)."""
    await require_reader(services, visitor)
    now = services.clock.now()
    error = None
    try:
        weeks, only = asked(request, now)
    except InvalidInsightsQuery as exc:
        error = str(exc)
        weeks, only = WeekRange.ending(now), InsightsFilter()
    report: InsightsReport = await reader_for(services).read(weeks, only)
    insights = report.insights
    chosen = {
        "from": weeks.first.date().isoformat(),
        "to": (weeks.end - timedelta(days=1)).date().isoformat(),
        "service": sorted(only.services),
        "severity": sorted(s.value for s in only.severities),
    }
    return {
        "insights": insights,
        "insights_truncated": report.truncated,
        "insights_error": error,
        "insights_chosen": chosen,
        "insights_chart": chart(insights),
        "insights_csv": "/console/metrics/insights.csv?" + urlencode(chosen, doseq=True),
        "severities": [s.value for s in Severity],
    }, error is not None


async def csv_download(services: ConsoleServices, visitor: Visitor, request: Request) -> Response:
    await require_reader(services, visitor)
    try:
        weeks, only = asked(request, services.clock.now())
    except InvalidInsightsQuery as exc:
        raise PageError(422, str(exc), title="These weeks cannot be exported") from None
    report = await reader_for(services).read(weeks, only)
    return Response(
        csv_text(report.insights), media_type=CSV_MEDIA_TYPE, headers=csv_headers(report.insights)
    )
