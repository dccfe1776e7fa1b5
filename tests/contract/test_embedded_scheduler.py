"""The SQLite Scheduler against the Scheduler suite, plus how it fires into the queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.scheduler import SCHEMA, SqliteScheduler
from incident_response.domain.messages import Delivery
from incident_response.services.nudges import schedule_name
from incident_response.services.sla import schedule_prefix
from tests.contract.scheduler_suite import SchedulerContract, schedule
from tests.support.clock import ManualClock


class TestSqliteScheduler(SchedulerContract):
    @pytest.fixture
    async def scheduler(self, db: Database, clock: ManualClock) -> SqliteScheduler:
        queue = await SqliteEventQueue(db=db, clock=clock).open()
        return await SqliteScheduler(db=db, clock=clock, queue=queue).open()


@pytest.fixture
async def queue(db: Database, clock: ManualClock) -> SqliteEventQueue:
    return await SqliteEventQueue(db=db, clock=clock).open()


@pytest.fixture
async def scheduler(
    db: Database, clock: ManualClock, queue: SqliteEventQueue
) -> AsyncIterator[SqliteScheduler]:
    timers = await SqliteScheduler(db=db, clock=clock, queue=queue).open()
    yield timers
    await timers.aclose()


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

    assert await scheduler.fire_due(now=clock.now() + timedelta(seconds=59)) == 0
    assert await queue.depth() == 0


async def test_a_due_schedule_sends_its_message_to_its_group_and_advances(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    clock.advance(60)

    assert await scheduler.fire_due() == 1

    [delivery] = await drain(queue)
    assert (delivery.body, delivery.group_id) == (nudge.message, "inc-1")
    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=60)
    assert stored.fired_count == 1
    assert await scheduler.fire_due() == 0


async def test_missed_slots_fire_once_and_the_next_slot_is_after_now(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)

    assert await scheduler.fire_due(now=nudge.next_fire_at + timedelta(seconds=150)) == 1

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

    await scheduler.fire_due(now=nudge.next_fire_at + timedelta(seconds=120))

    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=180)


async def test_a_disabled_schedule_does_not_fire_until_enabled(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    await scheduler.put(schedule(clock, every=60))
    await scheduler.disable("nudge.inc-1")
    clock.advance(600)

    assert await scheduler.fire_due() == 0
    assert await queue.depth() == 0

    await scheduler.enable("nudge.inc-1")
    assert await scheduler.fire_due() == 1
    assert await queue.depth() == 1


async def test_a_once_schedule_fires_once_and_is_gone(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    await scheduler.put(schedule(clock, "sla.inc-1", every=300, once=True))
    clock.advance(301)

    assert await scheduler.fire_due() == 1
    assert await scheduler.get("sla.inc-1") is None
    clock.advance(3600)
    assert await scheduler.fire_due() == 0
    assert len(await drain(queue)) == 1


async def test_refiring_the_same_slot_after_a_crash_sends_nothing_new(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    clock.advance(60)
    await scheduler.fire_due()
    # the crash landed between the send and the advance: the schedule still names the old slot
    await scheduler.put(nudge)

    assert await scheduler.fire_due() == 1

    assert await queue.depth() == 1
    stored = await scheduler.get(nudge.name)
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=60)


async def test_two_ticks_at_once_fire_a_slot_once(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    for n in range(5):
        await scheduler.put(schedule(clock, f"nudge.inc-{n}", every=60, group_id=f"inc-{n}"))
    clock.advance(60)

    await asyncio.gather(scheduler.fire_due(), scheduler.fire_due())

    assert len(await drain(queue)) == 5
    assert [s.fired_count for s in await scheduler.schedules()] == [1] * 5


async def test_schedules_survive_a_reopen_and_fire_afterwards(
    db: Database, scheduler: SqliteScheduler, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    await scheduler.put(schedule(clock, "sla.inc-1", once=True))
    await scheduler.disable("sla.inc-1")
    await db.close()

    reopened = await Database(db.path).open()
    try:
        queue = await SqliteEventQueue(db=reopened, clock=clock).open()
        again = await SqliteScheduler(db=reopened, clock=clock, queue=queue).open()
        assert await again.get(nudge.name) == nudge
        clock.advance(3600)
        assert await again.fire_due() == 1
        [delivery] = await drain(queue)
        assert delivery.body == nudge.message
    finally:
        await reopened.close()


async def test_once_started_a_due_schedule_reaches_the_queue_without_any_poller(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    nudge = schedule(clock, every=60)
    await scheduler.put(nudge)
    clock.advance(60)

    scheduler.start(every_seconds=0.01)
    deliveries = await queue.receive(wait_seconds=10)

    assert [(d.body, d.group_id) for d in deliveries] == [(nudge.message, "inc-1")]


async def test_after_aclose_nothing_fires(
    scheduler: SqliteScheduler, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    scheduler.start(every_seconds=0.01)
    await scheduler.aclose()
    await scheduler.put(schedule(clock, every=60))
    clock.advance(60)

    await asyncio.sleep(0.05)

    assert await queue.depth() == 0
    stored = await scheduler.get(schedule(clock).name)
    assert stored is not None
    assert stored.fired_count == 0


async def test_a_data_dir_with_colon_names_is_renamed_to_the_current_names(
    db: Database, clock: ManualClock
) -> None:
    """Before names had to fit EventBridge's rule the services wrote `nudge:<id>` and
    `sla:<id>:<minutes>`: opening such a data dir keeps those timers, under today's names."""
    old_nudge = schedule(clock, "nudge:inc-1", every=60)
    old_sla = schedule(clock, "sla:inc-1:30", every=1800, once=True)
    await db.migrate("scheduler", SCHEMA)
    async with db.transaction() as conn:
        for old in (old_nudge, old_sla):
            await conn.execute(
                "INSERT INTO schedules (name, every_seconds, message, group_id, next_fire_at,"
                " enabled, fired_count, once) VALUES (?, ?, ?, ?, ?, 1, 0, ?)",
                (
                    old.name,
                    old.every_seconds,
                    old.message.model_dump_json(),
                    old.group_id,
                    old.next_fire_at.isoformat(timespec="microseconds"),
                    int(old.once),
                ),
            )
    await db.close()

    reopened = await Database(db.path).open()
    try:
        queue = await SqliteEventQueue(db=reopened, clock=clock).open()
        timers = await SqliteScheduler(db=reopened, clock=clock, queue=queue).open()

        assert await timers.get(schedule_name("inc-1")) == old_nudge.model_copy(
            update={"name": "nudge.inc-1"}
        )
        assert [s.name for s in await timers.schedules(schedule_prefix("inc-1"))] == [
            "sla.inc-1.30"
        ]
        assert await timers.get("nudge:inc-1") is None
        clock.advance(60)
        assert await timers.fire_due() == 1
    finally:
        await reopened.close()
