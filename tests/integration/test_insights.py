"""Insights over HTTP: `GET /api/insights` (JSON and CSV), the metrics page's weekly section and
its CSV download, on incidents seeded in the embedded store with known moments."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from statistics import fmean, median
from typing import Any

import httpx
import pytest

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.insights import WeekRange
from incident_response.domain.status_update import DraftStatus, StatusDraft
from incident_response.ports import AuditLog
from incident_response.services.insights import InsightsReader
from incident_response.web.console.rendering import duration_text
from tests.contract.incident_samples import sample_incident
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

# the clock stands on Thursday 2026-11-26 (ISO week 2026-W48)
W48 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
W47 = W48 - timedelta(days=7)
W46 = W48 - timedelta(days=14)
EVIL = '=HYPERLINK("http://evil.example","x")'

# what the seeded incidents make of the last 12 weeks (see `seeded`)
ACKS = [30.0, 90.0, 900.0, 60.0]
RESOLVES = [3600.0, 10800.0, 7200.0]
UPDATES = [600.0, 1200.0]


def published(at: datetime) -> StatusDraft:
    return StatusDraft(
        id=f"d-{at:%H%M%S}",
        status=DraftStatus.PUBLISHED,
        body="We are investigating errors at checkout.",
        content_hash="0" * 64,
        created_by="alice@example.com",
        created_at=at - timedelta(minutes=1),
        updated_at=at,
        published_at=at,
    )


def seed(
    n: int,
    opened: datetime,
    *,
    service: str,
    severity: Severity,
    assembled: float | None,
    ic_at_assembly: bool = True,
    update: float | None = None,
    resolved: float | None = None,
) -> Incident:
    def after(seconds: float | None) -> datetime | None:
        return None if seconds is None else opened + timedelta(seconds=seconds)

    status = IncidentStatus.RESOLVED if resolved is not None else IncidentStatus.ASSEMBLED
    return sample_incident().update(
        id=f"inc-seed-{n}",
        alert_group_key=f"grafana-oncall:SEED{n}",
        service=service,
        severity=severity,
        status=status if assembled is not None else IncidentStatus.ALERT_RECEIVED,
        created_at=opened,
        updated_at=opened,
        assembled_at=after(assembled),
        resolved_at=after(resolved),
        ic="alice@example.com" if ic_at_assembly or assembled is None else "bob@example.com",
        assembly_steps=(
            {"resolve_responders": {"ic": "alice@example.com" if ic_at_assembly else None}}
            if assembled is not None
            else {}
        ),
        drafts=(published(opened + timedelta(seconds=update)),) if update is not None else (),
    )


async def seeded(world: ConsoleWorld) -> None:
    store, audit = world.container.store, world.container.audit
    incidents = [
        seed(
            1,
            W48,
            service="checkout",
            severity=Severity.P1,
            assembled=30,
            update=600,
            resolved=3600,
        ),
        seed(
            2,
            W48 + timedelta(days=1),
            service="checkout",
            severity=Severity.P1,
            assembled=90,
            update=1200,
            resolved=10800,
        ),
        # nobody on call: the room assembled without an IC; Bob took it 15 minutes in
        seed(
            3,
            W48 + timedelta(days=2),
            service="search",
            severity=Severity.P3,
            assembled=10,
            ic_at_assembly=False,
        ),
        seed(4, W47, service="api", severity=Severity.P2, assembled=60, resolved=7200),
        # a service name an alert made up, never acknowledged, still open
        seed(5, W46, service=EVIL, severity=Severity.P4, assembled=None),
        # outside the default 12 weeks
        seed(6, W48 - timedelta(weeks=20), service="api", severity=Severity.P1, assembled=5),
    ]
    for incident in incidents:
        await store.create(incident)
    await audit.append(
        AuditEvent(
            incident_id="inc-seed-3",
            type=AuditEventType.IC_ASSIGNED,
            key="ic-assigned:bob@example.com:v1",
            at=W48 + timedelta(days=2, seconds=900),
            actor="bob@example.com",
            data={"ic": "bob@example.com", "previous": None, "by": "command"},
        )
    )


class CountingFinds:
    """The audit log's `find`, which the reader uses, counting the incidents it is asked for."""

    def __init__(self, inner: AuditLog) -> None:
        self.inner = inner
        self.asked: list[str] = []

    async def find(self, incident_id: str, type: AuditEventType) -> list[AuditRecord]:
        self.asked.append(incident_id)
        return await self.inner.find(incident_id, type)


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        await seeded(world)
        yield world


def api(world: ConsoleWorld, email: str = "alice@example.com") -> httpx.AsyncClient:
    client = world.browser().client
    client.headers["Authorization"] = f"Bearer {world.token(email)}"
    return client


def week(body: dict[str, Any], label: str) -> dict[str, Any]:
    return next(w for w in body["weeks"] if w["week"] == label)


