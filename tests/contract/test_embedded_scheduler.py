"""The SQLite Scheduler against the Scheduler suite, plus how it fires into the queue."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.scheduler import SqliteScheduler
from incident_response.domain.messages import Delivery
from tests.contract.scheduler_suite import SchedulerContract, schedule
from tests.support.clock import ManualClock


class TestSqliteScheduler(SchedulerContract):
    @pytest.fixture
    async def scheduler(self, db: Database, clock: ManualClock) -> SqliteScheduler:
        return await SqliteScheduler(db=db, clock=clock).open()


@pytest.fixture
async def scheduler(db: Database, clock: ManualClock) -> SqliteScheduler:
    return await SqliteScheduler(db=db, clock=clock).open()


@pytest.fixture
async def queue(db: Database, clock: ManualClock) -> SqliteEventQueue:
    return await SqliteEventQueue(db=db, clock=clock).open()


async def drain(queue: SqliteEventQueue) -> list[Delivery]:
    """Everything in the queue, acked, in delivery order."""
    got: list[Delivery] = []
    while batch := await queue.receive(max_messages=10):
        for delivery in batch:
            await queue.ack(delivery)
        got += batch
    return got


async def test_nothing_fires_before_it_is_due(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    await scheduler.put(schedule(clock, every=60))

    assert await scheduler.fire_due(queue, now=clock.now() + timedelta(seconds=59)) == 0
    assert await queue.depth() == 0


async def test_a_due_schedule_sends_its_message_to_its_group_and_advances(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    clock.advance(60)

    assert await scheduler.fire_due(queue) == 1

    [delivery] = await drain(queue)
    assert (delivery.body, delivery.group_id) == (nudge.message, "inc-1")
    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=60)
    assert stored.fired_count == 1
    assert await scheduler.fire_due(queue) == 0


async def test_missed_slots_fire_once_and_the_next_slot_is_after_now(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)

    assert await scheduler.fire_due(queue, now=nudge.next_fire_at + timedelta(seconds=150)) == 1

    assert len(await drain(queue)) == 1
    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=180)
    assert stored.fired_count == 1


async def test_a_due_slot_exactly_on_the_period_moves_a_whole_period_on(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)

    await scheduler.fire_due(queue, now=nudge.next_fire_at + timedelta(seconds=120))

    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=180)


async def test_a_disabled_schedule_does_not_fire_until_enabled(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    await scheduler.put(schedule(clock, every=60))
    await scheduler.disable("nudge:inc-1")
    clock.advance(600)

    assert await scheduler.fire_due(queue) == 0
    assert await queue.depth() == 0

    await scheduler.enable("nudge:inc-1")
    assert await scheduler.fire_due(queue) == 1
    assert await queue.depth() == 1


async def test_a_once_schedule_fires_once_and_is_gone(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    await scheduler.put(schedule(clock, "sla:inc-1", every=300, once=True))
    clock.advance(301)

    assert await scheduler.fire_due(queue) == 1
    assert await scheduler.get("sla:inc-1") is None
    clock.advance(3600)
    assert await scheduler.fire_due(queue) == 0
    assert len(await drain(queue)) == 1


async def test_refiring_the_same_slot_after_a_crash_sends_nothing_new(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    clock.advance(60)
    await scheduler.fire_due(queue)
    # the crash landed between the send and the advance: the schedule still names the old slot
    await scheduler.put(nudge)

    assert await scheduler.fire_due(queue) == 1

    assert await queue.depth() == 1
    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=60)


async def test_two_ticks_at_once_fire_a_slot_once(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    for n in range(5):
        await scheduler.put(schedule(clock, f"nudge:inc-{n}", every=60, group_id=f"inc-{n}"))
    clock.advance(60)

    await asyncio.gather(scheduler.fire_due(queue), scheduler.fire_due(queue))

    assert len(await drain(queue)) == 5
    assert [s.fired_count for s in await scheduler.schedules()] == [1] * 5


async def test_schedules_survive_a_reopen_and_fire_afterwards(
    db: Database, scheduler: SqliteScheduler, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    await scheduler.put(schedule(clock, "sla:inc-1", once=True))
    await scheduler.disable("sla:inc-1")
    await db.close()

    reopened = await Database(db.path).open()
    try:
        again = await SqliteScheduler(db=reopened, clock=clock).open()
        queue = await SqliteEventQueue(db=reopened, clock=clock).open()
        assert await again.get(nudge.name) == nudge
        clock.advance(3600)
        assert await again.fire_due(queue) == 1
        [delivery] = await drain(queue)
        assert delivery.body == nudge.message
    finally:
        await reopened.close()
