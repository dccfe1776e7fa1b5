"""`ic @person`: handover to someone in the directory, audited and announced."""

from __future__ import annotations

import pytest

from incident_response.adapters.console.chat import derived_user_id
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import ChannelRef, IncidentStatus
from tests.unit.commands.world import World

A = AuditEventType


@pytest.mark.parametrize(
    "named",
    [
        "carol@example.com",
        "@carol@example.com",
        "Carol Nguyen",
        "carol",
        "CAROL",
    ],
)
async def test_ic_hands_over_to_a_person_named_any_way(world: World, named: str) -> None:
    await world.open_incident()

    reply = await world.command(f"ic {named}")

    assert reply.ok, reply.text
    assert (await world.incident()).ic == "carol@example.com"


async def test_ic_accepts_a_chat_id(world: World) -> None:
    """Slack's `<@UBOB2|bob>` reaches commands as `@UBOB2` (see tests/unit/slack)."""
    await world.open_incident()

    reply = await world.command("ic @UBOB2")

    assert reply.ok, reply.text
    assert (await world.incident()).ic == "bob@example.com"


async def test_handover_is_audited_announced_and_brings_the_ic_into_the_room(
    world: World,
) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    reply = await world.command("ic carol@example.com", actor="alice@example.com")

    assert reply.text == "Carol Nguyen (carol@example.com) is now the incident commander."
    saved = await world.incident()
    assert saved.ic == "carol@example.com"
    carol = next(r for r in saved.responders if r.email == "carol@example.com")
    assert carol.role == "ic"
    [record] = await world.records(A.IC_ASSIGNED)
    assert record.actor == "alice@example.com"
    assert record.data["ic"] == "carol@example.com"
    assert record.data["previous"] == "alice@example.com"
    texts = await world.room_texts()
    # the console chat mentions the new IC by name (Slack would notify them: see tests/unit/slack)
    assert (
        "Carol Nguyen (carol@example.com) is now the incident commander, "
        "taking over from alice@example.com. Status updates need their approval."
    ) in texts
    assert derived_user_id("carol@example.com") in await world.chat.members(incident.channel.id)


async def test_handover_shows_the_new_ic_in_the_room_topic(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    await world.command("ic carol")
    room = await world.chat.channel(incident.channel.id)
    assert room is not None
    assert room.topic == "P2 · checkout · IC: Carol Nguyen · status: investigating"

    await world.command("ic Bob Okafor", actor="carol@example.com")
    room = await world.chat.channel(incident.channel.id)
    assert room is not None
    assert room.topic == "P2 · checkout · IC: Bob Okafor · status: investigating"


async def test_a_room_that_cannot_be_told_still_gets_the_handover(world: World) -> None:
    incident = await world.open_incident()
    gone = ChannelRef(id="CGONE", name="inc-gone", url="http://incident-response.test/gone")
    await world.store.save(incident.update(channel=gone))

    reply = await world.command("ic carol")

    assert reply.ok
    assert (await world.incident()).ic == "carol@example.com"
    assert "updating the room's topic failed (NotFound)" in reply.text
    assert "announcing it in the room failed (NotFound)" in reply.text


async def test_handover_to_the_current_ic_changes_nothing(world: World) -> None:
    incident = await world.open_incident()

    reply = await world.command("ic Alice Martin")

    assert reply.ok
    assert "already the incident commander" in reply.text
    assert (await world.incident()).version == incident.version
    assert await world.records(A.IC_ASSIGNED) == []


@pytest.mark.parametrize(
    ("named", "problem"),
    [
        ("mallory@example.com", "mallory@example.com is not in the directory"),
        ("Mallory", "nobody called 'Mallory' is in the directory"),
        ("@UNOBODY", "nobody in the directory has the chat id UNOBODY"),
        ("erin", "'erin' could be Erin Silva (erin@example.com), Erin Brown"),
    ],
)
async def test_handover_to_someone_not_in_the_directory_is_refused(
    world: World, named: str, problem: str
) -> None:
    incident = await world.open_incident()

    reply = await world.command(f"ic {named}")

    assert not reply.ok
    assert problem in reply.text
    saved = await world.incident()
    assert saved.ic == "alice@example.com"
    assert saved.version == incident.version
    assert await world.records(A.IC_ASSIGNED) == []


async def test_ic_alone_names_the_commander(world: World) -> None:
    await world.open_incident(ic=None)

    reply = await world.command("ic")

    assert reply.ok
    assert reply.text == "The incident commander is not assigned yet."


async def test_handover_on_a_resolved_incident_is_refused(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("ic bob@example.com")

    assert not reply.ok
    assert (await world.incident()).ic == "alice@example.com"


async def test_handover_without_a_room_says_it_could_not_announce(world: World) -> None:
    await world.open_incident(room=False)

    reply = await world.command("ic bob@example.com")

    assert (await world.incident()).ic == "bob@example.com"
    assert "no war room to announce it in" in reply.text


# -- who may hand the role over -----------------------------------------------------------------


async def test_someone_not_on_the_incident_cannot_make_themselves_ic(world: World) -> None:
    incident = await world.open_incident()

    reply = await world.command("ic carol@example.com", actor="carol@example.com")

    assert not reply.ok
    assert reply.data["not_permitted"]
    assert reply.text == (
        "`ic` was not run: carol@example.com may not hand over the incident commander role: "
        "only the incident commander (alice@example.com) or an approver can."
    )
    assert (await world.incident()).version == incident.version
    assert await world.records(A.IC_ASSIGNED) == []


async def test_a_responder_cannot_hand_the_role_over_while_there_is_an_ic(world: World) -> None:
    await world.open_incident()

    reply = await world.command("ic bob@example.com", actor="bob@example.com")

    assert not reply.ok
    assert (await world.incident()).ic == "alice@example.com"


async def test_with_no_ic_a_responder_may_take_the_role_for_themselves(world: World) -> None:
    await world.open_incident(ic=None, responders=("bob@example.com", "dan@example.com"))

    handed = await world.command("ic carol@example.com", actor="bob@example.com")
    stranger = await world.command("ic carol@example.com", actor="carol@example.com")
    taken = await world.command("ic bob@example.com", actor="bob@example.com")

    assert not handed.ok
    assert "a responder may take the role only for themselves" in handed.text
    assert not stranger.ok
    assert "while there is none, a responder may take the role themselves" in stranger.text
    assert taken.ok, taken.text
    assert (await world.incident()).ic == "bob@example.com"
    [record] = await world.records(A.IC_ASSIGNED)
    assert (record.actor, record.data["ic"]) == ("bob@example.com", "bob@example.com")


async def test_an_approver_may_hand_the_role_to_anyone(world: World) -> None:
    await world.open_incident()
    roster = world.data_dir / "roster.yaml"
    roster.write_text(roster.read_text() + "approvers: [erin@example.com]\n")

    reply = await world.command("ic Carol Nguyen", actor="erin@example.com")

    assert reply.ok, reply.text
    assert (await world.incident()).ic == "carol@example.com"
