"""The SQS FIFO EventQueue against the EventQueue suite, over real HTTP on a moto server.

The suite moves its ManualClock past visibility timeouts, retry delays and the dedup window; the
moto server here moves SQS's clock with it (tests/support/clocked_moto.py), so the suite runs
unchanged. The tests after the suite check the same timers in real seconds on that server, and
what only SQS does (hashed ids, redrive by SQS, messages put by EventBridge). The port has no
per-message delay (FIFO queues have none; the Scheduler delays).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from incident_response.adapters.aws.sqs_queue import SqsEventQueue, create_fifo_queue, sqs_client
from incident_response.domain.messages import QueueMessage
from tests.contract.event_queue_suite import EventQueueContract, message, numbers
from tests.support.clock import ManualClock
from tests.support.clocked_moto import MovableClock
from tests.support.moto_server import MotoServer


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoServer]:
    """moto with an SQS clock the suite's ManualClock moves (tests/support/clocked_moto.py)."""
    with MotoServer.started(module="tests.support.clocked_moto") as server:
        yield server


@pytest.fixture(scope="module")
def sqs(aws: MotoServer) -> Iterator[Any]:
    """The adapter's own client factory, reaching moto through AWS_ENDPOINT_URL alone."""
    with pytest.MonkeyPatch.context() as patch:
        for key, value in aws.environ().items():
            patch.setenv(key, value)
        yield sqs_client(region=aws.region)


@pytest.fixture
def clock(aws: MotoServer) -> MovableClock:
    """Moving the service's clock moves SQS's: visibility timeouts, retries and the dedup
    window pass in the suite as they would in real time."""
    return MovableClock(aws.url)


class TestSqsEventQueue(EventQueueContract):
    @pytest.fixture
    async def queue(self, aws: MotoServer, sqs: Any, clock: ManualClock) -> SqsEventQueue:
        aws.reset()
        url = create_fifo_queue(sqs, "events", max_receives=self.MAX_RECEIVES)
        return await SqsEventQueue(sqs, queue_url=url, clock=clock).open()


# -- SQS FIFO behaviour in real seconds (moto keeps SQS's timers on its own clock) ----------


@pytest.fixture
def client(aws: MotoServer, sqs: Any) -> Any:
    aws.reset()
    return sqs


async def open_queue(client: Any, clock: ManualClock, *, max_receives: int = 3) -> SqsEventQueue:
    url = await asyncio.to_thread(create_fifo_queue, client, "events", max_receives=max_receives)
    return await SqsEventQueue(client, queue_url=url, clock=clock).open()


async def test_each_incident_s_events_come_out_in_order_one_at_a_time(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock)
    for n in range(4):
        for group in ("inc-a", "inc-b"):
            await queue.send(message(f"{group}:{n}"), group_id=group, dedup_id=f"{group}-{n}")

    seen: dict[str, list[object]] = {"inc-a": [], "inc-b": []}
    while batch := await queue.receive(max_messages=10, visibility_timeout=30):
        assert len({d.group_id for d in batch}) == len(batch)  # never two of one incident
        for delivery in batch:
            seen[delivery.group_id] += numbers([delivery])
            await queue.ack(delivery)

    assert seen == {g: [f"{g}:{n}" for n in range(4)] for g in seen}
    assert await queue.depth() == 0


async def test_a_duplicate_from_another_replica_is_dropped_by_sqs(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock)
    other = await SqsEventQueue(client, queue_url=queue._url, clock=clock).open()

    assert await queue.send(message(1), group_id="inc-1", dedup_id="alert-7") is True
    assert await queue.send(message(1), group_id="inc-1", dedup_id="alert-7") is False
    # SQS answers a deduplicated send as it answers a new one: the other replica cannot tell
    assert await other.send(message(1), group_id="inc-1", dedup_id="alert-7") is True

    assert await queue.depth() == 1


async def test_ids_sqs_would_refuse_are_hashed_and_still_group_and_dedup(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock)
    other = await SqsEventQueue(client, queue_url=queue._url, clock=clock).open()
    group, dedup = "incident é/" + "x" * 200, "delivery ü " + "y" * 200

    assert await queue.send(message(1), group_id=group, dedup_id=dedup) is True
    assert await other.send(message(2), group_id=group, dedup_id=dedup) is True
    await queue.send(message(3), group_id=group, dedup_id=dedup + "!")

    [first] = await queue.receive(max_messages=10)
    assert (first.group_id, numbers([first])) == (group, [1])
    await queue.ack(first)
    assert numbers(await queue.receive(max_messages=10)) == [3]


