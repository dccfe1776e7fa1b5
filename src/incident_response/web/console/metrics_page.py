"""The metrics page: the weekly insights (MTTA, MTTR, time to first public update, incidents
by service and severity: insights_section.py), then how fast war rooms assemble, whether
reminders are answered, and how drafts fare, as figures, charts and tables.

The operational figures come from services/metrics.py over the incidents opened in the chosen
window, each read with its audit trail; the charts are inline SVG (charts.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from fastapi import APIRouter
from markupsafe import Markup
from starlette.requests import Request
from starlette.responses import Response

from incident_response.domain.clock import utc
from incident_response.services.metrics import (
    IncidentFacts,
    MetricsReport,
    Period,
    incident_facts,
    report,
)
from incident_response.web.console.charts import (
    Series,
    bar_chart,
    in_unit,
    line_chart,
    share_bar,
    time_unit,
)
from incident_response.web.console.incidents import ConsolePages
from incident_response.web.console.insights_section import csv_download, section
from incident_response.web.console.rendering import Pages, duration_text, html_route_class
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.signin import ConsoleAuth

# window in days -> bucket
WINDOWS: dict[int, timedelta] = {7: timedelta(days=1), 30: timedelta(days=1), 90: timedelta(days=7)}
DEFAULT_DAYS = 30
MAX_INCIDENTS = 1000


def number(value: float) -> str:
    """`0`, `0.034`, `1.3`, `12`, `250`: short, without trailing zeros."""
    if value == 0:
        return "0"
    if abs(value) < 1:
        return f"{value:.2g}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.1f}".rstrip("0").rstrip(".")


def window(now: datetime, days: int) -> tuple[datetime, datetime]:
    """Whole UTC days ending with today."""
    end = utc(now).replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
    return end - timedelta(days=days), end


async def gather(services: ConsoleServices, since: datetime) -> list[IncidentFacts]:
    facts = []
    for incident in await services.store.recent(limit=MAX_INCIDENTS):
        # opened_at is the first alert, a little before the incident document was created
        if utc(incident.created_at) < since - timedelta(hours=1) or incident.is_drill:
            continue  # drills rehearse the response: they are not part of its record
        facts.append(incident_facts(incident, await services.audit.records(incident.id)))
    return facts


def charts(metrics: MetricsReport, labels: Sequence[str]) -> dict[str, Markup]:
    buckets = metrics.buckets
    overall = metrics.overall
    answered = overall.reminders_answered
    assembled = [b.assembled_p50 for b in buckets], [b.assembled_p90 for b in buckets]
    response = [b.mtta_seconds for b in buckets], [b.mttr_seconds for b in buckets]
    fast = time_unit(_longest(*assembled))
    slow = time_unit(_longest(*response))
    return {
        "assembled": line_chart(
            chart_id="chart-assembled",
            title=f"Alert to war room assembled, p50 and p90 ({fast.long})",
            description=f"{overall.assembled} war rooms assembled; p50 "
            f"{_text(overall.assembled_p50)}, p90 {_text(overall.assembled_p90)} "
            "over the window. The table below lists every period.",
            labels=labels,
            series=[
                Series("p50", in_unit(assembled[0], fast)),
                Series("p90", in_unit(assembled[1], fast)),
            ],
            fmt=lambda v: f"{number(v)} {fast.short}",
        ),
        "response": line_chart(
            chart_id="chart-response",
            title=f"Mean time to first response and to resolve ({slow.long})",
            description=f"First response {_text(overall.mtta_seconds)}, alert to resolved "
            f"{_text(overall.mttr_seconds)} over the window.",
            labels=labels,
            series=[
                Series("First response", in_unit(response[0], slow)),
                Series("Resolve", in_unit(response[1], slow)),
            ],
            fmt=lambda v: f"{number(v)} {slow.short}",
        ),
        "drafts": bar_chart(
            chart_id="chart-drafts",
            title="Status drafts approved and rejected",
            description=f"{overall.drafts_approved} approved, {overall.drafts_rejected} "
            "rejected over the window.",
            labels=labels,
            series=[
                Series("Approved", [float(b.drafts_approved) for b in buckets]),
                Series("Rejected", [float(b.drafts_rejected) for b in buckets]),
            ],
            fmt=number,
        ),
        "nudges": share_bar(
            chart_id="chart-nudges",
            title="Status reminders answered with a published update",
            parts=[
                ("Answered", float(answered)),
                ("Not answered", float(overall.reminders_sent - answered)),
            ],
            fmt=number,
        ),
    }


def _longest(*series: Sequence[float | None]) -> float:
    return max((v for values in series for v in values if v is not None), default=0.0)


def _text(seconds: float | None) -> str:
    return "no data" if seconds is None else duration_text(seconds)


def bucket_label(period: Period, bucket: timedelta) -> str:
    return f"{period.start:%b %d}" if bucket <= timedelta(days=1) else f"w/c {period.start:%b %d}"


def metrics_router(*, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)
    console = ConsolePages(pages=pages, auth=auth)

    @router.get("/console/metrics")
    async def metrics(request: Request, days: int = DEFAULT_DAYS) -> Response:
        visitor = await auth.require(request)
        if days not in WINDOWS:
            days = DEFAULT_DAYS
        start, end = window(services.clock.now(), days)
        facts = await gather(services, start)
        result = report(facts, start=start, end=end, bucket=WINDOWS[days])
        labels = [bucket_label(b, result.bucket) for b in result.buckets]
        insights, refused = await section(services, visitor, request)
        context: dict[str, Any] = {
            **insights,
            "metrics": result,
            "overall": result.overall,
            "rows": list(zip(labels, result.buckets, strict=True)),
            "charts": charts(result, labels),
            "days": days,
            "windows": sorted(WINDOWS),
            "start": start,
            "end": end - timedelta(seconds=1),
        }
        page = console.show(
            request, visitor, "metrics.html", nav="metrics", title="Metrics", **context
        )
        if refused:
            page.status_code = 422
        return page

    @router.get("/console/metrics/insights.csv")
    async def insights_csv(request: Request) -> Response:
        """The weekly insights the page shows, as CSV (the layout is in insights_export.py)."""
        return await csv_download(services, await auth.require(request), request)

    return router
