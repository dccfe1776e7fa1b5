"""`draft`: a status update draft for the IC, never published by asking for it."""

from __future__ import annotations

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.status_update import DraftKind, DraftStatus
from tests.unit.commands.world import World


async def test_draft_replies_with_the_draft_id_version_and_body(world: World) -> None:
    await world.open_incident()

    reply = await world.command("draft", actor="bob@example.com")

    assert reply.ok
    [draft] = (await world.incident()).drafts
    assert draft.kind is DraftKind.UPDATE
    assert draft.status is DraftStatus.DRAFT
    assert draft.created_by == "bob@example.com"
    assert reply.data["draft"] == {
        "id": draft.id,
        "version": 1,
        "kind": "update",
        "status": "draft",
        "body": draft.body,
        "title": draft.title,
        "stage": "investigating",
        "impact": draft.impact.value,
        "components": list(draft.component_names),
    }
    assert f"Draft {draft.id} (version 1)" in reply.text
    assert f"Public name: {draft.title}" in reply.text
    for line in draft.body.splitlines():
        assert f"> {line}" in reply.text
    created = await world.records(AuditEventType.STATUSPAGE_DRAFT_CREATED)
    assert [r.data["draft_id"] for r in created] == [draft.id]
    assert (await world.status_page.incidents())["incidents"] == []


async def test_draft_on_a_resolved_incident_is_refused(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("draft")

    assert not reply.ok
    assert "is resolved" in reply.text
    assert (await world.incident()).drafts == ()
