"""What every EventQueue must do (SQS FIFO semantics). An adapter's test module subclasses
`EventQueueContract` and provides a `queue` fixture on the `clock` fixture, configured with the
class's MAX_RECEIVES and DEDUP_WINDOW_SECONDS (see test_embedded_queue.py and README.md here).

The port promises only what SQS FIFO keeps: no per-message delay on send, a depth that is
approximate (checked here once it has had DEPTH_SETTLES_WITHIN_SECONDS to settle), and dead
letters read from the dead-letter queue, which may not know why or exactly when a message
died (DEAD_LETTERS_KNOW_WHY)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from incident_response.domain.messages import Delivery, QueueMessage
from incident_response.ports import EventQueue
from tests.support.clock import ManualClock

VISIBILITY = 30.0


def message(n: int | str, type: str = "ALERT_RECEIVED") -> QueueMessage:
    return QueueMessage(type=type, payload={"n": n}, trace={"traceparent": f"00-{n}"})


def numbers(deliveries: list[Delivery]) -> list[object]:
    return [d.body.payload["n"] for d in deliveries]


class EventQueueContract:
    MAX_RECEIVES = 3
    DEDUP_WINDOW_SECONDS = 300.0
    # an approximate depth (SQS's) may lag: how long it gets to show the settled count
    DEPTH_SETTLES_WITHIN_SECONDS = 0.0
    # whether a dead letter keeps the last error and the moment it died (an SQS DLQ does not)
    DEAD_LETTERS_KNOW_WHY = True

    @pytest.fixture
    def queue(self) -> EventQueue:
        raise NotImplementedError("the adapter's test class provides a `queue` fixture")

    async def send(self, queue: EventQueue, n: int | str, group: str = "g1") -> bool:
        return await queue.send(message(n), group_id=group, dedup_id=f"d-{n}")

    async def assert_depth(self, queue: EventQueue, expected: int) -> None:
        """`depth()` is approximate: it must reach `expected` once the queue is quiet."""
        depth = await queue.depth()
        for _ in range(round(self.DEPTH_SETTLES_WITHIN_SECONDS * 10)):
            if depth == expected:
                break
            await asyncio.sleep(0.1)
            depth = await queue.depth()
        assert depth == expected

    async def receive(self, queue: EventQueue, max_messages: int = 10) -> list[Delivery]:
        return await queue.receive(max_messages=max_messages, visibility_timeout=VISIBILITY)

    async def test_implements_the_port(self, queue: EventQueue) -> None:
        assert isinstance(queue, EventQueue)

    async def test_a_sent_message_is_received_whole(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        sent_at = clock.now()
        assert await self.send(queue, 1, group="inc-1") is True
        clock.advance(2)

        [delivery] = await self.receive(queue)

        assert delivery.body == message(1)
        assert (delivery.group_id, delivery.receive_count) == ("inc-1", 1)
        assert delivery.sent_at == sent_at
        assert delivery.message_id
        assert delivery.receipt

    async def test_an_empty_queue_gives_nothing(self, queue: EventQueue) -> None:
        assert await self.receive(queue) == []
        await self.assert_depth(queue, 0)

    async def test_a_dedup_id_sent_again_within_the_window_is_dropped(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        assert await queue.send(message("a"), group_id="g1", dedup_id="same") is True
        clock.advance(self.DEDUP_WINDOW_SECONDS - 1)
        assert await queue.send(message("b"), group_id="g2", dedup_id="same") is False
        await self.assert_depth(queue, 1)

        clock.advance(2)
        assert await queue.send(message("c"), group_id="g1", dedup_id="same") is True
        await self.assert_depth(queue, 2)

    async def test_dedup_is_by_id_not_by_body(self, queue: EventQueue) -> None:
        assert await queue.send(message(1), group_id="g1", dedup_id="x") is True
        assert await queue.send(message(1), group_id="g1", dedup_id="y") is True

        await self.assert_depth(queue, 2)

    async def test_a_group_delivers_one_at_a_time_in_send_order(self, queue: EventQueue) -> None:
        for n in range(1, 4):
            await self.send(queue, n)

        seen = []
        while batch := await self.receive(queue):
            assert len(batch) == 1
            assert await self.receive(queue) == []  # the group is blocked while one is in flight
            seen += numbers(batch)
            await queue.ack(batch[0])

        assert seen == [1, 2, 3]

    async def test_a_busy_group_does_not_block_other_groups(self, queue: EventQueue) -> None:
        await self.send(queue, "a1", group="a")
        await self.send(queue, "a2", group="a")
        await self.send(queue, "b1", group="b")
        await self.send(queue, "c1", group="c")

        first = await self.receive(queue, max_messages=10)

        assert sorted(numbers(first)) == ["a1", "b1", "c1"]
        [late] = [d for d in first if d.group_id == "a"]
        await queue.ack(late)
        assert numbers(await self.receive(queue)) == ["a2"]

    async def test_max_messages_caps_a_batch(self, queue: EventQueue) -> None:
        for n in range(5):
            await self.send(queue, n, group=f"g{n}")

        assert len(await self.receive(queue, max_messages=2)) == 2
        assert len(await self.receive(queue, max_messages=10)) == 3

    async def test_an_unacked_message_comes_back_after_its_visibility_timeout(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        [first] = await self.receive(queue)

        clock.advance(VISIBILITY - 1)
        assert await self.receive(queue) == []
        clock.advance(2)
        [again] = await self.receive(queue)

        assert again.message_id == first.message_id
        assert again.receive_count == 2
        assert again.receipt != first.receipt
        assert again.body == first.body

    async def test_ack_removes_the_message_and_a_second_ack_is_harmless(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        [delivery] = await self.receive(queue)

        await queue.ack(delivery)
        await queue.ack(delivery)

        await self.assert_depth(queue, 0)
        clock.advance(VISIBILITY * 10)
        assert await self.receive(queue) == []

    async def test_an_ack_with_a_stale_receipt_changes_nothing(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        await self.send(queue, 2)
        [stale] = await self.receive(queue)
        clock.advance(VISIBILITY + 1)
        [current] = await self.receive(queue)

        await queue.ack(stale)

        await self.assert_depth(queue, 2)
        assert await self.receive(queue) == []  # the redelivered copy is still in flight
        await queue.ack(current)
        assert numbers(await self.receive(queue)) == [2]

    async def test_a_send_takes_no_delay(self, queue: EventQueue) -> None:
        """FIFO queues have no per-message delay: a message that must wait is a Schedule."""
        delayed: dict[str, Any] = {"delay_seconds": 60}

        with pytest.raises(TypeError):
            await queue.send(message(1), group_id="g1", dedup_id="d-1", **delayed)

        await self.assert_depth(queue, 0)

    async def test_retry_makes_the_message_visible_after_the_delay(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        await self.send(queue, 2)
        [delivery] = await self.receive(queue)

        await queue.retry(delivery, error="Slack timed out", delay_seconds=10)

        clock.advance(9)
        assert await self.receive(queue) == []
        clock.advance(2)
        [again] = await self.receive(queue)
        assert (numbers([again]), again.receive_count) == ([1], 2)

    async def test_retry_with_a_stale_receipt_changes_nothing(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        [stale] = await self.receive(queue)
        clock.advance(VISIBILITY + 1)
        [current] = await self.receive(queue)

        await queue.retry(stale, error="late worker", delay_seconds=0)

        assert await self.receive(queue) == []
        await queue.ack(current)
        await self.assert_depth(queue, 0)

    async def test_extending_the_visibility_keeps_an_in_flight_message_hidden(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        [delivery] = await self.receive(queue)
        clock.advance(VISIBILITY - 10)

        assert await queue.extend_visibility(delivery, seconds=VISIBILITY) is True

        clock.advance(20)  # past the first timeout
        assert await self.receive(queue) == []
        clock.advance(VISIBILITY)
        [again] = await self.receive(queue)
        assert (again.message_id, again.receive_count) == (delivery.message_id, 2)

    async def test_a_heartbeat_keeps_a_long_handler_s_message_from_redelivery_and_dead_letters(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, "slow")
        [delivery] = await self.receive(queue)
        for _ in range(self.MAX_RECEIVES * 3):  # far longer than MAX_RECEIVES timeouts
            clock.advance(VISIBILITY * 2 / 3)
            assert await queue.extend_visibility(delivery, seconds=VISIBILITY) is True
            assert await self.receive(queue) == []

        await queue.ack(delivery)

        assert await queue.dead_letters() == []
        await self.assert_depth(queue, 0)

    async def test_extending_with_a_stale_receipt_is_refused_and_changes_nothing(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        [stale] = await self.receive(queue)
        clock.advance(VISIBILITY + 1)
        [current] = await self.receive(queue)

        assert await queue.extend_visibility(stale, seconds=VISIBILITY * 10) is False

        clock.advance(VISIBILITY + 1)
        [third] = await self.receive(queue)
        assert (third.message_id, third.receive_count) == (current.message_id, 3)

    async def test_a_message_whose_visibility_ran_out_cannot_be_extended(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, 1)
        [delivery] = await self.receive(queue)
        clock.advance(VISIBILITY + 1)

        assert await queue.extend_visibility(delivery, seconds=VISIBILITY) is False
        assert numbers(await self.receive(queue)) == [1]

    async def test_an_acked_or_retried_message_cannot_be_extended(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, "acked", group="a")
        await self.send(queue, "retried", group="b")
        batch = {d.body.payload["n"]: d for d in await self.receive(queue)}
        await queue.ack(batch["acked"])
        await queue.retry(batch["retried"], error="boom", delay_seconds=60)

        assert await queue.extend_visibility(batch["acked"], seconds=VISIBILITY) is False
        assert await queue.extend_visibility(batch["retried"], seconds=3600) is False

        clock.advance(61)
        assert numbers(await self.receive(queue)) == ["retried"]

    async def test_extending_by_zero_makes_the_message_visible_at_once(
        self, queue: EventQueue
    ) -> None:
        await self.send(queue, 1)
        [delivery] = await self.receive(queue)

        assert await queue.extend_visibility(delivery, seconds=0) is True

        [again] = await self.receive(queue)
        assert again.receive_count == 2

    @pytest.mark.parametrize("seconds", [-1.0, float("inf"), float("nan"), 43_200.5])
    async def test_an_extension_sqs_would_refuse_is_refused(
        self, queue: EventQueue, clock: ManualClock, seconds: float
    ) -> None:
        await self.send(queue, 1)
        [delivery] = await self.receive(queue)

        with pytest.raises(ValueError, match="seconds"):
            await queue.extend_visibility(delivery, seconds=seconds)

        clock.advance(VISIBILITY + 1)
        assert numbers(await self.receive(queue)) == [1]

    async def test_a_message_failing_max_receives_times_is_dead_lettered(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, "poison")
        await self.send(queue, "next")
        for attempt in range(1, self.MAX_RECEIVES + 1):
            [delivery] = await self.receive(queue)
            assert (numbers([delivery]), delivery.receive_count) == (["poison"], attempt)
            await queue.retry(delivery, error=f"KeyError: attempt {attempt}")

        [dead] = await queue.dead_letters()
        assert dead.body == message("poison")
        assert (dead.group_id, dead.receive_count) == ("g1", self.MAX_RECEIVES)
        if self.DEAD_LETTERS_KNOW_WHY:
            assert dead.last_error == f"KeyError: attempt {self.MAX_RECEIVES}"
            assert dead.dead_at == clock.now()
        await self.assert_depth(queue, 1)
        assert numbers(await self.receive(queue)) == ["next"]

    async def test_a_message_that_keeps_crashing_its_worker_is_dead_lettered(
        self, queue: EventQueue, clock: ManualClock
    ) -> None:
        await self.send(queue, "crashes")
        await self.send(queue, "next")
        for _ in range(self.MAX_RECEIVES):
            assert numbers(await self.receive(queue)) == ["crashes"]
            clock.advance(VISIBILITY + 1)  # the worker died without ack or retry

        assert numbers(await self.receive(queue)) == ["next"]
        [dead] = await queue.dead_letters()
        assert (dead.body, dead.receive_count) == (message("crashes"), self.MAX_RECEIVES)

    async def test_one_receive_never_hands_out_a_message_twice(self, queue: EventQueue) -> None:
        await self.send(queue, "b1", group="b")
        await self.send(queue, "b2", group="b")
        for _ in range(self.MAX_RECEIVES):  # zero visibility: visible again at once
            assert numbers(await queue.receive(visibility_timeout=0)) == ["b1"]
        await self.send(queue, "a1", group="a")

        batch = await queue.receive(max_messages=10, visibility_timeout=0)

        assert sorted(numbers(batch)) == ["a1", "b2"]
        assert [d.body for d in await queue.dead_letters()] == [message("b1")]

    async def test_max_messages_holds_when_a_receive_dead_letters_on_the_way(
        self, queue: EventQueue
    ) -> None:
        await self.send(queue, "poison", group="p")
        for _ in range(self.MAX_RECEIVES):
            await queue.receive(visibility_timeout=0)
        for group in ("a", "b", "c"):
            await self.send(queue, group, group=group)

        batch = await self.receive(queue, max_messages=2)

        assert len(batch) == 2
        assert len(await queue.dead_letters()) == 1

    async def test_depth_counts_waiting_and_in_flight_but_not_dead(self, queue: EventQueue) -> None:
        await self.send(queue, "poison", group="p")
        await self.send(queue, 1, group="g")
        await self.send(queue, 2, group="g")
        await self.assert_depth(queue, 3)

        for _ in range(self.MAX_RECEIVES):
            [poison] = [d for d in await self.receive(queue) if d.group_id == "p"]
            await self.assert_depth(queue, 3)  # message 1 stays in flight, never acked
            await queue.retry(poison, error="boom")

        await self.assert_depth(queue, 2)
        assert len(await queue.dead_letters()) == 1

    async def test_receive_waits_for_a_message_sent_meanwhile(self, queue: EventQueue) -> None:
        waiting = asyncio.create_task(
            queue.receive(max_messages=1, visibility_timeout=VISIBILITY, wait_seconds=5)
        )
        await asyncio.sleep(0.05)
        started = time.monotonic()

        await self.send(queue, 1)
        got = await asyncio.wait_for(waiting, timeout=5)

        assert numbers(got) == [1]
        assert time.monotonic() - started < 1

    async def test_receive_returns_at_once_when_a_message_is_ready(self, queue: EventQueue) -> None:
        await self.send(queue, 1)
        started = time.monotonic()

        got = await queue.receive(visibility_timeout=VISIBILITY, wait_seconds=5)

        assert numbers(got) == [1]
        assert time.monotonic() - started < 1

    async def test_receive_gives_up_after_wait_seconds(self, queue: EventQueue) -> None:
        started = time.monotonic()

        got = await queue.receive(visibility_timeout=VISIBILITY, wait_seconds=0.2)

        assert got == []
        assert 0.15 <= time.monotonic() - started < 2

    @pytest.mark.parametrize(("group", "dedup"), [("", "d"), ("g", "")])
    async def test_a_bad_send_is_refused_and_enqueues_nothing(
        self, queue: EventQueue, group: str, dedup: str
    ) -> None:
        with pytest.raises(ValueError, match=r"group_id|dedup_id"):
            await queue.send(message(1), group_id=group, dedup_id=dedup)

        await self.assert_depth(queue, 0)

    @pytest.mark.parametrize(
        "kwargs",
        [{"max_messages": 0}, {"visibility_timeout": -1.0}, {"wait_seconds": -1.0}],
    )
    async def test_a_bad_receive_is_refused(
        self, queue: EventQueue, kwargs: dict[str, float]
    ) -> None:
        await self.send(queue, 1)

        with pytest.raises(ValueError, match=next(iter(kwargs))):
            await queue.receive(**kwargs)  # type: ignore[arg-type]

        assert numbers(await self.receive(queue)) == [1]
