"""A drill (alert label drill=true) is marked as one on every surface and kept out of the record:
the API says so, the console shows it, the insights and the metrics page do not count it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


async def test_a_drill_is_marked_in_the_api_and_the_console(world: ConsoleWorld) -> None:
    drill = await world.alert(title="IncidentResponseDrill checkout", labels={"drill": "true"})
    real = await world.alert(title="HighErrorRate api", service="api")
    browser = await world.signed_in(drill.ic or "")
    client = world.browser().client
    client.headers["Authorization"] = f"Bearer {world.token(drill.ic or '')}"
    assert (await client.get(f"/api/incidents/{drill.id}")).json()["drill"] is True
    assert (await client.get(f"/api/incidents/{real.id}")).json()["drill"] is False
    assert (
        'data-testid="incident-drill"' in (await browser.get(f"/console/incidents/{drill.id}")).text
    )
    assert (
        'data-testid="incident-drill"'
        not in (await browser.get(f"/console/incidents/{real.id}")).text
    )


async def test_drills_are_left_out_of_the_insights_and_the_metrics(world: ConsoleWorld) -> None:
    await world.alert(title="IncidentResponseDrill checkout", labels={"drill": "true"})
    real = await world.alert(title="HighErrorRate api", service="api")
    client = world.browser().client
    client.headers["Authorization"] = f"Bearer {world.token(real.ic or '')}"
    insights = (await client.get("/api/insights")).json()
    assert insights["overall"]["incidents"] == 1
    browser = await world.signed_in(real.ic or "")
    html = (await browser.get("/console/metrics?days=7")).text
    assert 'data-testid="metrics-incidents">1<' in html


async def test_a_resolved_drill_files_no_postmortem(world: ConsoleWorld) -> None:
    drill = await world.alert(title="IncidentResponseDrill checkout", labels={"drill": "true"})
    real = await world.alert(title="HighErrorRate api", service="api")
    for incident in (drill, real):
        ic = await world.signed_in(incident.ic or "")
        page = f"/console/incidents/{incident.id}"
        await ic.submit(page, f"{page}/resolve", {"confirmed": "yes"})
    await world.process()
    resolved = {i.id: await world.container.store.get(i.id) for i in (drill, real)}
    assert all(i is not None and i.status.value == "resolved" for i in resolved.values())
    assert resolved[drill.id].postmortem is None  # type: ignore[union-attr]
    assert resolved[real.id].postmortem is not None  # type: ignore[union-attr]