async def test_the_api_answers_the_last_12_weeks_by_default(world: ConsoleWorld) -> None:
    answer = await api(world).get("/api/insights")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [w["week"] for w in body["weeks"]][-1] == "2026-W48"
    assert len(body["weeks"]) == 12
    assert body["overall"]["incidents"] == 5
    assert body["overall"]["still_open"] == 2
    assert body["overall"]["mtta"] == {
        "count": 4,
        "mean_seconds": fmean(ACKS),
        "median_seconds": median(ACKS),
    }
    assert body["overall"]["mttr"]["mean_seconds"] == fmean(RESOLVES)
    assert body["overall"]["time_to_first_update"]["median_seconds"] == median(UPDATES)
    this_week = week(body, "2026-W48")
    assert this_week["incidents"] == 3
    assert this_week["still_open"] == 1
    assert this_week["mtta"]["median_seconds"] == 90
    assert this_week["by_service"] == {"checkout": 2, "search": 1}
    assert this_week["by_severity"] == {"P1": 2, "P2": 0, "P3": 1, "P4": 0}
    assert week(body, "2026-W45")["incidents"] == 0


async def test_the_api_filters_by_service_severity_and_range(world: ConsoleWorld) -> None:
    client = api(world)
    checkout = (await client.get("/api/insights", params={"service": "checkout"})).json()
    assert checkout["overall"]["incidents"] == 2
    assert checkout["overall"]["mtta"]["mean_seconds"] == 60
    both = (
        await client.get("/api/insights", params=[("severity", "P2"), ("severity", "p3")])
    ).json()
    assert both["overall"]["incidents"] == 2
    assert both["filters"]["severities"] == ["P2", "P3"]
    one_week = (
        await client.get("/api/insights", params={"from": "2026-11-17", "to": "2026-W47"})
    ).json()
    assert [w["week"] for w in one_week["weeks"]] == ["2026-W47"]
    assert one_week["overall"]["incidents"] == 1
    assert (one_week["from"], one_week["to"]) == ("2026-11-16", "2026-11-22")


@pytest.mark.parametrize(
    ("params", "says"),
    [
        ({"from": "2026-11-20", "to": "2026-11-01"}, "before"),
        ({"from": "last tuesday"}, "from"),
        ({"from": "2020-01-01", "to": "2026-11-26"}, "at most"),
        ({"severity": "P9"}, "severity"),
        ({"format": "xml"}, "format"),
    ],
)
async def test_the_api_refuses_a_range_it_cannot_answer(
    world: ConsoleWorld, params: dict[str, str], says: str
) -> None:
    answer = await api(world).get("/api/insights", params=params)
    assert answer.status_code == 422
    assert says in answer.json()["error"]


async def test_the_api_wants_a_token_of_someone_in_the_roster(world: ConsoleWorld) -> None:
    anonymous = world.browser().client
    assert (await anonymous.get("/api/insights")).status_code == 401
    stranger = await api(world, "mallory@elsewhere.example").get("/api/insights")
    assert stranger.status_code == 401