async def test_an_unacked_message_comes_back_after_its_visibility_timeout(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock)
    await queue.send(message(1), group_id="g", dedup_id="d")
    [first] = await queue.receive(visibility_timeout=1)
    assert await queue.receive() == []

    [again] = await queue.receive(visibility_timeout=30, wait_seconds=5)

    assert (again.message_id, again.receive_count) == (first.message_id, 2)


async def test_a_heartbeat_keeps_the_message_past_its_timeout_and_stops_after_ack(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock, max_receives=2)
    await queue.send(message("slow"), group_id="g", dedup_id="d")
    [delivery] = await queue.receive(visibility_timeout=1)

    for _ in range(3):  # three timeouts long, past max_receives
        assert await queue.extend_visibility(delivery, seconds=2) is True
        await asyncio.sleep(1.1)
        assert await queue.receive() == []

    await queue.ack(delivery)
    assert await queue.extend_visibility(delivery, seconds=2) is False
    assert await queue.dead_letters() == []
    assert await queue.depth() == 0


async def test_a_retried_message_cannot_be_extended_and_comes_back_after_the_delay(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock)
    await queue.send(message(1), group_id="g", dedup_id="d")
    [delivery] = await queue.receive()

    await queue.retry(delivery, error="Slack timed out", delay_seconds=1)

    assert await queue.extend_visibility(delivery, seconds=600) is False
    assert await queue.receive() == []
    [again] = await queue.receive(wait_seconds=5)
    assert (again.message_id, again.receive_count) == (delivery.message_id, 2)


async def test_a_crash_looping_message_is_moved_to_the_dlq_by_sqs_after_n_receives(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock, max_receives=2)
    await queue.send(message("crashes"), group_id="inc-1", dedup_id="d1")
    await queue.send(message("next"), group_id="inc-1", dedup_id="d2")
    for attempt in (1, 2):  # the worker dies: no ack, no retry (zero visibility: back at once)
        [delivery] = await queue.receive(visibility_timeout=0)
        assert (numbers([delivery]), delivery.receive_count) == (["crashes"], attempt)

    assert numbers(await queue.receive()) == ["next"]
    [dead] = await queue.dead_letters()
    assert (dead.body, dead.group_id, dead.receive_count) == (message("crashes"), "inc-1", 2)
    assert dead.last_error is None  # SQS's redrive keeps no error


async def test_dead_letters_are_read_without_being_consumed(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock, max_receives=1)
    await queue.send(message("poison"), group_id="inc-1", dedup_id="d")
    [delivery] = await queue.receive()
    await queue.retry(delivery, error="KeyError: 'service'")

    first = await queue.dead_letters()
    second = await queue.dead_letters()

    assert first == second
    assert [(d.body, d.last_error, d.dead_at) for d in first] == [
        (message("poison"), "KeyError: 'service'", clock.now())
    ]
    assert await queue.depth() == 0


async def test_a_queue_without_fifo_or_redrive_is_refused(client: Any, clock: ManualClock) -> None:
    plain = client.create_queue(QueueName="plain")["QueueUrl"]
    fifo = client.create_queue(QueueName="bare.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]

    with pytest.raises(ValueError, match="not a FIFO queue"):
        await SqsEventQueue(client, queue_url=plain, clock=clock).open()
    with pytest.raises(ValueError, match="no RedrivePolicy"):
        await SqsEventQueue(client, queue_url=fifo, clock=clock).open()


async def test_a_message_from_elsewhere_is_read_with_sqs_s_own_attributes(
    client: Any, clock: ManualClock
) -> None:
    """A schedule (EventBridge Scheduler) puts the bare body with a MessageGroupId."""
    queue = await open_queue(client, clock)
    body = QueueMessage(type="STATUS_UPDATE_NUDGE", payload={"incident_id": "inc-1"})
    client.send_message(
        QueueUrl=queue._url,
        MessageBody=body.model_dump_json(),
        MessageGroupId="inc-1",
        MessageDeduplicationId="nudge-1",
    )

    [delivery] = await queue.receive()

    assert (delivery.body, delivery.group_id, delivery.receive_count) == (body, "inc-1", 1)


async def test_an_unreadable_body_is_left_for_the_dlq_and_does_not_hold_up_the_rest(
    client: Any, clock: ManualClock
) -> None:
    queue = await open_queue(client, clock, max_receives=1)
    client.send_message(
        QueueUrl=queue._url, MessageBody="not json", MessageGroupId="x", MessageDeduplicationId="x"
    )
    await queue.send(message("fine"), group_id="inc-1", dedup_id="d")

    assert numbers(await queue.receive(max_messages=10, visibility_timeout=0)) == ["fine"]
