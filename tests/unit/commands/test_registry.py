"""The CommandRegistry: parsing, dispatch, help, auditing every invocation."""

from __future__ import annotations

import pytest

from incident_response.commands.context import CommandCall, CommandReply, CommandServices
from incident_response.commands.registry import (
    COMMANDS,
    OUTSIDE_INCIDENTS,
    CommandRegistry,
    parse,
)
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from tests.unit.commands.world import World

A = AuditEventType


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", ("help", "")),
        ("   ", ("help", "")),
        ("STATUS", ("status", "")),
        ("checklist done 2", ("checklist", "done 2")),
        ("/incident-response ic  Alice Martin ", ("ic", "Alice Martin")),
    ],
)
def test_parse_splits_the_command_from_its_arguments(text: str, expected: tuple[str, str]) -> None:
    assert parse(text) == expected


async def test_unknown_command_answers_with_help_and_is_audited(world: World) -> None:
    await world.open_incident()

    reply = await world.command("frobnicate now")

    assert not reply.ok
    assert "Unknown command `frobnicate`" in reply.text
    for name in COMMANDS:
        assert f"  {name}" in reply.text
    received = await world.records(A.SLASH_COMMAND_RECEIVED)
    assert [r.data["command"] for r in received] == ["frobnicate"]
    assert received[0].data["args"] == "now"
    assert received[0].actor == "alice@example.com"


async def test_incident_command_in_a_channel_without_incident_answers_with_help(
    world: World,
) -> None:
    await world.open_incident()

    reply = await world.command("status", incident_id=None, channel_id="C-random")

    assert not reply.ok
    assert "works inside an incident" in reply.text
    assert "resolve" in reply.text  # the help lists the commands
    assert await world.records(A.SLASH_COMMAND_RECEIVED) == []
    outside = await world.records(A.SLASH_COMMAND_RECEIVED, OUTSIDE_INCIDENTS)
    assert [r.data["channel_id"] for r in outside] == ["C-random"]
    assert (await world.incident()).drafts == ()


async def test_command_for_an_unknown_incident_id_says_so(world: World) -> None:
    reply = await world.command("checklist", incident_id="inc-missing")

    assert not reply.ok
    assert "there is no incident inc-missing" in reply.text


async def test_commands_typed_in_the_war_room_find_its_incident(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    reply = await world.command("ic", incident_id=None, channel_id=incident.channel.id)

    assert reply.ok
    assert "alice@example.com" in reply.text
    assert len(await world.records(A.SLASH_COMMAND_RECEIVED)) == 1


async def test_help_works_anywhere(world: World) -> None:
    reply = await world.command("help", incident_id=None)
    empty = await world.command("", incident_id=None)

    assert reply.ok
    assert empty.ok
    assert reply.text == empty.text
    assert "checklist [done|undo N]" in reply.text


async def test_every_invocation_is_audited_once(world: World) -> None:
    await world.open_incident()

    await world.command("help")
    await world.command("help")
    await world.command("help", invocation_id="slack-trigger-1")
    await world.command("help", invocation_id="slack-trigger-1")  # a retried delivery

    received = await world.records(A.SLASH_COMMAND_RECEIVED)
    assert len(received) == 3
    assert len({r.key for r in received}) == 3


async def test_reply_data_names_the_command(world: World) -> None:
    await world.open_incident()

    reply = await world.command("timeline 1")

    assert reply.data["command"] == "timeline"


class Broken:
    name = "broken"
    usage = "broken"
    summary = "Always fails"
    needs_incident = False

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        raise RuntimeError("boom")


async def test_a_failing_command_says_it_failed(world: World) -> None:
    registry = CommandRegistry(services=world.services, commands={"broken": Broken})

    reply = await registry.handle("broken", await world.context(incident_id=None))

    assert not reply.ok
    assert "internal error (RuntimeError)" in reply.text


def test_registering_a_command_under_another_name_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="registered as 'other'"):
        CommandRegistry(services=world.services, commands={"other": Broken})
