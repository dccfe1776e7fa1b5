"""A raised severity brings the worse severity's checklist (issue 12: checklist on raise): the
P1 items a P3 lacks are added, audited and shown in the pinned checklist; ticked items stay
ticked; lowering removes nothing; a raise asked again adds nothing."""

from __future__ import annotations

import dataclasses

from incident_response.commands.registry import CommandRegistry
from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.checklist import checklist_for
from incident_response.services.checklist_on_raise import ChecklistOnRaise
from incident_response.services.checklist_ticks import ChecklistTicks
from tests.unit.commands.test_checklist_board import BrokenUpdates, pin_checklist, pinned_text
from tests.unit.commands.world import World

A = AuditEventType
P1_ONLY = ["status", "comms", "execs", "mitigate", "postmortem"]  # P1 items a P3 list lacks


async def test_a_raise_adds_the_p1_items_and_the_pinned_message_shows_them(world: World) -> None:
    await world.open_incident(severity=Severity.P3)
    message_id = await pin_checklist(world)
    await world.command("checklist done ack", actor="bob@example.com")

    reply = await world.command("severity P1")

    assert reply.ok, reply.text
    assert "5 items of the P1 checklist added." in reply.text
    assert reply.data["checklist_added"] == P1_ONLY
    checklist = (await world.incident()).checklist
    assert [i.id for i in checklist] == ["ack", "impact", "changes", "verify", *P1_ONLY]
    assert (checklist[0].done, checklist[0].done_by) == (True, "bob@example.com")
    assert not any(item.done for item in checklist[1:])
    text = await pinned_text(world, message_id)
    assert "P1 checklist: 1/9 done" in text
    assert "[ ] Name a communications lead for customers and support" in text
    assert "[ ] Notify engineering leadership" in text
    assert "[x] Acknowledge the alert and confirm the IC" in text
    [record] = await world.records(A.CHECKLIST_ITEMS_ADDED)
    assert record.actor == "alice@example.com"
    assert (record.data["from"], record.data["to"]) == ("P3", "P1")
    assert [(i["id"], i["number"]) for i in record.data["items"]] == list(
        zip(P1_ONLY, range(5, 10), strict=True)
    )
    assert record.data["reason"] == "severity raised from P3 to P1"
    # adding is not ticking: the tick record stays the only one
    assert len(await world.records(A.CHECKLIST_ITEM_UPDATED)) == 1
    assert any("5 items of the P1 checklist added." in t for t in await world.room_texts())
    # the added items are ordinary items: numbered, tickable
    done = await world.command("checklist done comms", actor="bob@example.com")
    assert "  6. [x] Name a communications lead" in done.text


async def test_lowering_changes_nothing_on_the_checklist(world: World) -> None:
    incident = await world.open_incident(severity=Severity.P1)
    message_id = await pin_checklist(world)
    pinned = await pinned_text(world, message_id)

    reply = await world.command("severity P3")

    assert reply.ok, reply.text
    assert reply.text == "The incident is now P3 (was P1)."
    assert (await world.incident()).checklist == incident.checklist
    assert await world.records(A.CHECKLIST_ITEMS_ADDED) == []
    assert await pinned_text(world, message_id) == pinned


async def test_a_retried_raise_adds_nothing_again(world: World) -> None:
    await world.open_incident(severity=Severity.P3)
    message_id = await pin_checklist(world)
    await world.command("severity P1")
    raised = await world.incident()

    again = await world.command("severity P1")

    assert again.text == "The incident is already P1: nothing changed."
    assert await world.incident() == raised
    assert len(await world.records(A.CHECKLIST_ITEMS_ADDED)) == 1
    assert "P1 checklist: 0/9 done" in await pinned_text(world, message_id)


async def test_down_and_up_again_adds_only_what_is_missing(world: World) -> None:
    await world.open_incident(severity=Severity.P3)
    await world.command("severity P2")
    p2 = ["status", "mitigate", "postmortem"]
    assert [i.id for i in (await world.incident()).checklist][4:] == p2

    await world.command("severity P4")  # lowering keeps every item
    reply = await world.command("severity P1")

    ids = [i.id for i in (await world.incident()).checklist]
    assert ids[4:] == ["status", "mitigate", "postmortem", "comms", "execs"]
    assert reply.data["checklist_added"] == ["comms", "execs"]
    records = await world.records(A.CHECKLIST_ITEMS_ADDED)
    assert [[i["id"] for i in r.data["items"]] for r in records] == [
        ["status", "mitigate", "postmortem"],
        ["comms", "execs"],
    ]


async def test_a_raised_list_ticks_what_already_happened(world: World) -> None:
    """The comms lead was named and the first update published while it was a P3 (whose list
    asks for neither): the P1 items for them arrive ticked, by the system."""
    await world.open_incident(severity=Severity.P3)
    message_id = await pin_checklist(world)
    await world.command("role comms carol@example.com")
    draft = await world.gate.create_draft("inc-0001", actor="alice@example.com")
    await world.gate.approve_and_publish("inc-0001", draft.id, version=1, actor="alice@example.com")
    assert await world.records(A.CHECKLIST_ITEM_UPDATED) == []  # P3 has neither item

    await world.command("severity P1")

    done = {i.id: i.done_by for i in (await world.incident()).checklist if i.done}
    assert done == {"status": "system", "comms": "system"}
    reasons = {
        r.data["item_id"]: r.data["reason"] for r in await world.records(A.CHECKLIST_ITEM_UPDATED)
    }
    assert reasons == {
        "status": "the first status update was published",
        "comms": "a communications lead was named",
    }
    assert "P1 checklist: 2/9 done" in await pinned_text(world, message_id)


async def test_a_pinned_message_that_cannot_be_edited_does_not_stop_the_raise(
    world: World,
) -> None:
    await world.open_incident(severity=Severity.P3)
    await pin_checklist(world)
    broken = BrokenUpdates(world.chat)
    on_raise = ChecklistOnRaise(
        audit=world.audit,
        ticks=ChecklistTicks(store=world.store, audit=world.audit, chat=broken, clock=world.clock),
        clock=world.clock,
    )
    services = dataclasses.replace(world.services, checklist_on_raise=on_raise)
    registry = CommandRegistry(services=services)

    reply = await registry.handle("severity P1", await world.context())

    assert reply.ok
    assert "the pinned checklist could not be updated (ConnectionError" in reply.text
    assert len((await world.incident()).checklist) == len(checklist_for(Severity.P1))
    assert len(await world.records(A.CHECKLIST_ITEMS_ADDED)) == 1
