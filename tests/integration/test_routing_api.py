"""The shipped routing default on a real Container, through intake: a lone warning and an info
alert open nothing but stay visible over the API with why; a warning joins its service's incident."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.domain.alert import AlertSource
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world
from tests.support.payloads import oncall_payload


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


async def send(world: ConsoleWorld, group: str, severity: str, service: str = "checkout") -> None:
    body = oncall_payload(
        group=group,
        title=f"{severity} on {service}",
        labels={"alertname": "Latency", "service": service, "severity": severity},
        at=world.clock.now(),
    )
    await world.container.intake.accept(AlertSource.GRAFANA_ONCALL.value, json.dumps(body).encode())
    await world.process()


async def test_alerts_the_default_does_not_open_are_listed_over_the_api_with_why(
    world: ConsoleWorld,
) -> None:
    await send(world, "W1", "warning")
    await send(world, "I1", "info")

    listed = await world.browser().client.get(
        "/api/alerts/not-opened",
        headers={"Authorization": f"Bearer {world.token('alice@example.com')}"},
    )

    assert await world.container.store.recent() == []
    assert listed.status_code == 200, listed.text
    info, warning = listed.json()["alerts"]
    assert (info["title"], info["rule"], info["action"]) == (
        "info on checkout",
        "P4 recorded",
        "ignore",
    )
    assert warning["rule"] == "warnings join"
    assert warning["why"] == (
        "routing rule 'warnings join' says attach, and no incident of service 'checkout' is open"
    )
    assert warning["labels"]["severity"] == "warning"
    anonymous = await world.browser().client.get("/api/alerts/not-opened")
    assert anonymous.status_code == 401


async def test_a_warning_joins_the_open_incident_of_its_service(world: ConsoleWorld) -> None:
    incident = await world.alert(service="checkout")

    await send(world, "W2", "warning")

    [after] = await world.container.store.recent()
    assert after.id == incident.id
    assert [a.title for a in after.alerts][-1] == "warning on checkout"
