"""`stage identified`: the public stage moves, audited, announced and in the topic; the next
draft starts at it, and publishing an update moves the stage to the one the IC approved."""

from __future__ import annotations

import pytest

from incident_response.domain.audit import AuditEventType
from incident_response.domain.context import Impact, PublicStatus
from incident_response.domain.incident import ChannelRef, IncidentStatus
from incident_response.services.status_update_gate import StaleDraftVersion
from tests.unit.commands.world import World


async def topic(world: World) -> str | None:
    incident = await world.incident()
    assert incident.channel is not None
    room = await world.chat.channel(incident.channel.id)
    assert room is not None
    return room.topic


async def test_stage_alone_says_where_it_stands(world: World) -> None:
    await world.open_incident()

    reply = await world.command("stage", actor="carol@example.com")

    assert reply.ok
    assert reply.text == "The stage is investigating."


async def test_a_mitigated_incident_reads_as_monitoring_until_someone_moves_it(
    world: World,
) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.MITIGATED, at=world.clock.now()))

    reply = await world.command("stage")

    assert reply.text == "The stage is monitoring (the alert has cleared: mitigated)."


async def test_stage_moves_audited_announced_and_in_the_topic(world: World) -> None:
    await world.open_incident()

    reply = await world.command("stage Identified", actor="bob@example.com")

    assert reply.ok, reply.text
    assert reply.text == "The incident is now at the identified stage (was investigating)."
    assert (await world.incident()).stage is PublicStatus.IDENTIFIED
    [record] = await world.records(AuditEventType.STAGE_CHANGED)
    assert record.data == {"from": "investigating", "to": "identified"}
    assert record.actor == "bob@example.com"
    assert (
        "Stage moved from investigating to identified by Bob Okafor. "
        "The next status update starts at identified."
    ) in await world.room_texts()
    assert await topic(world) == "P2 · checkout · IC: Alice Martin · status: identified"


async def test_the_stage_may_go_back_when_a_fix_does_not_hold(world: World) -> None:
    await world.open_incident()
    await world.command("stage monitoring")

    reply = await world.command("stage investigating")

    assert reply.ok, reply.text
    assert (await world.incident()).stage is PublicStatus.INVESTIGATING
    moves = [r.data for r in await world.records(AuditEventType.STAGE_CHANGED)]
    assert moves == [
        {"from": "investigating", "to": "monitoring"},
        {"from": "monitoring", "to": "investigating"},
    ]


async def test_resolved_is_reached_by_resolving_not_by_stage(world: World) -> None:
    await world.open_incident()
    before = await world.incident()

    reply = await world.command("stage resolved")

    assert not reply.ok
    assert "use `resolve`" in reply.text
    assert await world.incident() == before
    assert await world.records(AuditEventType.STAGE_CHANGED) == []


@pytest.mark.parametrize("typed", ["fixed", "identified now", "mitigated"])
async def test_an_unknown_stage_is_refused_and_changes_nothing(world: World, typed: str) -> None:
    await world.open_incident()
    before = await world.incident()
    texts = await world.room_texts()

    reply = await world.command(f"stage {typed}")

    assert not reply.ok
    assert "use one of investigating, identified, monitoring" in reply.text
    assert await world.incident() == before
    assert await world.room_texts() == texts


async def test_the_same_stage_again_changes_nothing(world: World) -> None:
    await world.open_incident()
    await world.command("stage identified")
    before = await world.incident()

    reply = await world.command("stage identified")

    assert reply.ok
    assert reply.text == "The incident is already at the identified stage: nothing changed."
    assert (await world.incident()).version == before.version
    assert len(await world.records(AuditEventType.STAGE_CHANGED)) == 1


async def test_a_resolved_incident_keeps_its_stage(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("stage monitoring")

    assert not reply.ok
    assert "is resolved" in reply.text


async def test_a_chat_failure_never_blocks_the_move(world: World) -> None:
    incident = await world.open_incident()
    gone = ChannelRef(id="CGONE", name="inc-gone", url="http://incident-response.test/gone")
    await world.store.save(incident.update(channel=gone))

    reply = await world.command("stage identified")

    assert reply.ok
    assert (await world.incident()).stage is PublicStatus.IDENTIFIED
    assert "updating the room's topic failed (NotFound)" in reply.text


async def test_a_new_draft_starts_at_the_incidents_stage(world: World) -> None:
    await world.open_incident()
    await world.command("stage identified")

    draft = await world.gate.create_draft("inc-0001", actor="alice@example.com")

    assert draft.stage is PublicStatus.IDENTIFIED


async def test_publishing_binds_the_stage_and_impact_the_ic_chose_and_moves_the_stage(
    world: World,
) -> None:
    """The IC changes stage and impact on the approval screen (an edit is a new version);
    approval binds that version, the page gets exactly it, and the incident's stage follows."""
    await world.open_incident()
    draft = await world.gate.create_draft("inc-0001", actor="alice@example.com")
    assert draft.stage is PublicStatus.INVESTIGATING
    chosen = await world.gate.edit(
        "inc-0001",
        draft.id,
        stage="monitoring",
        impact="major",
        actor="alice@example.com",
        expected_version=1,
    )
    with pytest.raises(StaleDraftVersion):  # the version read before the choice cannot publish
        await world.gate.approve_and_publish(
            "inc-0001", draft.id, version=1, actor="alice@example.com"
        )

    await world.gate.approve_and_publish(
        "inc-0001", draft.id, version=chosen.version, actor="alice@example.com"
    )

    [published] = await world.records(AuditEventType.STATUSPAGE_PUBLISHED)
    assert (published.data["stage"], published.data["impact"]) == ("monitoring", "major")
    saved = await world.incident()
    assert saved.stage is PublicStatus.MONITORING
    assert saved.drafts[0].impact is Impact.MAJOR
    [moved] = await world.records(AuditEventType.STAGE_CHANGED)
    assert moved.data["from"] == "investigating"
    assert moved.data["to"] == "monitoring"
    assert moved.data["by"] == "publish"
    assert moved.actor == "alice@example.com"
    assert await topic(world) == "P2 · checkout · IC: Alice Martin · status: monitoring"


async def test_publishing_at_the_current_stage_records_no_move(world: World) -> None:
    await world.open_incident()
    await world.command("stage identified")
    draft = await world.gate.create_draft("inc-0001", actor="alice@example.com")

    await world.gate.approve_and_publish(
        "inc-0001", draft.id, version=draft.version, actor="alice@example.com"
    )

    assert len(await world.records(AuditEventType.STAGE_CHANGED)) == 1  # the command's only
    assert (await world.incident()).stage is PublicStatus.IDENTIFIED
