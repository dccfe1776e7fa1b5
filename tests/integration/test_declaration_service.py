"""Declaring an incident by hand, at the service every surface calls, on a real Container: the
declared incident goes through the same queue and WarRoomAssembler as an alert's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.commands.context import CommandContext
from incident_response.commands.registry import OUTSIDE_INCIDENTS
from incident_response.domain.audit import AuditEventType
from incident_response.domain.declaration import Declaration, InvalidDeclaration
from incident_response.domain.incident import Incident, IncidentStatus, declared_incident_id
from incident_response.services.audit_verification import verify_audit_trail
from incident_response.services.authority import NotPermitted
from incident_response.upkeep import DECLARED_RELAY_AFTER
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

SUMMARY = "Checkout latency doubled at 09:10 UTC; no deploy since yesterday."


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


async def stored(world: ConsoleWorld, incident_id: str) -> Incident:
    found = await world.container.store.get(incident_id)
    assert found is not None
    return found


async def nothing_stored(world: ConsoleWorld) -> None:
    assert await world.container.store.recent() == []
    assert await world.container.queue.receive(max_messages=10) == []


async def test_a_declared_incident_is_assembled_like_an_alerted_one(world: ConsoleWorld) -> None:
    c = world.container
    declared = await c.declarations.declare(
        declared_by="dan@example.com",
        title="Checkout is slow for EU customers",
        severity="P1",
        service="checkout",
        summary=SUMMARY,
    )
    assert declared.new
    assert declared.incident.status is IncidentStatus.ALERT_RECEIVED  # the processor assembles
    await world.process()
    await c.assembler.settle()
    incident = await stored(world, declared.incident.id)

    assert incident.status is IncidentStatus.ASSEMBLED
    assert incident.source.value == "manual"
    assert incident.ic == "dan@example.com"  # the declarer, by default
    roles = {r.email: r.role for r in incident.responders}
    assert roles["dan@example.com"] == "ic"
    # who is on call for checkout (the payments rotation) is paged in as for an alert
    assert {"primary", "secondary"} <= set(roles.values())
    assert incident.checklist, "the severity's checklist is posted"
    assert incident.channel is not None
    members = {
        await c.console_chat.user_email(m)
        for m in await c.console_chat.members(incident.channel.id)
    }
    assert "dan@example.com" in members
    brief = next(
        m
        for m in await c.console_chat.messages(incident.channel.id)
        if SUMMARY in "\n".join(m.sections)
    )
    assert "Declared by dan@example.com" in "\n".join(brief.sections)
    assert await c.console_chat.pins(incident.channel.id), "the checklist is pinned"
    assert await c.nudges.reminder(incident.id) is not None, "status update reminders run"

    records = await c.audit.records(incident.id)
    [declared_record] = [r for r in records if r.type is AuditEventType.INCIDENT_DECLARED]
    assert declared_record.actor == "dan@example.com"
    assert declared_record.data["by"] == "dan@example.com"
    assert declared_record.data["severity"] == "P1"
    assert declared_record.data["service"] == "checkout"
    assert any(r.type is AuditEventType.WAR_ROOM_ASSEMBLED for r in records)
    # `incident-response audit verify`: a declared chain starts with its declaration
    trail = await verify_audit_trail(
        store=c.store, audit=c.audit, not_incidents={OUTSIDE_INCIDENTS}
    )
    assert trail.ok, trail.breaks


async def test_the_declarer_may_name_another_ic(world: ConsoleWorld) -> None:
    c = world.container
    declared = await c.declarations.declare(
        declared_by="dan@example.com",
        title="Payments API errors",
        severity="P2",
        service="api",
        ic="Carol@Example.com",
    )
    await world.process()
    incident = await stored(world, declared.incident.id)
    assert incident.status is IncidentStatus.ASSEMBLED
    assert incident.ic == "carol@example.com"  # the roster's spelling
    roles = {r.email: r.role for r in incident.responders}
    assert roles["carol@example.com"] == "ic"
    assert roles["dan@example.com"] == "declarer"
    [assigned] = await c.audit.find(incident.id, AuditEventType.IC_ASSIGNED)
    assert assigned.actor == "dan@example.com"
    assert assigned.data == {
        "ic": "carol@example.com",
        "because": "chosen by dan@example.com, who declared the incident",
    }


async def test_someone_not_in_the_roster_may_not_declare(world: ConsoleWorld) -> None:
    with pytest.raises(NotPermitted) as refused:
        await world.container.declarations.declare(
            declared_by="mallory@example.com", title="Everything is down", severity="P1"
        )
    assert "mallory@example.com is not in the roster" in str(refused.value)
    await nothing_stored(world)


@pytest.mark.parametrize(
    ("fields", "field", "says"),
    [
        ({"title": "  ", "severity": "P1"}, "title", "the title is empty"),
        ({"title": "Checkout down", "severity": "sev0"}, "severity", "not a severity"),
        (
            {"title": "Checkout down", "severity": "P1", "ic": "nobody@example.com"},
            "ic",
            "nobody@example.com is not in the roster",
        ),
    ],
)
async def test_bad_input_is_refused_and_changes_nothing(
    world: ConsoleWorld, fields: dict[str, str], field: str, says: str
) -> None:
    with pytest.raises(InvalidDeclaration) as refused:
        await world.container.declarations.declare(declared_by="dan@example.com", **fields)
    assert says in refused.value.problems[field]
    await nothing_stored(world)
    assert await world.container.audit.incident_ids() == []


async def test_a_retried_declaration_with_its_key_opens_one_incident(world: ConsoleWorld) -> None:
    c = world.container
    ask = {"declared_by": "dan@example.com", "title": "Checkout down", "severity": "P1"}
    first = await c.declarations.declare(**ask, key="retry-1")
    again = await c.declarations.declare(**ask, key="retry-1")
    assert first.new
    assert not again.new
    assert again.incident.id == first.incident.id
    await world.process()
    assert [i.id for i in await c.store.recent()] == [first.incident.id]
    assert len(await c.audit.find(first.incident.id, AuditEventType.INCIDENT_DECLARED)) == 1


async def test_a_declaration_stored_before_a_crash_is_queued_again_by_the_upkeep(
    world: ConsoleWorld, clock: ManualClock
) -> None:
    """The process died between storing the incident and queueing it: the upkeep finds the
    incident still waiting, writes its audit record and queues it; the room is assembled."""
    c = world.container
    dan = await c.directory.person("dan@example.com")
    assert dan is not None
    lost = Incident.declare(
        Declaration.parse(title="Checkout down", severity="P1", service="checkout"),
        incident_id=declared_incident_id(dan.email, "crashed"),
        declared_by=dan,
        ic=dan,
        now=clock.now(),
    )
    await c.store.create(lost)
    assert await c.declarations.relay_waiting(older_than=DECLARED_RELAY_AFTER) == 0  # too soon
    clock.advance(DECLARED_RELAY_AFTER.total_seconds() + 1)
    assert await c.declarations.relay_waiting(older_than=DECLARED_RELAY_AFTER) == 1
    await world.process()
    incident = await stored(world, lost.id)
    assert incident.status is IncidentStatus.ASSEMBLED
    assert await c.audit.find(lost.id, AuditEventType.INCIDENT_DECLARED)
    assert await c.declarations.relay_waiting(older_than=DECLARED_RELAY_AFTER) == 0


async def test_the_typed_command_declares_through_the_same_service(world: ConsoleWorld) -> None:
    """`declare` typed in the console's command box or sent to the API's commands endpoint."""
    c = world.container
    dan = await c.directory.person("dan@example.com")
    assert dan is not None
    context = CommandContext(actor=dan, surface="api", invocation_id="typed-1")
    reply = await c.commands.handle("declare P1 checkout: Checkout is down", context)
    assert reply.ok, reply.text
    incident = await stored(world, reply.data["incident"]["id"])
    assert (incident.severity.value, incident.service, incident.title) == (
        "P1",
        "checkout",
        "Checkout is down",
    )
    assert incident.ic == "dan@example.com"
    assert "declare <P1-P4> [service:] <title>" in c.commands.help_text()

    vague = await c.commands.handle("declare", CommandContext(actor=dan, surface="api"))
    assert not vague.ok
    assert "declare P2 checkout:" in vague.text
    unsure = await c.commands.handle("declare it is down", CommandContext(actor=dan, surface="api"))
    assert not unsure.ok
    assert "severity: missing" in unsure.text
    assert len(await c.store.recent()) == 1
