"""Kill the processor at random moments during an alert storm: every alert ends up in exactly one
incident, none in two (two war rooms for one alert), none in none.

The storm is 80 Grafana OnCall alerts from 40 services, under the default cap of 10 new incidents
a minute, so alerts open incidents, join a storm's incident, join their alert group's incident
and are attached under the cap to the newest open incident. A webhook "process" takes them in
batches; the processor "process" (the real Processor, registry and IncidentOpener on SQLite)
dies at random numbered moments: just before or just after one of its store or audit calls.
A dead process does nothing more (each later call raises too), and the next one starts, with
new adapters and a new opener, once the queue's visibility timeout has passed on the test's clock.
The processes share one database connection, so SQLite's file lock between processes is not what
the test measures; a death falls between two calls, never inside a transaction, so a restarted
process's own connection would find the same data.
"""

from __future__ import annotations

import asyncio
import gc
import inspect
import json
import os
import random
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import structlog

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.alert import DEFAULT_SEVERITY_MAP
from incident_response.events.alert_received import AlertReceived
from incident_response.events.alert_resolved import AlertResolved
from incident_response.events.registry import EventRegistry
from incident_response.intake import grafana_oncall
from incident_response.intake.service import AlertIntake
from incident_response.processor import Processor
from incident_response.services.incident_opener import IncidentOpener
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock
from tests.unit.intake.examples import encode, oncall_body

RUNS = int(os.environ.get("STORM_CRASH_RUNS", "50"))
ALERTS = 80
BATCH = 8
VISIBILITY_TIMEOUT = 60
# a crash-free storm has 1,800 to 2,800 moments (two per store or audit call, more when a
# compare-and-set is lost): deaths are chosen among the first 1,700, so the first always comes
MOMENTS = 1_700


class Crash(BaseException):
    """The process died: not an Exception, so nothing in the code under test can catch it."""


class Fate:
    """Counts the processor's moments and kills it at the chosen ones."""

    def __init__(self, deaths: list[int]) -> None:
        self.deaths = sorted(deaths)
        self.moments = 0
        self.dead = False
        self.kills = 0

    def check(self, call: str) -> None:
        if self.dead:
            raise Crash(f"{call} in a dead process")

    def moment(self, call: str) -> None:
        self.check(call)
        self.moments += 1
        if self.deaths and self.moments >= self.deaths[0]:
            self.deaths.pop(0)
            self.dead = True
            self.kills += 1
            raise Crash(call)


class Mortal:
    """An adapter in the processor process: each call is two moments it may die at."""

    def __init__(self, inner: Any, fate: Fate, *, moments: bool = True) -> None:
        self._inner = inner
        self._fate = fate
        self._moments = moments

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if not inspect.iscoroutinefunction(attr):
            return attr
        fate, moments = self._fate, self._moments

        async def call(*args: Any, **kwargs: Any) -> Any:
            (fate.moment if moments else fate.check)(name)
            result = await attr(*args, **kwargs)
            (fate.moment if moments else fate.check)(name)
            return result

        return call


@pytest.fixture(autouse=True)
def quiet_logs() -> Iterator[None]:
    """The processor logs every event; rendering them all would be most of the time."""
    with structlog.testing.capture_logs():
        yield


@pytest.fixture(autouse=True)
async def dead_tasks_unmourned() -> AsyncIterator[None]:
    """The handler tasks a death ends are never awaited (the processor keeps only live ones):
    their Crash is expected, anything else still reaches the default handler."""
    loop = asyncio.get_running_loop()

    def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        if not isinstance(context.get("exception"), Crash):
            loop.default_exception_handler(context)

    loop.set_exception_handler(handler)
    yield
    gc.collect()  # while the handler is still in place
    loop.set_exception_handler(None)


class NeverAsks:
    async def ask_to_resolve(self, incident_id: str) -> bool:
        return False


def storm(clock: ManualClock) -> list[dict[str, Any]]:
    """80 bodies: every tenth re-fires an alert group seen seven alerts before; the rest are new
    alert groups from 40 services (two alert groups per service, so storms form)."""
    bodies = []
    for n in range(ALERTS):
        if n % 10 == 9:
            group, event = f"STORM{n - 7:02}", "unresolve"
        else:
            group, event = f"STORM{n:02}", "alert group created"
        service = f"svc-{int(group[5:]) % 40}"
        labels = {"alertname": "Down", "service": service, "severity": "critical"}
        at = clock.now().replace(microsecond=n)  # distinct delivery ids
        bodies.append(oncall_body(event, group=group, labels=labels, at=at))
    return bodies


