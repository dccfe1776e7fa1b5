"""The processor drains the queue through the registry: ack on success, retry and dead-letter on
failure, and a graceful stop that lets in-flight work finish."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import pytest
import structlog

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.domain.clock import SystemClock
from incident_response.domain.errors import ConcurrentUpdate
from incident_response.domain.messages import QueueMessage
from incident_response.events.registry import EventRegistry
from incident_response.processor import Processor
from tests.support.clock import ManualClock


class Recording:
    """An event handler that records payloads, optionally failing or waiting first."""

    def __init__(self, event_type: str, *, fail: bool = False) -> None:
        self.event_type = event_type
        self.fail = fail
        self.seen: list[dict[str, Any]] = []
        self.release = asyncio.Event()
        self.release.set()
        self.started = asyncio.Event()

    async def handle(self, payload: Mapping[str, Any]) -> None:
        self.started.set()
        await self.release.wait()
        self.seen.append(dict(payload))
        if self.fail:
            raise RuntimeError("handler exploded")


@pytest.fixture
async def queue(db: Database, clock: ManualClock) -> SqliteEventQueue:
    return await SqliteEventQueue(db=db, clock=clock, max_receives=3).open()


def processor(queue: SqliteEventQueue, *handlers: Recording) -> Processor:
    return Processor(
        queue=queue,
        registry=EventRegistry(handlers),
        retry_base_delay=0,
        poll_seconds=0.01,
        idle_wait=0.01,
    )


async def send(queue: SqliteEventQueue, event_type: str, n: int, group: str = "g") -> None:
    await queue.send(
        QueueMessage(type=event_type, payload={"n": n}), group_id=group, dedup_id=f"{event_type}{n}"
    )


async def test_messages_are_handled_in_order_per_group_and_acked(queue: SqliteEventQueue) -> None:
    handler = Recording("PING")
    for n in range(5):
        await send(queue, "PING", n)
    worker = processor(queue, handler)
    worker.start()
    await worker.drain(within_seconds=5)
    await worker.stop()
    assert [p["n"] for p in handler.seen] == [0, 1, 2, 3, 4]
    assert await queue.depth() == 0
    assert worker.processed == 5


async def test_a_failing_handler_is_retried_then_dead_lettered_with_its_error(
    queue: SqliteEventQueue,
) -> None:
    broken = Recording("BROKEN", fail=True)
    fine = Recording("PING")
    await send(queue, "BROKEN", 1, group="a")
    await send(queue, "PING", 2, group="b")
    worker = processor(queue, broken, fine)
    worker.start()
    await worker.drain(within_seconds=5)
    await worker.stop()
    assert len(broken.seen) == 3  # max_receives
    assert [p["n"] for p in fine.seen] == [2]  # other groups are not held up
    [dead] = await queue.dead_letters()
    assert dead.body.type == "BROKEN"
    assert "handler exploded" in (dead.last_error or "")


async def test_an_unknown_event_type_ends_in_the_dead_letters(queue: SqliteEventQueue) -> None:
    await send(queue, "NOBODY_HANDLES_THIS", 1)
    worker = processor(queue, Recording("PING"))
    worker.start()
    await worker.drain(within_seconds=5)
    await worker.stop()
    [dead] = await queue.dead_letters()
    assert "NOBODY_HANDLES_THIS" in (dead.last_error or "")


async def test_stop_lets_in_flight_work_finish_and_acks_it(queue: SqliteEventQueue) -> None:
    slow = Recording("SLOW")
    slow.release.clear()
    await send(queue, "SLOW", 1)
    worker = processor(queue, slow)
    worker.start()
    await asyncio.wait_for(slow.started.wait(), 5)
    stopping = asyncio.create_task(worker.stop(grace_seconds=5))
    await asyncio.sleep(0.05)
    assert not stopping.done()  # waiting for the handler, not abandoning it
    slow.release.set()
    await stopping
    assert slow.seen == [{"n": 1}]
    assert await queue.depth() == 0


async def test_work_past_the_grace_period_is_left_for_redelivery(
    queue: SqliteEventQueue, clock: ManualClock
) -> None:
    stuck = Recording("STUCK")
    stuck.release.clear()
    await send(queue, "STUCK", 1)
    worker = processor(queue, stuck)
    worker.start()
    await asyncio.wait_for(stuck.started.wait(), 5)
    await worker.stop(grace_seconds=0.05)
    assert await queue.depth() == 1  # not acked: it comes back after the visibility timeout
    clock.advance(120)
    [again] = await queue.receive()
    assert again.receive_count == 2


SHORT_VISIBILITY = 0.9  # seconds, real time: the heartbeat beats every 0.3 s


class Slow:
    """A handler that outlives the visibility timeout (a paced Slack call in a storm)."""

    event_type = "SLOW"

    def __init__(self) -> None:
        self.calls = 0
        self.finished = 0
        self.release = asyncio.Event()
        self.started = asyncio.Event()

    async def handle(self, payload: Mapping[str, Any]) -> None:
        self.calls += 1
        self.started.set()
        await self.release.wait()
        self.finished += 1


def real_time_processor(queue: SqliteEventQueue, handler: Slow) -> Processor:
    return Processor(
        queue=queue,
        registry=EventRegistry([handler]),
        visibility_timeout=SHORT_VISIBILITY,
        retry_base_delay=0,
        poll_seconds=0.01,
        idle_wait=0.01,
    )


@pytest.mark.parametrize("max_receives", [1, 3])
async def test_a_handler_slower_than_the_visibility_timeout_runs_once_and_is_never_dead_lettered(
    db: Database, max_receives: int
) -> None:
    queue = await SqliteEventQueue(db=db, clock=SystemClock(), max_receives=max_receives).open()
    handler = Slow()
    await send(queue, "SLOW", 1)
    first, second = real_time_processor(queue, handler), real_time_processor(queue, handler)
    first.start()
    await asyncio.wait_for(handler.started.wait(), 5)
    second.start()  # a second processor polling the same queue all along

    await asyncio.sleep(SHORT_VISIBILITY * 3)  # three timeouts: it would have come back by now
    handler.release.set()
    await first.drain(within_seconds=5)
    await first.stop()
    await second.stop()

    assert (handler.calls, handler.finished) == (1, 1)
    assert await queue.dead_letters() == []
    assert await queue.depth() == 0
    assert (first.processed, second.processed) == (1, 0)


async def test_a_handler_that_dies_is_still_redelivered_after_the_timeout(db: Database) -> None:
    queue = await SqliteEventQueue(db=db, clock=SystemClock(), max_receives=3).open()
    handler = Slow()
    await send(queue, "SLOW", 1)
    crashing = real_time_processor(queue, handler)
    crashing.start()
    await asyncio.wait_for(handler.started.wait(), 5)
    await crashing.stop(grace_seconds=0)  # the handler is killed mid-call, like its process

    handler.release.set()
    survivor = real_time_processor(queue, handler)
    survivor.start()
    await survivor.drain(within_seconds=10)
    await survivor.stop()

    assert (handler.calls, handler.finished) == (2, 1)
    assert survivor.processed == 1
    assert await queue.dead_letters() == []


@pytest.mark.parametrize("seconds", [0, -1, 43_201])
def test_a_visibility_timeout_the_queue_cannot_keep_is_refused(
    queue: SqliteEventQueue, seconds: float
) -> None:
    with pytest.raises(ValueError, match="visibility_timeout"):
        Processor(queue=queue, registry=EventRegistry([]), visibility_timeout=seconds)


class ContendedOnce:
    """A handler that loses a compare-and-set race the first time, as under an alert storm."""

    event_type = "CONTENDED"

    def __init__(self) -> None:
        self.calls = 0

    async def handle(self, payload: Mapping[str, Any]) -> None:
        self.calls += 1
        if self.calls == 1:
            raise ConcurrentUpdate("incident inc-1: saving version 3, but version 4 is stored")


async def test_expected_contention_is_retried_without_an_error_or_a_traceback(
    queue: SqliteEventQueue,
) -> None:
    handler = ContendedOnce()
    await queue.send(QueueMessage(type="CONTENDED"), group_id="g", dedup_id="c1")
    worker = Processor(
        queue=queue, registry=EventRegistry([handler]), retry_base_delay=0, poll_seconds=0.01
    )

    with structlog.testing.capture_logs() as logs:
        worker.start()
        await worker.drain(within_seconds=5)
        await worker.stop()

    assert handler.calls == 2
    assert await queue.dead_letters() == []
    assert [e for e in logs if e["log_level"] in ("error", "critical")] == []
    assert [e for e in logs if e.get("exc_info")] == []
    [contended] = [e for e in logs if e["event"] == "event.contended"]
    assert contended["log_level"] == "warning"
