"""An SQS FIFO-like queue in SQLite: FIFO per message group, at-least-once, dead letters.

Only the oldest message of each group (its head, `is_head = 1`) can ever be delivered, and it
stays the head until it is acked or dead-lettered. So a group has at most one message in flight
and its messages come out in send order, while other groups flow past it. A partial index over
the heads' visibility times makes a receive a short index range read however long the queue is.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import secrets
import uuid
from datetime import datetime, timedelta
from typing import Self

import aiosqlite

from incident_response.adapters.embedded.db import Database
from incident_response.domain.clock import Clock, utc
from incident_response.domain.messages import DeadLetter, Delivery, QueueMessage

SCHEMA = """
CREATE TABLE IF NOT EXISTS queue_messages (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    group_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    visible_at TEXT NOT NULL,
    is_head INTEGER NOT NULL,
    receipt TEXT,
    receive_count INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS queue_messages_by_group ON queue_messages (group_id, id);
CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (visible_at, id) WHERE is_head = 1;
CREATE TABLE IF NOT EXISTS queue_dedup (
    dedup_id TEXT PRIMARY KEY,
    sent_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS queue_dedup_by_sent_at ON queue_dedup (sent_at);
CREATE TABLE IF NOT EXISTS queue_dead_letters (
    id INTEGER PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    group_id TEXT NOT NULL,
    body TEXT NOT NULL,
    sent_at TEXT NOT NULL,
    receive_count INTEGER NOT NULL,
    dead_at TEXT NOT NULL,
    last_error TEXT
)
"""

POLL_SECONDS = 0.05
MAX_VISIBILITY_SECONDS = 43_200  # SQS: a message is invisible for at most 12 hours
MAX_VISIBILITY = timedelta(seconds=MAX_VISIBILITY_SECONDS)
_MESSAGE = "id, message_id, group_id, body, sent_at, receive_count, last_error"


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string order is time order in the indexes."""
    return utc(dt).isoformat(timespec="microseconds")


def _seconds(name: str, value: float) -> timedelta:
    if not (math.isfinite(value) and value >= 0):
        raise ValueError(f"{name} must be a finite number of seconds >= 0, got {value!r}")
    return timedelta(seconds=value)


class SqliteEventQueue:
    """The embedded EventQueue (conformance: tests/contract/event_queue_suite.py).

    `dedup_window_seconds` and `max_receives` mirror the SQS deduplication interval and the
    redrive policy's maxReceiveCount.
    """

    def __init__(
        self,
        *,
        db: Database,
        clock: Clock,
        dedup_window_seconds: float = 300,
        max_receives: int = 5,
    ) -> None:
        if max_receives < 1:
            raise ValueError(f"max_receives must be at least 1, got {max_receives}")
        self._db = db
        self._clock = clock
        self._dedup_window = _seconds("dedup_window_seconds", dedup_window_seconds)
        self._max_receives = max_receives
        self._sent = asyncio.Event()  # wakes a waiting receive early when this process sends

    async def open(self) -> Self:
        await self._db.migrate("event_queue", SCHEMA)
        return self

    async def send(self, message: QueueMessage, *, group_id: str, dedup_id: str) -> bool:
        if not group_id or not dedup_id:
            raise ValueError("a queue message needs a group_id and a dedup_id")
        now = self._clock.now()
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM queue_dedup WHERE sent_at <= ?", (_ts(now - self._dedup_window),)
            )
            async with conn.execute(
                "INSERT INTO queue_dedup (dedup_id, sent_at) VALUES (?, ?)"
                " ON CONFLICT (dedup_id) DO NOTHING",
                (dedup_id, _ts(now)),
            ) as cursor:
                if cursor.rowcount == 0:
                    return False
            await conn.execute(
                "INSERT INTO queue_messages"
                " (message_id, group_id, body, sent_at, visible_at, is_head)"
                " VALUES (?, ?, ?, ?, ?,"
                "  NOT EXISTS (SELECT 1 FROM queue_messages WHERE group_id = ?))",
                (
                    uuid.uuid4().hex,
                    group_id,
                    message.model_dump_json(),
                    _ts(now),
                    _ts(now),
                    group_id,
                ),
            )
        self._sent.set()
        return True

    async def receive(
        self, *, max_messages: int = 10, visibility_timeout: float = 30, wait_seconds: float = 0
    ) -> list[Delivery]:
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, got {max_messages}")
        invisible_for = _seconds("visibility_timeout", visibility_timeout)
        _seconds("wait_seconds", wait_seconds)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_seconds
        while True:
            self._sent.clear()
            deliveries = await self._receive_now(max_messages, invisible_for)
            remaining = deadline - loop.time()
            if deliveries or remaining <= 0:
                return deliveries
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sent.wait(), timeout=min(POLL_SECONDS, remaining))

    async def ack(self, delivery: Delivery) -> None:
        async with self._db.transaction() as conn:
            row = await self._current(delivery)
            if row is None:
                return  # stale receipt: the message was redelivered, retried or already acked
            await conn.execute("DELETE FROM queue_messages WHERE id = ?", (row["id"],))
            await _promote_next(conn, row["group_id"])

    async def retry(self, delivery: Delivery, *, error: str, delay_seconds: float = 0) -> None:
        delay = _seconds("delay_seconds", delay_seconds)
        now = self._clock.now()
        async with self._db.transaction() as conn:
            row = await self._current(delivery)
            if row is None:
                return
            if row["receive_count"] >= self._max_receives:
                await _dead_letter(conn, row, now=now, error=error)
            else:
                await conn.execute(
                    "UPDATE queue_messages SET visible_at = ?, receipt = NULL, last_error = ?"
                    " WHERE id = ?",
                    (_ts(now + delay), error, row["id"]),
                )

    async def extend_visibility(self, delivery: Delivery, *, seconds: float) -> bool:
        hidden_for = _seconds("seconds", seconds)
        if hidden_for > MAX_VISIBILITY:
            raise ValueError(f"seconds must be at most {MAX_VISIBILITY_SECONDS} (12 hours)")
        now = self._clock.now()
        # only while in flight under this receipt: not acked, retried, or visible again
        async with (
            self._db.transaction() as conn,
            conn.execute(
                "UPDATE queue_messages SET visible_at = ?"
                " WHERE message_id = ? AND receipt = ? AND visible_at > ?",
                (_ts(now + hidden_for), delivery.message_id, delivery.receipt, _ts(now)),
            ) as cursor,
        ):
            return cursor.rowcount > 0

    async def dead_letters(self) -> list[DeadLetter]:
        rows = await self._db.fetchall(
            "SELECT message_id, group_id, body, receive_count, dead_at, last_error"
            " FROM queue_dead_letters ORDER BY id"
        )
        return [
            DeadLetter(
                message_id=row["message_id"],
                group_id=row["group_id"],
                body=QueueMessage.model_validate_json(row["body"]),
                receive_count=row["receive_count"],
                dead_at=row["dead_at"],
                last_error=row["last_error"],
            )
            for row in rows
        ]

    async def depth(self) -> int:
        """Exact here; the port promises only an approximation (SQS)."""
        row = await self._db.fetchone("SELECT COUNT(*) AS n FROM queue_messages")
        return int(row["n"]) if row is not None else 0

    async def _receive_now(self, max_messages: int, invisible_for: timedelta) -> list[Delivery]:
        now = self._clock.now()
        hidden_until = _ts(now + invisible_for)
        deliveries: list[Delivery] = []
        taken: set[int] = set()
        async with self._db.transaction() as conn:
            while (wanted := max_messages - len(deliveries)) > 0:
                # `taken` rows can come back only with a zero visibility timeout: skip them
                rows = await self._db.fetchall(
                    f"SELECT {_MESSAGE} FROM queue_messages WHERE is_head = 1 AND visible_at <= ?"
                    " ORDER BY visible_at, id LIMIT ?",
                    (_ts(now), wanted + len(taken)),
                )
                rows = [row for row in rows if row["id"] not in taken][:wanted]
                dead = [row for row in rows if row["receive_count"] >= self._max_receives]
                for row in dead:
                    # received the maximum number of times and never acked: a crash loop
                    error = row["last_error"] or f"not acked after {row['receive_count']} receives"
                    await _dead_letter(conn, row, now=now, error=error)
                for row in rows:
                    if row["receive_count"] < self._max_receives:
                        deliveries.append(await _deliver(conn, row, hidden_until))
                        taken.add(row["id"])
                if not dead:
                    break  # otherwise the dead messages' successors may now be ready
        return deliveries

    async def _current(self, delivery: Delivery) -> aiosqlite.Row | None:
        return await self._db.fetchone(
            f"SELECT {_MESSAGE} FROM queue_messages WHERE message_id = ? AND receipt = ?",
            (delivery.message_id, delivery.receipt),
        )