class ProcessorProcess:
    """One life of the processor process: its own adapters, opener and Processor."""

    def __init__(self, db: Database, clock: ManualClock, fate: Fate) -> None:
        self.db = db
        self.clock = clock
        self.fate = fate

    async def start(self) -> ProcessorProcess:
        store = await SqliteIncidentStore(db=self.db, clock=self.clock).open()
        audit = await SqliteAuditLog(db=self.db, clock=self.clock, key=AUDIT_KEY).open()
        self.queue = await SqliteEventQueue(db=self.db, clock=self.clock).open()
        opener = IncidentOpener(
            store=Mortal(store, self.fate), audit=Mortal(audit, self.fate), clock=self.clock
        )
        self.processor = Processor(
            queue=Mortal(self.queue, self.fate, moments=False),
            registry=EventRegistry(
                [
                    AlertReceived(opener=opener, assembler=None),
                    AlertResolved(opener=opener, resolver=NeverAsks()),
                ]
            ),
            visibility_timeout=VISIBILITY_TIMEOUT,
            retry_base_delay=0,
            poll_seconds=0.01,
            idle_wait=0.01,
        )
        self.loop = asyncio.create_task(self.processor.run(), name="processor")
        return self

    async def idle(self, within: float = 30) -> None:
        """Until the queue is empty or the process died."""
        deadline = time.monotonic() + within
        while not self.fate.dead:
            if not handlers() and await self.queue.depth() == 0:
                return
            assert time.monotonic() < deadline, "the queue did not drain"
            await asyncio.sleep(0.005)

    async def end(self) -> None:
        if self.fate.dead:  # every task of the dead process ends at its next call
            await asyncio.gather(self.loop, *handlers(), return_exceptions=True)
        else:
            await self.processor.stop()
            await self.loop


def handlers() -> list[asyncio.Task[Any]]:
    return [t for t in asyncio.all_tasks() if t.get_name().startswith("event:") and not t.done()]


async def run_storm(path: Path, deaths: list[int]) -> tuple[Fate, list[str], dict[str, list[str]]]:
    """The storm with the processor dying at `deaths`: (fate, delivery ids, incident -> ids)."""
    clock = ManualClock()
    fate = Fate(deaths)
    bodies = storm(clock)
    db = await Database(path).open()
    try:
        store = await SqliteIncidentStore(db=db, clock=clock).open()
        queue = await SqliteEventQueue(db=db, clock=clock).open()
        webhook = AlertIntake(store=store, queue=queue, clock=clock)
        processor = await ProcessorProcess(db, clock, fate).start()
        for start in range(0, ALERTS, BATCH):
            clock.advance(seconds=15)
            for body in bodies[start : start + BATCH]:
                await webhook.accept("grafana-oncall", encode(body))
            await processor.idle()
            while fate.dead:  # restarted once the lost messages are visible again
                await processor.end()
                fate.dead = False
                clock.advance(seconds=VISIBILITY_TIMEOUT + 1)
                processor = await ProcessorProcess(db, clock, fate).start()
                await processor.idle()
        await processor.end()
    finally:
        await db.close()
    return fate, delivery_ids(bodies), await membership(path, clock)


def delivery_ids(bodies: list[dict[str, Any]]) -> list[str]:
    clock = ManualClock()
    return [
        alert.delivery_id
        for body in bodies
        for alert in grafana_oncall.parse(
            encode(body), received_at=clock.now(), severity_map=DEFAULT_SEVERITY_MAP
        )
    ]


async def membership(path: Path, clock: ManualClock) -> dict[str, list[str]]:
    db = await Database(path).open()
    try:
        store = await SqliteIncidentStore(db=db, clock=clock).open()
        queue = await SqliteEventQueue(db=db, clock=clock).open()
        assert await queue.depth() == 0
        assert await queue.dead_letters() == []
        return {i.id: [a.delivery_id for a in i.alerts] for i in await store.recent(limit=1000)}
    finally:
        await db.close()


def misplaced(sent: list[str], incidents: Mapping[str, list[str]]) -> dict[str, list[str]]:
    """Deliveries not in exactly one incident -> the incidents they are in."""
    where: dict[str, list[str]] = {d: [] for d in sent}
    for incident_id, deliveries in incidents.items():
        for delivery in deliveries:
            where.setdefault(delivery, []).append(incident_id)
    return {d: ids for d, ids in where.items() if len(ids) != 1}


async def test_a_storm_without_crashes_puts_every_alert_in_one_incident(tmp_path: Path) -> None:
    fate, sent, incidents = await run_storm(tmp_path / "db.sqlite3", deaths=[])

    assert len(set(sent)) == ALERTS
    assert misplaced(sent, incidents) == {}
    assert fate.kills == 0
    assert 10 < len(incidents) < ALERTS  # the cap and the storms both took effect
    assert fate.moments > MOMENTS  # so every death chosen below happens


@pytest.mark.parametrize("seed", range(RUNS))
async def test_a_processor_killed_during_a_storm_puts_every_alert_in_exactly_one_incident(
    tmp_path: Path, seed: int
) -> None:
    rng = random.Random(seed)
    deaths = rng.sample(range(1, MOMENTS), k=rng.randint(1, 3))

    fate, sent, incidents = await run_storm(tmp_path / "db.sqlite3", deaths)

    assert fate.kills >= 1  # the later deaths may fall past the end of a shorter storm
    bad = misplaced(sent, incidents)
    assert bad == {}, json.dumps(bad, indent=1)
