"""The console's Declare incident form: the same declaration as Slack and the API, with CSRF."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.domain.incident import IncidentStatus
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world, csrf_of

KEY = re.compile(r'name="key" value="([^"]+)"')


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


def form_of(html: str) -> dict[str, str]:
    key = KEY.search(html)
    assert key is not None, "the form carries no key"
    return {"csrf": csrf_of(html), "key": key.group(1)}


async def test_the_list_links_to_the_form_which_declares_and_shows_the_incident(
    world: ConsoleWorld,
) -> None:
    browser = await world.signed_in("dan@example.com")
    listed = await browser.get("/console")
    assert 'href="/console/declare"' in listed.text
    page = await browser.get("/console/declare")
    assert page.status_code == 200
    assert '<option value="dan@example.com" selected>' in page.text  # the IC: the declarer
    answer = await browser.client.post(
        "/console/declare",
        data={
            **form_of(page.text),
            "title": "Checkout is slow for EU customers",
            "severity": "P1",
            "service": "checkout",
            "summary": "Latency doubled at 09:10 UTC.",
            "ic": "carol@example.com",
        },
    )
    assert answer.status_code == 303, answer.text
    [incident] = await world.container.store.recent()
    assert answer.headers["location"] == f"/console/incidents/{incident.id}"
    assert incident.declared_by == "dan@example.com"
    assert incident.ic == "carol@example.com"
    assert incident.summary == "Latency doubled at 09:10 UTC."
    shown = await browser.get(answer.headers["location"])
    assert f"Declared P1 incident {incident.id}" in shown.text
    assert '<dd data-testid="declared-by">Dan Kowalski</dd>' in shown.text
    assert "Latency doubled at 09:10 UTC." in shown.text

    await world.process()
    assembled = await world.container.store.get(incident.id)
    assert assembled is not None
    assert assembled.status is IncidentStatus.ASSEMBLED


async def test_a_form_posted_twice_opens_one_incident(world: ConsoleWorld) -> None:
    browser = await world.signed_in("dan@example.com")
    fields = {
        **form_of((await browser.get("/console/declare")).text),
        "title": "Checkout down",
        "severity": "P2",
    }
    first = await browser.client.post("/console/declare", data=fields)
    again = await browser.client.post("/console/declare", data=fields)
    assert first.headers["location"] == again.headers["location"]
    assert len(await world.container.store.recent()) == 1


async def test_a_bad_field_comes_back_beside_its_input_and_nothing_is_declared(
    world: ConsoleWorld,
) -> None:
    browser = await world.signed_in("dan@example.com")
    page = await browser.get("/console/declare")
    answer = await browser.client.post(
        "/console/declare",
        data={**form_of(page.text), "title": "   ", "severity": "P7", "service": "checkout"},
    )
    assert answer.status_code == 422
    assert 'data-testid="problem-title"' in answer.text
    assert "is not a severity" in answer.text
    assert 'value="checkout"' in answer.text  # what was typed is kept
    assert await world.container.store.recent() == []


async def test_a_post_without_the_sessions_csrf_token_declares_nothing(
    world: ConsoleWorld,
) -> None:
    browser = await world.signed_in("dan@example.com")
    fields = {"title": "Checkout down", "severity": "P1"}
    missing = await browser.client.post("/console/declare", data=fields)
    forged = await browser.client.post("/console/declare", data={**fields, "csrf": "forged"})
    assert missing.status_code == forged.status_code == 403
    assert "nothing was done" in forged.text
    assert await world.container.store.recent() == []


async def test_the_form_needs_a_signed_in_person(world: ConsoleWorld) -> None:
    anonymous = world.browser()
    answer = await anonymous.get("/console/declare")
    assert answer.status_code == 303
    assert answer.headers["location"].startswith("/console/sign-in")
