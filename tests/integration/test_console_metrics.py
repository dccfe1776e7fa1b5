"""The metrics page over HTTP, on a history made by working incidents through the console."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from statistics import fmean

import pytest

from incident_response.web.console.rendering import duration_text
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


def figure(html: str, name: str) -> str:
    found = re.search(
        rf'data-testid="figure-{name}".*?<span class="value">(.*?)</span>', html, re.S
    )
    assert found is not None, name
    return re.sub(r"<[^>]+>", "", found.group(1)).strip()


async def latest_draft(world: ConsoleWorld, incident_id: str) -> str:
    incident = await world.container.store.get(incident_id)
    assert incident is not None
    assert incident.drafts
    return incident.drafts[-1].id


async def test_the_figures_follow_what_happened(world: ConsoleWorld) -> None:
    clock = world.clock
    first = await world.alert(title="HighErrorRate checkout")
    ic = await world.signed_in(first.ic or "")
    page = f"/console/incidents/{first.id}"
    ack_first = 120.0
    clock.advance(seconds=ack_first)
    await ic.submit(page, f"{page}/checklist", {"number": "1", "done": "1"})
    await ic.submit(page, f"{page}/drafts", {})
    draft_id = await latest_draft(world, first.id)
    await ic.submit(page, f"{page}/drafts/{draft_id}/approve", {"version": "1", "confirmed": "yes"})
    resolve_first = 1800.0
    clock.advance(seconds=resolve_first - ack_first)
    await ic.submit(page, f"{page}/resolve", {"confirmed": "yes"})
    await world.process()

    clock.advance(minutes=1)
    second = await world.alert(title="LatencyHigh api", service="api")
    ic2 = await world.signed_in(second.ic or "")
    page2 = f"/console/incidents/{second.id}"
    ack_second = 300.0
    clock.advance(seconds=ack_second)
    await ic2.submit(page2, f"{page2}/commands", {"text": "checklist"})
    await ic2.submit(page2, f"{page2}/drafts", {})
    draft2 = await latest_draft(world, second.id)
    await ic2.submit(page2, f"{page2}/drafts/{draft2}/reject", {"reason": "not yet"})

    html = (await ic.get("/console/metrics?days=7")).text
    assert figure(html, "first-response") == duration_text(fmean([ack_first, ack_second]))
    assert figure(html, "alert-to-resolved") == duration_text(resolve_first)
    assert figure(html, "drafts") == "1 / 1"
    assert 'data-testid="metrics-incidents">2<' in html
    assert html.count('class="chart') >= 3  # the charts are drawn, with text alternatives
    assert '<title id="chart-assembled-title">' in html


async def test_an_empty_window_says_so(world: ConsoleWorld) -> None:
    browser = await world.signed_in("alice@example.com")
    html = (await browser.get("/console/metrics")).text
    assert "No incidents in this window." in html
    assert figure(html, "first-response") == duration_text(None)
