"""Text that would break documents: whatever an IC pastes or an alert sends, the public Atom feed
stays well-formed XML and the status JSON keeps Statuspage's shape; long titles are shortened
where people read them while the incident keeps every word."""

from __future__ import annotations

import json
import weakref
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from incident_response.domain.context import Impact, PublicStatus, PublishRequest
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import StatusDraft
from incident_response.services.status_update_gate import InvalidDraft
from tests.browser.status_shapes import incidents_problems, summary_problems
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

ATOM = "{http://www.w3.org/2005/Atom}"
PASTED = "We are investigating.\u000b (pasted)\u0000 \u202eevil"
BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
SHOWN_TITLE_CHARS = 120  # the longest title the console shows whole
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff\u200e\u200f"
# arbitrary Unicode (no lone surrogates: JSON clients cannot send them as text), salted with
# the characters that break XML or disguise text
HOSTILE = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from(
            [*BIDI_CONTROLS, *INVISIBLE, "\r", "\n", "\t", "\x0b", "\x00", "\x1f", "\x85", "\uffff"]
        ),
    ),
    max_size=200,
)


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock, components="checkout=Checkout") as world:
        yield world


async def edited(world: ConsoleWorld, incident: Incident, **fields: Any) -> StatusDraft:
    gate, actor = world.container.gate, incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=actor)
    return await gate.edit(
        incident.id, draft.id, actor=actor, expected_version=draft.version, **fields
    )


async def approve(world: ConsoleWorld, incident: Incident, draft: StatusDraft) -> None:
    await world.container.gate.approve_and_publish(
        incident.id, draft.id, version=draft.version, actor=incident.ic or ""
    )


async def feed(world: ConsoleWorld) -> ET.Element:
    response = await world.browser().get("/status/history.atom")
    assert response.status_code == 200
    return ET.fromstring(response.content)  # raises on a document that is not well-formed


async def status_json(world: ConsoleWorld) -> dict[str, dict[str, Any]]:
    browser = world.browser()
    docs = {}
    for name in ("summary", "incidents"):
        response = await browser.get(f"/status/api/v2/{name}.json")
        assert response.status_code == 200, response.text
        docs[name] = json.loads(response.content)
    return docs


async def test_an_update_pasted_with_control_characters_publishes_and_the_feed_still_parses(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()

    draft = await edited(world, incident, body=PASTED)
    await approve(world, incident, draft)

    assert draft.body == "We are investigating. (pasted) evil"
    entries = (await feed(world)).findall(f"{ATOM}entry")
    assert [e.findtext(f"{ATOM}content") for e in entries] == [draft.body]
    docs = await status_json(world)
    assert docs["incidents"]["incidents"][0]["incident_updates"][0]["body"] == draft.body


async def test_a_public_name_with_a_line_break_and_bidi_controls_is_cleaned_not_refused(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()

    draft = await edited(
        world,
        incident,
        title="Partial outage:\r\n\u202eCheckout\u200b",
        components=["Check\u2066out"],
    )

    assert draft.title == "Partial outage: Checkout"
    assert draft.component_names == ("Checkout",)


async def test_text_stored_before_cleaning_cannot_break_the_feed_or_the_json(
    world: ConsoleWorld,
) -> None:
    """Defence in depth: a row written by an older version (or by hand) still renders."""
    await world.container.status_page.publish(
        PublishRequest(
            key="legacy:v1",
            incident_name="Legacy\x00 outage\x0b",
            body="Stored long ago.\x0b\x01\ufffe Still here.",
            status=PublicStatus.INVESTIGATING,
            impact=Impact.MINOR,
            components=("Checkout",),
        )
    )

    entry = (await feed(world)).find(f"{ATOM}entry")
    assert entry is not None
    assert entry.findtext(f"{ATOM}content") == "Stored long ago. Still here."
    assert entry.findtext(f"{ATOM}title") == "Legacy outage: Investigating"
    docs = await status_json(world)
    assert summary_problems(docs["summary"]) == []
    assert incidents_problems(docs["incidents"]) == []


async def test_a_lone_surrogate_in_an_edit_is_refused_and_changes_nothing(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    gate, actor = world.container.gate, incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=actor)

    with pytest.raises(InvalidDraft, match="not valid Unicode"):
        await gate.edit(
            incident.id, draft.id, body="half \ud83d a pair", actor=actor, expected_version=1
        )

    stored = (await world.container.store.get(incident.id)).draft(draft.id)  # type: ignore[union-attr]
    assert stored == draft


# the world's one incident the property test publishes on
HOSTILE_INCIDENT: weakref.WeakKeyDictionary[ConsoleWorld, Incident] = weakref.WeakKeyDictionary()


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=HOSTILE, title=HOSTILE)
async def test_whatever_is_approved_the_feed_parses_and_the_json_keeps_its_shape(
    world: ConsoleWorld, body: str, title: str
) -> None:
    """Every example publishes a new update on the same incident, so the documents checked hold
    every earlier example's text too."""
    incident = HOSTILE_INCIDENT.get(world)
    if incident is None:
        incident = HOSTILE_INCIDENT[world] = await world.alert()
    draft: StatusDraft | None = None
    refusal = ""
    try:
        draft = await edited(world, incident, body=body, title=title)
    except InvalidDraft as refused:
        refusal = str(refused)
    if draft is None:  # cleaned down to nothing, or too long: a clear refusal
        assert "empty" in refusal or "limit" in refusal, refusal
        event("refused")
    else:
        event("published")
        await approve(world, incident, draft)
        assert not any(c in draft.title for c in BIDI_CONTROLS + INVISIBLE + "\n\r\t")

    entries = (await feed(world)).findall(f"{ATOM}entry")
    docs = await status_json(world)
    assert summary_problems(docs["summary"]) == []
    assert incidents_problems(docs["incidents"]) == []
    if draft is not None:
        newest = docs["incidents"]["incidents"][0]
        assert newest["incident_updates"][0]["body"] == draft.body
        assert newest["name"] == draft.title
        assert entries[0].findtext(f"{ATOM}content") == draft.body


async def test_a_long_alert_title_is_shortened_where_it_is_shown_and_kept_whole(
    world: ConsoleWorld,
) -> None:
    title = "Checkout latency " + " ".join(f"pod-{n}" for n in range(60)) + " THE-END"
    incident = await world.alert(title=title)
    browser = await world.signed_in(incident.ic or "")

    listing = (await browser.get("/console")).text
    page = (await browser.get(f"/console/incidents/{incident.id}")).text
    api = await browser.get(
        f"/api/incidents/{incident.id}",
        headers={"Authorization": f"Bearer {world.token(incident.ic or '')}"},
    )

    assert incident.title == title
    assert api.json()["title"] == title
    for html in (listing, page):
        assert "THE-END" not in html
        assert title[: SHOWN_TITLE_CHARS - 20] in html
        assert "\u2026" in html
