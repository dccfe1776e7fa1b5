"""The public status page's HTML and Atom feed: only approved, published text, nothing internal."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from incident_response.domain.incident import Incident
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

ATOM = "{http://www.w3.org/2005/Atom}"
FIRST = "Checkout: we are investigating elevated errors. Next update within 30 minutes."
SECOND = "Checkout: a fix is rolling out; errors are dropping."
UNAPPROVED = "INTERNAL DRAFT: blame the 7f9c6d8b5 pod, do not publish"
INTERNAL_LABELS = {"pod": "checkout-7f9c6d8b5-x2kqp", "instance": "ip-10-4-2-17.internal"}


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock, components="checkout=Checkout") as world:
        yield world


async def publish(world: ConsoleWorld, incident: Incident, body: str) -> None:
    gate, actor = world.container.gate, incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=actor)
    draft = await gate.edit(incident.id, draft.id, body=body, actor=actor, expected_version=1)
    await gate.approve_and_publish(incident.id, draft.id, version=draft.version, actor=actor)


async def unpublished_draft(world: ConsoleWorld, incident: Incident, body: str) -> None:
    gate, actor = world.container.gate, incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=actor)
    await gate.edit(incident.id, draft.id, body=body, actor=actor, expected_version=1)


async def internal_words(world: ConsoleWorld, incident: Incident) -> list[str]:
    """What only the team should see: people, the war room, labels, ids, drafts."""
    assert incident.channel is not None
    people = await world.container.directory.people()
    return [
        *(p.email for p in people),
        *(p.name for p in people),
        incident.channel.name,
        incident.channel.id,
        incident.id,
        *INTERNAL_LABELS.values(),
        UNAPPROVED,
        "alertname",
    ]


async def test_a_quiet_page_says_all_is_well(world: ConsoleWorld) -> None:
    page = await world.browser().get("/status")
    assert page.status_code == 200
    assert "All Systems Operational" in page.text
    assert "No ongoing incidents." in page.text


async def test_the_page_shows_published_updates_and_nothing_internal(world: ConsoleWorld) -> None:
    incident = await world.alert(labels=INTERNAL_LABELS)
    await unpublished_draft(world, incident, UNAPPROVED)
    assert "No ongoing incidents." in (await world.browser().get("/status")).text

    await publish(world, incident, FIRST)
    public = world.browser()  # nobody signed in
    page = await public.get("/status")
    assert page.status_code == 200
    assert FIRST in page.text
    assert "Major Service Outage" in page.text
    assert re.search(r"Checkout</span>\s*<span class=\"component-status\">Major outage", page.text)
    [status_incident] = (await world.container.status_page.incidents())["incidents"]
    detail = await public.get(f"/status/incidents/{status_incident['id']}")
    history = await public.get("/status/history")
    for html in (page.text, detail.text, history.text):
        assert FIRST in html
        for word in await internal_words(world, incident):
            assert word not in html, word


async def test_the_atom_feed_is_valid_and_carries_only_published_text(world: ConsoleWorld) -> None:
    incident = await world.alert(labels=INTERNAL_LABELS)
    await publish(world, incident, FIRST)
    world.clock.advance(minutes=20)
    await publish(world, incident, SECOND)
    await unpublished_draft(world, incident, UNAPPROVED)

    response = await world.browser().get("/status/history.atom")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for required in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{required}") is not None, required
    entries = feed.findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}content") for e in entries] == [SECOND, FIRST]  # newest first
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 2
    for entry in entries:
        for required in ("id", "title", "updated"):
            assert entry.findtext(f"{ATOM}{required}"), required
        assert (
            entry.find(f"{ATOM}link")
            .get("href", "")
            .startswith("http://console.test/status/incidents/")
        )
    assert feed.findtext(f"{ATOM}updated") == entries[0].findtext(f"{ATOM}updated")
    text = response.text
    for word in await internal_words(world, incident):
        assert word not in text, word


async def test_an_empty_feed_is_still_a_valid_feed(world: ConsoleWorld) -> None:
    feed = ET.fromstring((await world.browser().get("/status/history.atom")).content)
    assert feed.findall(f"{ATOM}entry") == []
    assert feed.findtext(f"{ATOM}updated")


async def test_an_unknown_public_incident_is_an_html_404(world: ConsoleWorld) -> None:
    response = await world.browser().get("/status/incidents/nosuchincident")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")


async def test_the_statuspage_json_is_still_served_beside_the_html(world: ConsoleWorld) -> None:
    incident = await world.alert()
    await publish(world, incident, FIRST)
    summary = (await world.browser().get("/status/api/v2/summary.json")).json()
    assert summary["incidents"][0]["incident_updates"][0]["body"] == FIRST
