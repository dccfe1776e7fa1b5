"""The console's change feed: pages hear about new incidents, changed incidents and chat."""

from __future__ import annotations

import asyncio

from incident_response.adapters.console.chat import ConsoleChat
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.chat import ChatMessage
from incident_response.web.console.live import ChangeFeed, LiveChange
from tests.contract.incident_samples import sample_incident
from tests.support.clock import ManualClock


async def next_change(queue: asyncio.Queue[LiveChange], kind: str) -> LiveChange:
    async def wait() -> LiveChange:
        while True:
            change = await queue.get()
            if change.kind == kind:
                return change

    return await asyncio.wait_for(wait(), timeout=2)


async def test_new_and_changed_incidents_and_room_messages_are_announced(
    db: Database, clock: ManualClock
) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    chat = ConsoleChat(db, base_url="http://console.test", clock=clock)
    feed = ChangeFeed(store=store, chat=chat, poll_seconds=0.01)
    async with feed.subscription() as queue:
        await asyncio.sleep(0.05)  # the feed has read where things stand
        created = await store.create(sample_incident())
        assert (await next_change(queue, "new_incident")).incident_id == created.id

        await store.save(created.update(title="Checkout errors"))
        assert (await next_change(queue, "incident")).incident_id == created.id

        room = await chat.create_channel(name="inc-room", incident_id=created.id)
        await chat.post(room.id, ChatMessage(text="hello"))
        change = await next_change(queue, "message")
        assert (change.incident_id, change.channel_id) == (created.id, room.id)


async def test_every_page_listening_hears_the_same_change(db: Database, clock: ManualClock) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    chat = ConsoleChat(db, base_url="http://console.test", clock=clock)
    feed = ChangeFeed(store=store, chat=chat, poll_seconds=0.01)
    async with feed.subscription() as first, feed.subscription() as second:
        await asyncio.sleep(0.05)
        created = await store.create(sample_incident())
        for queue in (first, second):
            assert (await next_change(queue, "new_incident")).incident_id == created.id
    # after the last page left, a new one starts the feed again
    async with feed.subscription() as again:
        await asyncio.sleep(0.05)
        room = await chat.create_channel(name="later", incident_id="")
        assert (await next_change(again, "channel_created")).channel_id == room.id
