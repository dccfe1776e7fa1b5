"""AlertIntake: record each delivery once and hand it to the queue, fast and vendor-free.

Recording comes first and is insert-if-absent by delivery id, so the same delivery posted twice
(or ten times at once) is one record. A delivery is enqueued when it is new, and again when it
was recorded but never processed: a crash between record and send must not lose it, and the
queue's dedup id (the delivery id) keeps a resend from becoming a second message.

Storage shared with another process (the processor role on the same data dir) can be busy for a
moment: each step is tried again until `busy_budget_seconds` is spent, well inside the 4 s a
sender waits, and then `StorageBusy` tells the webhook to answer 503 so the sender sends again.
Every step is idempotent, so a resend completes whatever the first attempt got through.

The FIFO group is the storm-grouping key when the alert has those labels: alerts of one storm are
then handled one after another, so the IncidentOpener attaches them to the first incident
instead of racing to open several.

| AlertEventKind                 | queue message  |
|--------------------------------|----------------|
| FIRING                         | ALERT_RECEIVED |
| RESOLVED                       | ALERT_RESOLVED |
| ACKNOWLEDGED, SILENCED, UPDATED| none: recorded only, the incident does not change |
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import TypeVar

from incident_response.domain.alert import (
    DEFAULT_SEVERITY_MAP,
    Alert,
    AlertEventKind,
    Severity,
    grouping_key,
)
from incident_response.domain.clock import Clock
from incident_response.domain.errors import InvalidAlert, StorageBusy
from incident_response.domain.messages import EventType, QueueMessage
from incident_response.intake.registry import PARSERS, AlertParser
from incident_response.ports import EventQueue, IncidentStore
from incident_response.telemetry.tracing import carrier, continued

MESSAGE_TYPES: Mapping[AlertEventKind, EventType] = {
    AlertEventKind.FIRING: EventType.ALERT_RECEIVED,
    AlertEventKind.RESOLVED: EventType.ALERT_RESOLVED,
}

TRACE_HEADERS = ("traceparent", "tracestate")

T = TypeVar("T")

BUSY_BUDGET_SECONDS = 3.0
_FIRST_PAUSE_SECONDS = 0.02
_LONGEST_PAUSE_SECONDS = 0.4

# SQS FIFO group ids: at most 128 characters, letters, digits and punctuation.
_GROUP_ID = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")


@dataclass(frozen=True)
class IntakeResult:
    accepted: int
    duplicates: int


class AlertIntake:
    def __init__(
        self,
        *,
        store: IncidentStore,
        queue: EventQueue,
        clock: Clock,
        parsers: Mapping[str, AlertParser] = PARSERS,
        severity_map: Mapping[str, Severity] = DEFAULT_SEVERITY_MAP,
        grouping_labels: Sequence[str] = ("service", "alertname"),
        busy_budget_seconds: float = BUSY_BUDGET_SECONDS,
    ) -> None:
        self._store = store
        self._busy_budget = busy_budget_seconds
        self._queue = queue
        self._clock = clock
        self._parsers = parsers
        self._severity_map = severity_map
        self._grouping_labels = tuple(grouping_labels)

    @property
    def sources(self) -> list[str]:
        return sorted(self._parsers)

    async def accept(
        self, source: str, body: bytes, headers: Mapping[str, str] | None = None
    ) -> IntakeResult:
        """Parse, record and enqueue one webhook body; InvalidAlert (nothing stored) if it is bad,
        StorageBusy if storage stayed busy for the whole budget (send the body again)."""
        parser = self._parsers.get(source)
        if parser is None:
            raise InvalidAlert("source", f"unknown alert source {source!r}")
        alerts = parser(body, received_at=self._clock.now(), severity_map=self._severity_map)
        incoming = _trace_context(headers or {})
        # the trace of an alert starts here (continuing the sender's, if it sent one) and
        # rides the queue message to the processor (telemetry.tracing)
        with continued(incoming, "alert intake", consumer=False, source=source):
            trace = carrier(fallback=incoming)
            patiently = _Patience(self._busy_budget)
            accepted = duplicates = 0
            for alert in alerts:
                new = await patiently(partial(self._store.record_alert, alert))
                if new:
                    accepted += 1
                else:
                    duplicates += 1
                    if await patiently(partial(self._store.alert_processed, alert.delivery_id)):
                        continue
                await patiently(partial(self._enqueue, alert, trace))
        return IntakeResult(accepted=accepted, duplicates=duplicates)

    async def requeue_unprocessed(self, *, older_than: timedelta, window: timedelta) -> int:
        """Send again what was recorded between `window` and `older_than` ago and is still not
        processed: the outbox relay. A delivery recorded just before storage went busy (the
        sender got a 503, and Grafana OnCall does not resend those) would otherwise wait
        forever. A message still in the queue is deduplicated by its id (for the queue's
        window) and a duplicate past it is a no-op for the processor, so sending again is
        safe. Each delivery is relayed once: a message that keeps failing ends in the dead
        letters instead of going round. The window bounds how far back the relay looks."""
        now = self._clock.now()
        requeued = 0
        for alert in await self._store.unprocessed_alerts(
            kinds=MESSAGE_TYPES.keys(),
            recorded_after=now - window,
            recorded_before=now - older_than,
        ):
            await self._enqueue(alert, {})
            await self._store.mark_alert_requeued(alert.delivery_id)
            requeued += 1
        return requeued

    def group_for(self, alert: Alert) -> str:
        """The FIFO group: the storm-grouping key when the alert has those labels."""
        key = grouping_key(alert.labels, self._grouping_labels) or alert.alert_group_key
        if _GROUP_ID.match(key):
            return key
        return "group-" + hashlib.sha256(key.encode()).hexdigest()[:40]

    async def _enqueue(self, alert: Alert, trace: dict[str, str]) -> None:
        message_type = MESSAGE_TYPES.get(alert.kind)
        if message_type is None:
            return
        # the raw body stays in the store: a queue message must fit SQS's 256 KiB
        message = QueueMessage(
            type=message_type.value,
            payload=alert.model_dump(mode="json", exclude={"raw"}),
            trace=trace,
        )
        await self._queue.send(message, group_id=self.group_for(alert), dedup_id=alert.delivery_id)


class _Patience:
    """Runs storage steps against one shared deadline, pausing after each StorageBusy (with
    jitter, so two processes do not retry in step). A step still running at the deadline is
    cancelled; a write transaction is all or nothing, so the step is then done or not done."""

    def __init__(self, budget_seconds: float) -> None:
        self._budget = budget_seconds
        self._deadline = asyncio.get_running_loop().time() + budget_seconds

    async def __call__(self, step: Callable[[], Awaitable[T]]) -> T:
        loop = asyncio.get_running_loop()
        pause = _FIRST_PAUSE_SECONDS
        while True:
            timeout = asyncio.timeout_at(self._deadline)
            try:
                async with timeout:
                    return await step()
            except TimeoutError:
                if not timeout.expired():
                    raise
                raise StorageBusy(
                    f"storage stayed busy for {self._budget:g} s; nothing more was stored"
                ) from None
            except StorageBusy:
                wait = pause * random.uniform(0.5, 1.0)
                if loop.time() + wait >= self._deadline:
                    raise
                await asyncio.sleep(wait)
                pause = min(pause * 2, _LONGEST_PAUSE_SECONDS)


def _trace_context(headers: Mapping[str, str]) -> dict[str, str]:
    lowered = {k.lower(): v for k, v in headers.items()}
    return {name: lowered[name] for name in TRACE_HEADERS if lowered.get(name)}
