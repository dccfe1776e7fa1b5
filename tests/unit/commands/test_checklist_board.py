"""The checklist pinned in the war room follows every tick (issue 12, point 5): edited in place
by the `checklist` command whatever surface sent it, and by automatic ticks; a chat that cannot
edit it never blocks or undoes the tick."""

from __future__ import annotations

import dataclasses
from typing import Any

from incident_response.commands.registry import CommandRegistry
from incident_response.domain.audit import AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.checklist import ChecklistEvent
from incident_response.services import war_room_messages as msgs
from incident_response.services.checklist_ticks import ChecklistTicks
from incident_response.services.war_room_steps import Step
from tests.unit.commands.world import World

A = AuditEventType


async def pin_checklist(world: World) -> str:
    """Post and pin the checklist as assembly does, recording the message id as its steps do."""
    incident = await world.incident()
    assert incident.channel is not None
    message_id = await world.chat.post(
        incident.channel.id, msgs.checklist(incident, incident.checklist)
    )
    await world.chat.pin(incident.channel.id, message_id)
    steps = {
        Step.POST_CHECKLIST: {"ok": True, "message_id": message_id},
        Step.PIN_CHECKLIST: {"ok": True, "message_id": message_id},
    }
    await world.store.save(incident.update(assembly_steps={**incident.assembly_steps, **steps}))
    return message_id


async def pinned_text(world: World, message_id: str) -> str:
    incident = await world.incident()
    assert incident.channel is not None
    assert await world.chat.pins(incident.channel.id) == [message_id]
    [message] = [m for m in await world.chat.messages(incident.channel.id) if m.id == message_id]
    return "\n".join([message.text, *message.sections])


class BrokenUpdates:
    """The console chat, refusing to edit messages (a Slack outage, say)."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    async def update(self, channel_id: str, message_id: str, message: ChatMessage) -> None:
        raise ConnectionError("chat: service_unavailable")


async def test_a_tick_shows_in_the_pinned_checklist(world: World) -> None:
    incident = await world.open_incident()
    message_id = await pin_checklist(world)
    second = incident.checklist[1].text
    assert f"[ ] {second}" in await pinned_text(world, message_id)

    reply = await world.command("checklist done 2", actor="bob@example.com")

    assert reply.ok
    text = await pinned_text(world, message_id)
    assert f"[x] {second}" in text
    assert f"checklist: 1/{len(incident.checklist)} done" in text
    assert f"[ ] {incident.checklist[0].text}" in text

    await world.command("checklist undo 2", actor="bob@example.com")

    assert f"[ ] {second}" in await pinned_text(world, message_id)


async def test_the_console_checklist_button_ticks_the_pinned_message_too(world: World) -> None:
    incident = await world.open_incident()
    message_id = await pin_checklist(world)

    # the console's and Slack's checklist buttons send `checklist toggle <item id>`
    await world.command(f"checklist toggle {incident.checklist[0].id}")

    assert f"[x] {incident.checklist[0].text}" in await pinned_text(world, message_id)


async def test_a_chat_that_cannot_edit_the_pinned_message_does_not_block_the_tick(
    world: World,
) -> None:
    incident = await world.open_incident()
    message_id = await pin_checklist(world)
    services = dataclasses.replace(world.services, chat=BrokenUpdates(world.chat))
    registry = CommandRegistry(services=services)

    reply = await registry.handle("checklist done 2", await world.context())

    assert reply.ok
    assert "could not be updated (ConnectionError: chat: service_unavailable)" in reply.text
    assert "the tick is saved" in reply.text
    assert (await world.incident()).checklist[1].done
    assert len(await world.records(A.CHECKLIST_ITEM_UPDATED)) == 1
    assert f"[ ] {incident.checklist[1].text}" in await pinned_text(world, message_id)


async def test_a_room_without_a_pinned_checklist_still_ticks(world: World) -> None:
    await world.open_incident()

    reply = await world.command("checklist done 1")

    assert reply.ok
    assert "could not be updated" not in reply.text
    assert (await world.incident()).checklist[0].done


async def test_an_event_ticks_its_item_as_system_with_a_reason(world: World) -> None:
    incident = await world.open_incident()
    message_id = await pin_checklist(world)
    ticks = ChecklistTicks(store=world.store, audit=world.audit, chat=world.chat, clock=world.clock)
    [number] = [n for n, i in enumerate(incident.checklist, 1) if i.id == "status"]

    [tick] = await ticks.happened(incident.id, ChecklistEvent.FIRST_UPDATE_PUBLISHED)
    again = await ticks.happened(incident.id, ChecklistEvent.FIRST_UPDATE_PUBLISHED)

    assert (tick.changed, tick.number) == (True, number)
    assert again == []
    item = (await world.incident()).checklist[number - 1]
    assert (item.done, item.done_by) == (True, "system")
    [record] = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert record.actor == "system"
    assert record.data["reason"] == "the first status update was published"
    assert f"[x] {item.text}" in await pinned_text(world, message_id)


async def test_an_item_a_person_already_ticked_is_left_as_they_left_it(world: World) -> None:
    incident = await world.open_incident()
    [number] = [n for n, i in enumerate(incident.checklist, 1) if i.id == "status"]
    await world.command(f"checklist done {number}", actor="bob@example.com")
    ticks = ChecklistTicks(store=world.store, audit=world.audit, chat=world.chat, clock=world.clock)

    assert await ticks.happened(incident.id, ChecklistEvent.FIRST_UPDATE_PUBLISHED) == []

    assert (await world.incident()).checklist[number - 1].done_by == "bob@example.com"
    [record] = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert record.actor == "bob@example.com"
