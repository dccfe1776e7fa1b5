"""Live updates: a signed-in page hears, without reloading, that an alert became a war room."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from incident_response.web.app import create_app
from incident_response.web.console import routers_for_services, services_from
from tests.support.clock import ManualClock
from tests.support.console import console_world


def events(stream: str) -> list[tuple[str, dict[str, str]]]:
    found = []
    for block in stream.split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line)
        if "event" in lines:
            found.append((lines["event"], json.loads(lines["data"])))
    return found


async def test_a_new_incident_reaches_an_open_page_as_it_happens(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with console_world(tmp_path, clock) as world:
        app = create_app(
            routers=routers_for_services(
                services_from(world.container), live_poll_seconds=0.02, max_stream_seconds=0.8
            )
        )
        browser = await world.signed_in("alice@example.com", app)
        listening = asyncio.create_task(browser.get("/console/events"))
        await asyncio.sleep(0.2)
        incident = await world.alert()
        response = await listening

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    received = events(response.text)
    assert received[0] == ("ready", {})
    changes = [data for kind, data in received if kind == "change"]
    assert {"kind": "new_incident", "incident_id": incident.id, "channel_id": ""} in changes
    assert any(c["kind"] == "message" and c["incident_id"] == incident.id for c in changes)