def csv_rows(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_the_api_exports_csv_with_formulas_defused(world: ConsoleWorld) -> None:
    answer = await api(world).get("/api/insights", params={"format": "csv", "from": "2026-W46"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/csv; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        'attachment; filename="incident-insights-2026-W46-to-2026-W48.csv"'
    )
    rows = csv_rows(answer.text)
    weeks = [(r["week"], r["incidents"]) for r in rows if r["row"] == "week"]
    assert weeks == [("2026-W46", "1"), ("2026-W47", "1"), ("2026-W48", "3")]
    evil = next(r for r in rows if r["severity"] == "P4")
    assert evil["service"] == "'" + EVIL
    assert not any(cell.startswith("=") for r in rows for cell in r.values())
    search = next(r for r in rows if r["service"] == "search")
    assert (search["mtta_mean_seconds"], search["still_open"]) == ("900.0", "1")


async def test_the_audit_log_is_read_only_for_incidents_without_an_ic_at_assembly(
    world: ConsoleWorld,
) -> None:
    audit = CountingFinds(world.container.audit)
    reader = InsightsReader(store=world.container.store, audit=audit)  # type: ignore[arg-type]
    report = await reader.read(WeekRange.ending(world.clock.now()))
    assert report.insights.overall.acknowledge.count == 4
    # of five incidents, only the room that assembled without an IC and the one that never
    # assembled needed their IC_ASSIGNED records
    assert sorted(audit.asked) == ["inc-seed-3", "inc-seed-5"]


# -- the console --------------------------------------------------------------------------


def figure(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}".*?<span class="value">(.*?)</span>', html, re.S)
    assert found is not None, testid
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


def text_of(html: str, testid: str) -> str:
    found = re.search(rf'data-testid="{testid}">(.*?)<', html, re.S)
    assert found is not None, testid
    return found.group(1).strip()


def table_row(html: str, label: str) -> list[str]:
    found = re.search(rf'<tr data-week="{label}">(.*?)</tr>', html, re.S)
    assert found is not None, label
    cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    return [re.sub(r"<[^>]+>", "", c).replace("&nbsp;", " ").strip() for c in cells]


async def test_the_metrics_page_shows_the_weekly_insights(world: ConsoleWorld) -> None:
    browser = await world.signed_in("alice@example.com")
    html = (await browser.get("/console/metrics")).text
    assert figure(html, "insights-mtta") == duration_text(fmean(ACKS))
    assert text_of(html, "insights-mtta-median") == duration_text(median(ACKS))
    assert figure(html, "insights-mttr") == duration_text(fmean(RESOLVES))
    assert figure(html, "insights-first-update") == duration_text(fmean(UPDATES))
    assert text_of(html, "insights-incidents") == "5"
    assert text_of(html, "insights-open") == "2"
    assert "Incidents still open are counted but not in MTTR." in html
    assert table_row(html, "2026-W48") == [
        "2026-W48",
        "3",
        "1",
        duration_text(fmean([30, 90, 900])),
        duration_text(90),
        duration_text(fmean([3600, 10800])),
        duration_text(median([3600, 10800])),
        duration_text(900),
        duration_text(900),
        "P1 2, P3 1",
        "checkout 2, search 1",
    ]
    assert table_row(html, "2026-W45")[1:3] == ["0", "0"]
    assert html.count("<tr data-week=") == 12
    assert '<title id="chart-insights-title">' in html
    assert EVIL not in html  # the page escapes what alerts named
    assert 'href="/console/metrics/insights.csv?from=' in html


async def test_the_metrics_page_filters_and_explains_a_refused_range(world: ConsoleWorld) -> None:
    browser = await world.signed_in("alice@example.com")
    html = (await browser.get("/console/metrics?service=checkout&severity=P1")).text
    assert figure(html, "insights-mtta") == duration_text(60)
    assert text_of(html, "insights-incidents") == "2"
    assert '<option value="checkout" selected>' in html
    link = re.search(r'<a href="([^"]*)" download data-testid="insights-csv">', html)
    assert link is not None
    assert "service=checkout" in link.group(1)
    assert "severity=P1" in link.group(1)
    refused = await browser.get("/console/metrics?from=2026-11-20&to=2026-11-01")
    assert refused.status_code == 422
    assert "is before from" in text_of(refused.text, "insights-error")
    assert text_of(refused.text, "insights-incidents") == "5"  # the default weeks instead


async def test_the_console_downloads_the_csv_for_a_session(world: ConsoleWorld) -> None:
    signed_out = world.browser()
    answer = await signed_out.get("/console/metrics/insights.csv")
    assert answer.status_code in (302, 303)
    assert answer.headers["location"].startswith("/console/sign-in")
    browser = await world.signed_in("alice@example.com")
    download = await browser.get("/console/metrics/insights.csv?service=checkout&from=2026-W48")
    assert download.status_code == 200
    assert download.headers["content-type"] == "text/csv; charset=utf-8"
    assert download.headers["content-disposition"].startswith("attachment; filename=")
    rows = csv_rows(download.text)
    assert [(r["row"], r["service"], r["incidents"]) for r in rows] == [
        ("week", "", "2"),
        ("service_severity", "checkout", "2"),
    ]
    bad = await browser.get("/console/metrics/insights.csv?to=never")
    assert bad.status_code == 422


async def test_an_incident_worked_through_the_console_lands_in_its_week(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with console_world(tmp_path, clock) as fresh:
        incident = await fresh.alert(title="HighErrorRate checkout")
        assert incident.ic is not None
        assert incident.assembled_at is not None
        ic = await fresh.signed_in(incident.ic)
        page = f"/console/incidents/{incident.id}"
        clock.advance(seconds=420)
        await ic.submit(page, f"{page}/drafts", {})
        stored = await fresh.container.store.get(incident.id)
        assert stored is not None
        draft = stored.drafts[-1]
        await ic.submit(
            page, f"{page}/drafts/{draft.id}/approve", {"version": "1", "confirmed": "yes"}
        )
        clock.advance(seconds=3180)
        await ic.submit(page, f"{page}/resolve", {"confirmed": "yes"})
        await fresh.process()

        audit = CountingFinds(fresh.container.audit)
        reader = InsightsReader(store=fresh.container.store, audit=audit)  # type: ignore[arg-type]
        overall = (await reader.read(WeekRange.ending(clock.now()))).insights.overall
        opened = incident.created_at
        assert overall.incidents == 1
        assert overall.still_open == 0
        # the room assembled with the on-call primary as IC: that is the acknowledgement
        assert overall.acknowledge.mean_seconds == (incident.assembled_at - opened).total_seconds()
        assert overall.first_update.mean_seconds == pytest.approx(420, abs=1)
        assert overall.resolve.mean_seconds == pytest.approx(3600, abs=1)
        assert audit.asked == []  # every moment came from the incident itself
        body = (await api(fresh).get("/api/insights")).json()
        assert body["weeks"][-1]["by_service"] == {"checkout": 1}
