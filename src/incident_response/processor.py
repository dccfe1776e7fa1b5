"""The processor: drains the EventQueue through the EventRegistry and runs the upkeep's tick
(timers are not its business: the Scheduler puts due messages on the queue by itself).

Messages are acked only after their handler returns, so a crash (even SIGKILL) mid-handler leaves
the message to reappear after its visibility timeout: at-least-once, with idempotent handlers.
A failed handler's message is retried with backoff and dead-lettered after the queue's maximum.

A handler may outlive the visibility timeout (a paced Slack call in a storm can take minutes), so
while it runs a heartbeat extends its message's visibility every third of the timeout: it is
neither handed to a second worker nor counted towards the dead-letter maximum while still being
worked on. The heartbeat is part of the handler's task, so it dies with the process and a crashed
handler's message still comes back after one timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from incident_response.domain.errors import ConcurrentUpdate, StorageBusy
from incident_response.domain.messages import Delivery
from incident_response.events.registry import EventRegistry, UnknownEvent
from incident_response.ports import EventQueue
from incident_response.telemetry.logging import get_logger
from incident_response.telemetry.tracing import continued

log = get_logger(__name__)

Tick = Callable[[], Awaitable[object]]

MAX_VISIBILITY_SECONDS = 43_200  # what SQS allows
HEARTBEATS_PER_TIMEOUT = 3


class Processor:
    def __init__(
        self,
        *,
        queue: EventQueue,
        registry: EventRegistry,
        tick: Tick | None = None,
        concurrency: int = 16,
        visibility_timeout: float = 60,
        idle_wait: float = 0.05,
        poll_seconds: float = 0.5,
        retry_base_delay: float = 1.0,
        tick_interval: float = 1.0,
    ) -> None:
        if not (0 < visibility_timeout <= MAX_VISIBILITY_SECONDS):
            raise ValueError(
                f"visibility_timeout must be above 0 and at most {MAX_VISIBILITY_SECONDS} s,"
                f" got {visibility_timeout!r}"
            )
        self._queue = queue
        self._registry = registry
        self._tick = tick
        self._concurrency = concurrency
        self._visibility_timeout = visibility_timeout
        self._idle_wait = idle_wait
        self._poll_seconds = poll_seconds
        self._retry_base_delay = retry_base_delay
        self._tick_interval = tick_interval
        self._in_flight: set[asyncio.Task[None]] = set()
        self._stopping = asyncio.Event()
        self._loop_task: asyncio.Task[None] | None = None
        self.processed = 0
        self.failed = 0

    def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self.run(), name="processor")

    async def stop(self, *, grace_seconds: float = 20) -> None:
        """Stop taking messages and let in-flight handlers finish (graceful shutdown)."""
        self._stopping.set()
        if self._loop_task is not None:
            await self._loop_task
            self._loop_task = None
        if self._in_flight:
            log.info("processor.draining", in_flight=len(self._in_flight))
            _, pending = await asyncio.wait(self._in_flight, timeout=grace_seconds)
            for task in pending:
                # not acked: the queue redelivers it after the visibility timeout
                task.cancel()

    async def run(self) -> None:
        last_tick = 0.0
        while not self._stopping.is_set():
            try:
                now = time.monotonic()
                if self._tick is not None and now - last_tick >= self._tick_interval:
                    last_tick = now
                    await self._tick()
                free = self._concurrency - len(self._in_flight)
                # a long-poll: the queue answers as soon as a message is sent, so an alert
                # starts assembling without waiting for a polling interval
                deliveries = (
                    await self._queue.receive(
                        max_messages=min(free, 10),
                        visibility_timeout=self._visibility_timeout,
                        wait_seconds=self._poll_seconds,
                    )
                    if free > 0
                    else []
                )
            except Exception:
                log.exception("processor.receive_failed")
                deliveries = []
            for delivery in deliveries:
                task = asyncio.create_task(
                    self._handle(delivery), name=f"event:{delivery.message_id}"
                )
                self._in_flight.add(task)
                task.add_done_callback(self._in_flight.discard)
            if not deliveries and free <= 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), timeout=self._idle_wait)

    async def drain(self, *, within_seconds: float = 10) -> None:
        """Process until the queue is empty (tests and the benchmark use this)."""
        deadline = time.monotonic() + within_seconds
        while time.monotonic() < deadline:
            if await self._queue.depth() == 0 and not self._in_flight:
                return
            await asyncio.sleep(0.01)
        raise TimeoutError("queue did not drain in time")

    async def _handle(self, delivery: Delivery) -> None:
        started = time.perf_counter()
        heartbeat = asyncio.create_task(
            self._keep_invisible(delivery), name=f"heartbeat:{delivery.message_id}"
        )
        try:
            error = await self._run(delivery)
        finally:
            heartbeat.cancel()  # also when cancelled: a dead handler's message must come back
        try:
            if error is None:
                await self._queue.ack(delivery)
            else:
                await self._queue.retry(
                    delivery, error=error, delay_seconds=self._backoff(delivery)
                )
        except Exception:
            # not settled: the message comes back after its visibility timeout
            log.exception("event.settle_failed", message_id=delivery.message_id)
            return
        if error is None:
            self.processed += 1
            log.info(
                "event.processed",
                event_type=delivery.body.type,
                group_id=delivery.group_id,
                duration_ms=round((time.perf_counter() - started) * 1000, 1),
            )

    async def _run(self, delivery: Delivery) -> str | None:
        """Dispatch to the handler; the error to retry with, or None when it succeeded."""
        event_type = delivery.body.type
        try:
            # the sender's trace goes on across the queue hop (W3C traceparent in the message)
            with continued(
                delivery.body.trace,
                f"process {event_type}",
                consumer=True,
                receive_count=delivery.receive_count,
            ):
                await self._registry.dispatch(delivery.body)
        except UnknownEvent as exc:
            self.failed += 1
            log.error("event.unknown", event_type=event_type, message_id=delivery.message_id)
            return str(exc)
        except (ConcurrentUpdate, StorageBusy) as exc:
            # expected under load (another worker changed the incident, storage is busy): the
            # message comes back and the handler, idempotent, tries again; no traceback
            self.failed += 1
            log.warning(
                "event.contended",
                event_type=event_type,
                message_id=delivery.message_id,
                receive_count=delivery.receive_count,
                error=str(exc),
            )
            return f"{type(exc).__name__}: {exc}"
        except Exception as exc:
            self.failed += 1
            log.exception(
                "event.failed",
                event_type=event_type,
                message_id=delivery.message_id,
                receive_count=delivery.receive_count,
            )
            return f"{type(exc).__name__}: {exc}"
        return None

    async def _keep_invisible(self, delivery: Delivery) -> None:
        """Extend the message's visibility while its handler runs (cancelled when it ends)."""
        every = self._visibility_timeout / HEARTBEATS_PER_TIMEOUT
        while True:
            await asyncio.sleep(every)
            try:
                kept = await self._queue.extend_visibility(
                    delivery, seconds=self._visibility_timeout
                )
            except Exception as exc:
                # transient (storage busy): the next beat, a third of a timeout on, tries again
                log.warning(
                    "event.heartbeat_failed",
                    message_id=delivery.message_id,
                    error=f"{type(exc).__name__}: {exc}",
                )
                continue
            if not kept:
                # another worker may receive it now; our ack or retry will be a stale no-op
                log.warning(
                    "event.visibility_lost",
                    event_type=delivery.body.type,
                    message_id=delivery.message_id,
                )
                return

    def _backoff(self, delivery: Delivery) -> float:
        return float(self._retry_base_delay * 2 ** max(delivery.receive_count - 1, 0))
