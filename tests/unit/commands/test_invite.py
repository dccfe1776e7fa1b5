"""`invite @person`: into the room, onto the responders, into the audit log."""

from __future__ import annotations

from incident_response.adapters.console.chat import derived_user_id
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from tests.unit.commands.world import World

A = AuditEventType


async def test_invite_adds_a_responder_to_the_room(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    reply = await world.command("invite Dan Kowalski", actor="bob@example.com")

    assert reply.ok
    assert "Dan Kowalski (dan@example.com) is invited" in reply.text
    assert derived_user_id("dan@example.com") in await world.chat.members(incident.channel.id)
    dan = next(r for r in (await world.incident()).responders if r.email == "dan@example.com")
    assert dan.role == "invited"
    assert dan.chat_id == derived_user_id("dan@example.com")
    [record] = await world.records(A.RESPONDER_INVITED)
    assert record.actor == "bob@example.com"
    assert record.data["email"] == "dan@example.com"


async def test_invite_by_chat_id(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    reply = await world.command("invite @UBOB2")

    assert reply.ok
    assert "UBOB2" in await world.chat.members(incident.channel.id)


async def test_inviting_twice_records_one_invitation(world: World) -> None:
    await world.open_incident()

    await world.command("invite dan@example.com")
    again = await world.command("invite dan@example.com")

    assert again.ok
    assert "already a responder" in again.text
    assert len(await world.records(A.RESPONDER_INVITED)) == 1
    emails = [r.email for r in (await world.incident()).responders]
    assert emails.count("dan@example.com") == 1


async def test_inviting_an_unknown_person_is_refused(world: World) -> None:
    incident = await world.open_incident()

    reply = await world.command("invite mallory@example.com")
    empty = await world.command("invite")

    assert not reply.ok
    assert "mallory@example.com is not in the directory" in reply.text
    assert not empty.ok
    assert (await world.incident()).responders == incident.responders


async def test_inviting_without_a_room_is_refused(world: World) -> None:
    await world.open_incident(room=False)

    reply = await world.command("invite dan@example.com")

    assert not reply.ok
    assert "no war room" in reply.text
    assert await world.records(A.RESPONDER_INVITED) == []


async def test_inviting_into_a_resolved_incident_is_refused(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("invite dan@example.com")

    assert not reply.ok
    assert "is resolved" in reply.text