async def _deliver(conn: aiosqlite.Connection, row: aiosqlite.Row, hidden_until: str) -> Delivery:
    receipt = secrets.token_urlsafe(18)
    receive_count = int(row["receive_count"]) + 1
    await conn.execute(
        "UPDATE queue_messages SET receipt = ?, receive_count = ?, visible_at = ? WHERE id = ?",
        (receipt, receive_count, hidden_until, row["id"]),
    )
    return Delivery(
        message_id=row["message_id"],
        receipt=receipt,
        group_id=row["group_id"],
        body=QueueMessage.model_validate_json(row["body"]),
        receive_count=receive_count,
        sent_at=row["sent_at"],
    )


async def _dead_letter(
    conn: aiosqlite.Connection, row: aiosqlite.Row, *, now: datetime, error: str | None
) -> None:
    await conn.execute(
        "INSERT INTO queue_dead_letters"
        " (message_id, group_id, body, sent_at, receive_count, dead_at, last_error)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (
            row["message_id"],
            row["group_id"],
            row["body"],
            row["sent_at"],
            row["receive_count"],
            _ts(now),
            error,
        ),
    )
    await conn.execute("DELETE FROM queue_messages WHERE id = ?", (row["id"],))
    await _promote_next(conn, row["group_id"])


async def _promote_next(conn: aiosqlite.Connection, group_id: str) -> None:
    """Make the group's oldest remaining message its head (the old head was just removed)."""
    await conn.execute(
        "UPDATE queue_messages SET is_head = 1"
        " WHERE id = (SELECT MIN(id) FROM queue_messages WHERE group_id = ?)",
        (group_id,),
    )
