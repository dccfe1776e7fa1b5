"""Durable timers in SQLite that put their messages on the EventQueue by themselves, as
EventBridge Scheduler does: `start()` runs the firing loop (every second) until `aclose()`.

`fire_due` sends before it advances the schedule, so a crash in between fires the slot again on
the next round; the dedup id names the slot, which makes that second send a no-op in the queue.
Several processes on one data dir may all run the loop: the advance is conditional on the slot.

Names follow EventBridge's rule (`check_schedule_name`). Data dirs from before that rule hold
`nudge:<id>` and `sla:<id>:<minutes>`; `open()` renames them once, ':' becoming '.', which is
exactly the services' current naming (`nudge.<id>`, `sla.<id>.<minutes>`).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
from datetime import datetime, timedelta
from typing import Self

import aiosqlite

from incident_response.adapters.embedded.db import Database
from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.errors import NotFound
from incident_response.domain.messages import QueueMessage, Schedule, check_schedule_name
from incident_response.ports import EventQueue
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

SCHEMA = """
CREATE TABLE IF NOT EXISTS schedules (
    name TEXT PRIMARY KEY,
    every_seconds REAL NOT NULL,
    message TEXT NOT NULL,
    group_id TEXT NOT NULL,
    next_fire_at TEXT NOT NULL,
    enabled INTEGER NOT NULL,
    fired_count INTEGER NOT NULL,
    once INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS schedules_due ON schedules (next_fire_at) WHERE enabled = 1
"""

# names written before names had to fit EventBridge's rule: ':' becomes '.' (a name already
# taken by the new spelling keeps the newer schedule)
RENAME_OLD_NAMES = """
UPDATE OR IGNORE schedules SET name = replace(name, ':', '.') WHERE instr(name, ':') > 0;
DELETE FROM schedules WHERE instr(name, ':') > 0
"""

# how often the embedded scheduler looks for due schedules
FIRE_EVERY_SECONDS = 1.0

_MAX_EVERY_SECONDS = 100 * 365 * 86400.0
_COLUMNS = "name, every_seconds, message, group_id, next_fire_at, enabled, fired_count, once"


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string order is time order in the index."""
    return utc(dt).isoformat(timespec="microseconds")


class SqliteScheduler:
    """The embedded Scheduler (conformance: tests/contract/scheduler_suite.py). It sends due
    messages to `queue`; `start()` and `aclose()` belong to this adapter, not to the port."""

    def __init__(self, *, db: Database, clock: Clock, queue: EventQueue) -> None:
        self._db = db
        self._clock = clock
        self._queue = queue
        self._loop: asyncio.Task[None] | None = None

    async def open(self) -> Self:
        await self._db.migrate("scheduler", SCHEMA)
        await self._db.migrate("scheduler_names", RENAME_OLD_NAMES)
        return self

    def start(self, *, every_seconds: float = FIRE_EVERY_SECONDS) -> None:
        """Fire due schedules every `every_seconds` in the background until `aclose()`."""
        if self._loop is None:
            self._loop = asyncio.create_task(self._fire_forever(every_seconds), name="scheduler")

    async def aclose(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
            self._loop = None

    async def _fire_forever(self, every_seconds: float) -> None:
        while True:
            try:
                await self.fire_due()
            except Exception:
                # storage busy or the queue failing: the due slots are still due next round
                log.exception("scheduler.fire_failed")
            await asyncio.sleep(every_seconds)

    async def put(self, schedule: Schedule) -> None:
        _check(schedule)
        async with self._db.transaction() as conn:
            await conn.execute(
                f"INSERT INTO schedules ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (name) DO UPDATE SET every_seconds = excluded.every_seconds,"
                " message = excluded.message, group_id = excluded.group_id,"
                " next_fire_at = excluded.next_fire_at, enabled = excluded.enabled,"
                " fired_count = excluded.fired_count, once = excluded.once",
                (
                    schedule.name,
                    schedule.every_seconds,
                    schedule.message.model_dump_json(),
                    schedule.group_id,
                    _ts(schedule.next_fire_at),
                    int(schedule.enabled),
                    schedule.fired_count,
                    int(schedule.once),
                ),
            )

    async def get(self, name: str) -> Schedule | None:
        row = await self._db.fetchone(f"SELECT {_COLUMNS} FROM schedules WHERE name = ?", (name,))
        return _schedule(row) if row is not None else None

    async def enable(self, name: str) -> None:
        await self._set_enabled(name, enabled=True)

    async def disable(self, name: str) -> None:
        await self._set_enabled(name, enabled=False)

    async def delete(self, name: str) -> None:
        """Deleting a schedule that is not there is fine: a `once` timer deletes itself."""
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM schedules WHERE name = ?", (name,))

    async def schedules(self, prefix: str = "") -> list[Schedule]:
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM schedules WHERE name >= ? AND substr(name, 1, ?) = ?"
            " ORDER BY name",
            (prefix, len(prefix), prefix),
        )
        return [_schedule(row) for row in rows]

    async def fire_due(self, *, now: datetime | None = None) -> int:
        """Send every due, enabled schedule's message and move it to its next slot.

        Slots missed while nothing was running fire once, not once per slot: a nudge that is
        an hour late is sent one time. Returns how many schedules fired.
        """
        now = utc(now) if now is not None else self._clock.now()
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM schedules WHERE enabled = 1 AND next_fire_at <= ?"
            " ORDER BY next_fire_at, name",
            (_ts(now),),
        )
        for row in rows:
            schedule = _schedule(row)
            slot = schedule.next_fire_at
            await self._queue.send(
                schedule.message,
                group_id=schedule.group_id,
                dedup_id=f"{schedule.name}:{isoformat(slot)}",
            )
            async with self._db.transaction() as conn:
                # conditional on the slot, so a concurrent tick or a replacing `put` wins cleanly
                if schedule.once:
                    await conn.execute(
                        "DELETE FROM schedules WHERE name = ? AND next_fire_at = ?",
                        (schedule.name, row["next_fire_at"]),
                    )
                else:
                    await conn.execute(
                        "UPDATE schedules SET next_fire_at = ?, fired_count = fired_count + 1"
                        " WHERE name = ? AND next_fire_at = ?",
                        (_ts(_next_slot(schedule, now)), schedule.name, row["next_fire_at"]),
                    )
        return len(rows)

    async def _set_enabled(self, name: str, *, enabled: bool) -> None:
        async with (
            self._db.transaction() as conn,
            conn.execute(
                "UPDATE schedules SET enabled = ? WHERE name = ?", (int(enabled), name)
            ) as cursor,
        ):
            if cursor.rowcount == 0:
                raise NotFound(f"no schedule named {name!r}")


def _check(schedule: Schedule) -> None:
    check_schedule_name(schedule.name)
    if not schedule.group_id:
        raise ValueError("a schedule needs a group_id")
    every = schedule.every_seconds
    usable = math.isfinite(every) and every < _MAX_EVERY_SECONDS
    if not usable or every < 0 or (timedelta(seconds=every) <= timedelta(0) and not schedule.once):
        raise ValueError(
            f"schedule {schedule.name!r}: every_seconds must be a positive number of seconds"
            f" (at least a microsecond), got {every!r}"
        )


def _next_slot(schedule: Schedule, now: datetime) -> datetime:
    """The first slot strictly after `now`, on the schedule's original cadence."""
    every = timedelta(seconds=schedule.every_seconds)
    missed = (now - schedule.next_fire_at) // every
    return schedule.next_fire_at + (missed + 1) * every


def _schedule(row: aiosqlite.Row) -> Schedule:
    return Schedule(
        name=row["name"],
        every_seconds=row["every_seconds"],
        message=QueueMessage.model_validate_json(row["message"]),
        group_id=row["group_id"],
        next_fire_at=row["next_fire_at"],
        enabled=bool(row["enabled"]),
        fired_count=row["fired_count"],
        once=bool(row["once"]),
    )
