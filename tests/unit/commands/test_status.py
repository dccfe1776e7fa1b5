"""`status`: the summary people read, and the draft it asks the gate for."""

from __future__ import annotations

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.status_update import DraftStatus
from tests.unit.commands.world import World

A = AuditEventType


async def test_status_summarises_the_incident_and_asks_for_a_draft(world: World) -> None:
    await world.open_incident()
    await world.command("checklist done 1")
    world.clock.advance(minutes=65)

    reply = await world.command("status", actor="bob@example.com")

    assert reply.ok
    assert "P2 Checkout error rate above 5% (inc-0001)" in reply.text
    assert "Status: assembled" in reply.text
    assert "IC: alice@example.com" in reply.text
    assert "Age: 1h 05m (opened 2026-11-26 09:00 UTC)" in reply.text
    assert "Last published update: none yet" in reply.text
    assert "  1. " not in reply.text  # ticked, so not open
    assert "  2. Assess customer impact and confirm the severity" in reply.text
    incident = await world.incident()
    [draft] = incident.drafts
    assert draft.status is DraftStatus.DRAFT
    assert draft.created_by == "bob@example.com"
    assert f"Draft {draft.id} (version 1)" in reply.text
    assert draft.body.splitlines()[0] in reply.text
    assert reply.data["draft"]["id"] == draft.id
    assert reply.data["open_checklist"] == list(range(2, len(incident.checklist) + 1))
    assert (await world.status_page.incidents())["incidents"] == []


async def test_asking_for_the_status_again_reuses_the_unchanged_waiting_draft(
    world: World,
) -> None:
    await world.open_incident()
    first = await world.command("status", actor="bob@example.com")
    again = await world.command("status", actor="alice@example.com")

    [draft] = (await world.incident()).drafts
    assert first.data["draft"]["id"] == again.data["draft"]["id"] == draft.id
    assert f"Draft {draft.id} (version 1)" in again.text
    assert len(await world.records(A.STATUSPAGE_DRAFT_CREATED)) == 1


async def test_status_shows_the_last_published_update(world: World) -> None:
    await world.open_incident()
    first = await world.command("draft")
    draft_id = first.data["draft"]["id"]
    await world.gate.approve_and_publish("inc-0001", draft_id, version=1, actor="alice@example.com")
    world.clock.advance(minutes=3)

    reply = await world.command("status")

    published = (await world.incident()).draft(draft_id)
    assert published is not None
    assert published.status is DraftStatus.PUBLISHED
    assert f"Last published update (2026-11-26 09:00 UTC): {published.body}" in reply.text
    assert reply.data["last_published"]["id"] == draft_id


async def test_status_of_a_resolved_incident_drafts_nothing(world: World) -> None:
    incident = await world.open_incident()
    world.clock.advance(minutes=30)
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("status")

    assert reply.ok
    assert "Status: resolved" in reply.text
    assert "Resolved 2026-11-26 09:30 UTC, after 30m" in reply.text
    assert (await world.incident()).drafts == ()
    assert "draft" not in reply.data
