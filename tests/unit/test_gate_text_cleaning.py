"""The gate cleans the text it is handed by the drafter and by people, like any other text; room
messages show a long incident title shortened."""

from __future__ import annotations

from incident_response.adapters.embedded.db import Database
from incident_response.services.war_room_messages import context
from tests.support.clock import ManualClock
from tests.unit.test_status_update_gate import IC, INCIDENT_ID, an_incident, build_world

PASTED = "We are investigating.\u000b (pasted)\u0000 \u202eevil\r\nNext update soon."


async def test_the_drafters_text_is_cleaned_before_it_becomes_a_draft(
    db: Database, clock: ManualClock
) -> None:
    world = await build_world(db, clock)
    world.drafter.text = PASTED

    draft = await world.gate.create_draft(INCIDENT_ID, actor=IC)

    assert draft.body == "We are investigating. (pasted) evil\nNext update soon."


async def test_a_rejection_reason_is_cleaned_too(db: Database, clock: ManualClock) -> None:
    world = await build_world(db, clock)
    draft = await world.gate.create_draft(INCIDENT_ID, actor=IC)

    rejected = await world.gate.reject(INCIDENT_ID, draft.id, actor=IC, reason=" wrong\x0b\u202e ")

    assert rejected.rejected_reason == "wrong"


def test_the_room_brief_shows_a_long_title_shortened(clock: ManualClock) -> None:
    title = "Checkout latency " + " ".join(f"pod-{n}" for n in range(60)) + " THE-END"
    incident = an_incident(clock, title=title)

    brief = context(incident, {"ic": IC, "responders": []}, None, "not taken")

    assert "THE-END" not in brief.text
    assert "THE-END" not in brief.sections[0]
    assert title[:100] in brief.sections[0]
    assert "\u2026" in brief.text
