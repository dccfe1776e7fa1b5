"""`role comms @person`: a role beside the IC, held by someone in the directory, who becomes a
responder; audited, announced and in the room's topic."""

from __future__ import annotations

import pytest

from incident_response.adapters.console.chat import derived_user_id
from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentRole, IncidentStatus
from tests.unit.commands.test_checklist_board import pin_checklist, pinned_text
from tests.unit.commands.world import World


async def topic(world: World) -> str | None:
    incident = await world.incident()
    assert incident.channel is not None
    room = await world.chat.channel(incident.channel.id)
    assert room is not None
    return room.topic


@pytest.mark.parametrize(
    ("typed", "role"),
    [
        ("comms carol@example.com", IncidentRole.COMMS),
        ("communications Carol Nguyen", IncidentRole.COMMS),
        ("scribe @carol@example.com", IncidentRole.SCRIBE),
        ("OPS carol", IncidentRole.OPS),
    ],
)
async def test_role_is_given_to_a_person_named_any_way(
    world: World, typed: str, role: IncidentRole
) -> None:
    await world.open_incident()

    reply = await world.command(f"role {typed}")

    assert reply.ok, reply.text
    assert (await world.incident()).roles == {role: "carol@example.com"}


async def test_the_holder_becomes_a_responder_invited_to_the_room(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    reply = await world.command("role comms carol@example.com")

    assert (
        reply.text
        == "Carol Nguyen (carol@example.com) is now the communications lead and a responder."
    )
    saved = await world.incident()
    carol = next(r for r in saved.responders if r.email == "carol@example.com")
    assert carol.role == "comms"
    assert derived_user_id("carol@example.com") in await world.chat.members(incident.channel.id)
    [assigned] = await world.records(AuditEventType.ROLE_ASSIGNED)
    assert assigned.data == {"role": "comms", "email": "carol@example.com", "previous": None}
    assert assigned.actor == "alice@example.com"
    [invited] = await world.records(AuditEventType.RESPONDER_INVITED)
    assert invited.data["by"] == "role"
    assert (
        "Carol Nguyen (carol@example.com) is now the communications lead, named by Alice Martin."
        in await world.room_texts()
    )
    assert await topic(world) == (
        "P2 · checkout · IC: Alice Martin · status: investigating · comms: Carol Nguyen"
    )


async def test_a_role_holder_may_work_on_the_incident(world: World) -> None:
    """Carol is an outsider until she holds a role; then the policy counts her a responder."""
    await world.open_incident()
    refused = await world.command("note before the role", actor="carol@example.com")
    assert refused.data.get("not_permitted")

    await world.command("role scribe carol")
    reply = await world.command("note the scribe writes", actor="carol@example.com")

    assert reply.ok, reply.text


async def test_handing_a_role_on_records_the_previous_holder(world: World) -> None:
    await world.open_incident()
    await world.command("role comms carol")

    reply = await world.command("role comms bob@example.com")

    assert reply.ok, reply.text
    # Bob was a responder already: he is not added twice
    assert reply.text == "Bob Okafor (bob@example.com) is now the communications lead."
    saved = await world.incident()
    assert saved.roles == {IncidentRole.COMMS: "bob@example.com"}
    assert [r.email for r in saved.responders].count("bob@example.com") == 1
    last = (await world.records(AuditEventType.ROLE_ASSIGNED))[-1]
    assert last.data["previous"] == "carol@example.com"
    assert any("taking over from carol@example.com" in t for t in await world.room_texts())


async def test_role_alone_lists_the_roles(world: World) -> None:
    await world.open_incident()
    await world.command("role ops bob")

    reply = await world.command("role", actor="carol@example.com")

    assert reply.ok
    assert reply.text == (
        "Incident commander: Alice Martin (alice@example.com)\n"
        "Communications lead: nobody\n"
        "Scribe: nobody\n"
        "Ops lead: Bob Okafor (bob@example.com)"
    )


async def test_the_same_holder_again_changes_nothing(world: World) -> None:
    await world.open_incident()
    await world.command("role comms carol")
    before = await world.incident()

    reply = await world.command("role comms carol@example.com")

    assert reply.ok
    assert "already the communications lead" in reply.text
    assert (await world.incident()).version == before.version


@pytest.mark.parametrize(
    ("typed", "said"),
    [
        (
            "comms mallory@example.com",
            "Nobody was made communications lead: mallory@example.com is not in the directory.",
        ),
        ("comms Erin", "Nobody was made communications lead: 'Erin' could be"),
        ("comms", "Name the communications lead."),
        ("chef carol", "unknown role 'chef': use one of comms, scribe, ops"),
    ],
)
async def test_bad_role_input_is_refused_and_changes_nothing(
    world: World, typed: str, said: str
) -> None:
    await world.open_incident()
    before = await world.incident()
    texts = await world.room_texts()

    reply = await world.command(f"role {typed}")

    assert not reply.ok
    assert said in reply.text
    assert await world.incident() == before
    assert await world.records(AuditEventType.ROLE_ASSIGNED) == []
    assert await world.room_texts() == texts


async def test_a_resolved_incident_takes_no_new_roles(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("role comms carol")

    assert not reply.ok
    assert "is resolved" in reply.text
    assert (await world.incident()).roles == {}


async def test_naming_the_comms_lead_ticks_its_checklist_item(world: World) -> None:
    incident = await world.open_incident(severity=Severity.P1)
    message_id = await pin_checklist(world)
    [number] = [n for n, i in enumerate(incident.checklist, 1) if i.id == "comms"]

    reply = await world.command("role comms carol@example.com")

    assert reply.ok, reply.text
    item = (await world.incident()).checklist[number - 1]
    assert (item.done, item.done_by) == (True, "system")
    [record] = await world.records(AuditEventType.CHECKLIST_ITEM_UPDATED)
    assert (record.actor, record.data["item_id"]) == ("system", "comms")
    assert record.data["reason"] == "a communications lead was named"
    assert f"[x] {item.text}" in await pinned_text(world, message_id)

    # a new comms lead: the item is done already, nothing more is recorded
    await world.command("role comms dan@example.com")
    assert len(await world.records(AuditEventType.CHECKLIST_ITEM_UPDATED)) == 1


async def test_a_comms_item_someone_ticked_or_a_list_without_one_is_left_alone(
    world: World,
) -> None:
    incident = await world.open_incident(severity=Severity.P1)
    [number] = [n for n, i in enumerate(incident.checklist, 1) if i.id == "comms"]
    await world.command(f"checklist done {number}", actor="bob@example.com")

    await world.command("role comms carol@example.com")
    await world.command("role scribe dan@example.com")

    assert (await world.incident()).checklist[number - 1].done_by == "bob@example.com"
    assert len(await world.records(AuditEventType.CHECKLIST_ITEM_UPDATED)) == 1


async def test_other_roles_and_a_p2_list_tick_nothing(world: World) -> None:
    await world.open_incident(severity=Severity.P2)  # no "comms" item on a P2 list

    await world.command("role comms carol@example.com")
    await world.command("role ops dan@example.com")

    assert not any(i.done for i in (await world.incident()).checklist)
    assert await world.records(AuditEventType.CHECKLIST_ITEM_UPDATED) == []
