"""The SQLite EventQueue against the EventQueue suite, plus durability across a reopen."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from tests.contract.event_queue_suite import VISIBILITY, EventQueueContract, message, numbers
from tests.support.clock import ManualClock


class TestSqliteEventQueue(EventQueueContract):
    @pytest.fixture
    async def queue(self, db: Database, clock: ManualClock) -> SqliteEventQueue:
        return await SqliteEventQueue(
            db=db,
            clock=clock,
            max_receives=self.MAX_RECEIVES,
            dedup_window_seconds=self.DEDUP_WINDOW_SECONDS,
        ).open()


async def test_an_unacked_message_survives_a_reopen_and_is_redelivered(
    db: Database, clock: ManualClock
) -> None:
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    await queue.send(message(1), group_id="inc-1", dedup_id="d-1")
    await queue.send(message(2), group_id="inc-1", dedup_id="d-2")
    [in_flight] = await queue.receive(visibility_timeout=VISIBILITY)
    await db.close()  # the process dies mid-handler: no ack

    reopened = await Database(db.path).open()
    try:
        again = await SqliteEventQueue(db=reopened, clock=clock).open()
        assert await again.depth() == 2
        assert await again.receive(visibility_timeout=VISIBILITY) == []
        assert await again.send(message(1), group_id="inc-1", dedup_id="d-1") is False

        clock.advance(VISIBILITY + 1)
        [redelivered] = await again.receive(visibility_timeout=VISIBILITY)
        assert redelivered.message_id == in_flight.message_id
        assert redelivered.receive_count == 2
        await again.ack(redelivered)
        assert numbers(await again.receive(visibility_timeout=VISIBILITY)) == [2]
    finally:
        await reopened.close()


async def test_default_settings_follow_sqs(db: Database, clock: ManualClock) -> None:
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    await queue.send(message(1), group_id="g", dedup_id="same")
    clock.advance(299)
    assert await queue.send(message(1), group_id="g", dedup_id="same") is False
    clock.advance(1)
    assert await queue.send(message(1), group_id="g", dedup_id="same") is True

    for _ in range(5):
        [delivery] = await queue.receive(max_messages=1)
        await queue.retry(delivery, error="boom")
    assert len(await queue.dead_letters()) == 1


def test_max_receives_below_one_is_refused(db: Database, clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="max_receives"):
        SqliteEventQueue(db=db, clock=clock, max_receives=0)


async def test_a_receive_reads_an_index_range_not_the_whole_queue(
    db: Database, clock: ManualClock
) -> None:
    await SqliteEventQueue(db=db, clock=clock).open()
    plan = await db.fetchall(
        "EXPLAIN QUERY PLAN SELECT id FROM queue_messages WHERE is_head = 1 AND visible_at <= ?"
        " ORDER BY visible_at, id LIMIT 10",
        ("x",),
    )
    details = " ".join(str(row["detail"]) for row in plan)
    assert "queue_messages_ready" in details
    assert "TEMP B-TREE" not in details


async def test_a_crash_looping_message_is_dead_lettered_with_a_reason(
    db: Database, clock: ManualClock
) -> None:
    queue = await SqliteEventQueue(db=db, clock=clock, max_receives=2).open()
    await queue.send(message(1), group_id="g", dedup_id="d")
    for _ in range(2):
        await queue.receive(visibility_timeout=VISIBILITY)
        clock.advance(VISIBILITY + 1)

    assert await queue.receive(visibility_timeout=VISIBILITY) == []

    [dead] = await queue.dead_letters()
    assert dead.last_error == "not acked after 2 receives"
