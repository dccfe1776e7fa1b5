"""`severity P1`: changed, audited, announced and in the topic; a raise pages the on-call again."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from incident_response.bootstrap import Overrides
from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import ChannelRef, IncidentStatus
from incident_response.domain.people import OnCallShift
from tests.support.clock import ManualClock
from tests.unit.commands.world import World, build_world


async def topic(world: World) -> str | None:
    incident = await world.incident()
    assert incident.channel is not None
    room = await world.chat.channel(incident.channel.id)
    assert room is not None
    return room.topic


async def test_severity_alone_says_what_it_is(world: World) -> None:
    await world.open_incident(severity=Severity.P3)

    reply = await world.command("severity", actor="carol@example.com")

    assert reply.ok
    assert reply.text == "The severity is P3."


@pytest.mark.parametrize("typed", ["P1", "p1", "1", "sev1"])
async def test_severity_changes_it_audited_announced_and_in_the_topic(
    world: World, typed: str
) -> None:
    await world.open_incident(severity=Severity.P3)

    reply = await world.command(f"severity {typed}", actor="bob@example.com")

    assert reply.ok, reply.text
    assert reply.text.startswith("The incident is now P1 (was P3).")
    assert (await world.incident()).severity is Severity.P1
    [record] = await world.records(AuditEventType.SEVERITY_CHANGED)
    assert record.data == {"from": "P3", "to": "P1"}
    assert record.actor == "bob@example.com"
    assert any(
        t.startswith("Severity raised from P3 to P1 by Bob Okafor.")
        for t in await world.room_texts()
    )
    assert await topic(world) == "P1 · checkout · IC: Alice Martin · status: investigating"


async def test_a_raise_pages_the_on_call_again_and_invites_who_is_missing(
    world: World,
) -> None:
    """Only Alice (primary) is in the room; the raise pages Alice and Bob (secondary) and brings
    Bob, who is on call and on the payments team, into the room as a responder."""
    incident = await world.open_incident(severity=Severity.P3, responders=())
    assert incident.channel is not None

    reply = await world.command("severity P1")

    assert reply.ok, reply.text
    assert "Paged again: Alice Martin, Bob Okafor." in reply.text
    assert "Invited: Bob Okafor." in reply.text
    saved = await world.incident()
    bob = next(r for r in saved.responders if r.email == "bob@example.com")
    assert bob.role == "secondary"
    assert "UBOB2" in await world.chat.members(incident.channel.id)
    for user_id in ("UALICE1", "UBOB2"):
        [page] = await world.chat.direct_messages(user_id)
        assert "was raised from P3 to P1" in page.text
    [invited] = await world.records(AuditEventType.RESPONDER_INVITED)
    assert invited.data["by"] == "severity"
    [escalated] = await world.records(AuditEventType.RESPONDERS_ESCALATED)
    assert escalated.data["paged"] == ["Alice Martin", "Bob Okafor"]
    assert escalated.data["invited"] == ["Bob Okafor"]


async def test_lowering_the_severity_pages_nobody(world: World) -> None:
    incident = await world.open_incident(severity=Severity.P1, responders=())
    assert incident.channel is not None

    reply = await world.command("severity P3")

    assert reply.ok, reply.text
    assert reply.text == "The incident is now P3 (was P1)."
    assert (await world.incident()).severity is Severity.P3
    assert [r.email for r in (await world.incident()).responders] == ["alice@example.com"]
    assert await world.chat.direct_messages("UALICE1") == []
    assert await world.chat.direct_messages("UBOB2") == []
    assert await world.records(AuditEventType.RESPONDERS_ESCALATED) == []
    assert any(t.startswith("Severity lowered from P1 to P3") for t in await world.room_texts())


async def test_the_same_severity_again_changes_nothing(world: World) -> None:
    await world.open_incident(severity=Severity.P2)
    before = await world.incident()

    reply = await world.command("severity P2")

    assert reply.ok
    assert reply.text == "The incident is already P2: nothing changed."
    assert (await world.incident()).version == before.version
    assert await world.records(AuditEventType.SEVERITY_CHANGED) == []


@pytest.mark.parametrize("typed", ["P5", "urgent", "P1 now", "0"])
async def test_bad_severity_is_refused_and_changes_nothing(world: World, typed: str) -> None:
    await world.open_incident(severity=Severity.P2)
    before = await world.incident()
    texts = await world.room_texts()

    reply = await world.command(f"severity {typed}")

    assert not reply.ok
    assert reply.text.startswith("The severity was not changed: unknown severity")
    assert "use one of P1, P2, P3, P4" in reply.text
    assert await world.incident() == before
    assert await world.records(AuditEventType.SEVERITY_CHANGED) == []
    assert await world.room_texts() == texts


async def test_a_resolved_incident_keeps_its_severity(world: World) -> None:
    incident = await world.open_incident(severity=Severity.P2)
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("severity P1")

    assert not reply.ok
    assert "is resolved" in reply.text
    assert (await world.incident()).severity is Severity.P2


async def test_a_room_that_cannot_be_told_still_gets_the_change(world: World) -> None:
    incident = await world.open_incident(severity=Severity.P3)
    gone = ChannelRef(id="CGONE", name="inc-gone", url="http://incident-response.test/gone")
    await world.store.save(incident.update(channel=gone))

    reply = await world.command("severity P2")

    assert reply.ok
    assert (await world.incident()).severity is Severity.P2
    assert "updating the room's topic failed (NotFound)" in reply.text
    assert "announcing it in the room failed (NotFound)" in reply.text
    assert len(await world.records(AuditEventType.SEVERITY_CHANGED)) == 1


class OnCallDown:
    """The on-call system is unreachable."""

    async def shift(
        self, service: str, *, at: datetime, alert_group_id: str | None = None
    ) -> OnCallShift:
        raise ConnectionError("on-call system unreachable")

    async def acknowledge(self, alert_group_id: str) -> bool:
        raise ConnectionError("on-call system unreachable")


async def test_a_raise_stands_when_the_on_call_system_is_down(
    clock: ManualClock, tmp_path: Path
) -> None:
    world = await build_world(tmp_path, clock, overrides=Overrides(oncall=lambda _: OnCallDown()))
    try:
        await world.open_incident(severity=Severity.P3, responders=())

        reply = await world.command("severity P1")

        assert reply.ok, reply.text
        assert (await world.incident()).severity is Severity.P1
        assert "asking who is on call failed (ConnectionError)" in reply.text
        assert await world.chat.direct_messages("UALICE1") == []
        # the payments team is still called: Bob is invited from the directory
        assert "Invited: Bob Okafor." in reply.text
        [escalated] = await world.records(AuditEventType.RESPONDERS_ESCALATED)
        assert escalated.data["problems"] == ["asking who is on call failed (ConnectionError)"]
        assert any(
            "Not everyone could be called: asking who is on call failed (ConnectionError)." in t
            for t in await world.room_texts()
        )
    finally:
        await world.aclose()
