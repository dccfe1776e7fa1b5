"""Webhook subscribers of the built-in status page and their deliveries, in the shared SQLite file.

A delivery row is written before its queue message is sent and is the record of what became of
it (pending, delivered, given up after N tries, with the last error), so a redelivered message
never sends twice what was delivered, and an operator can see every failure.
"""

from __future__ import annotations

from datetime import datetime

import aiosqlite

from incident_response.adapters.embedded.db import Database
from incident_response.domain.clock import utc
from incident_response.domain.subscriptions import Delivery, DeliveryState, Subscriber

SCHEMA = """
CREATE TABLE IF NOT EXISTS status_subscribers (
    id TEXT PRIMARY KEY,
    url TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    removed_at TEXT
);
CREATE TABLE IF NOT EXISTS status_deliveries (
    subscriber_id TEXT NOT NULL REFERENCES status_subscribers (id),
    key TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL,
    PRIMARY KEY (subscriber_id, key)
)
"""


class SqliteSubscribers:
    """The subscriber store on the shared Database (`services.status_subscriptions` port)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    async def _ready(self) -> Database:
        await self._db.migrate("status_subscribers", SCHEMA)
        return self._db

    async def add(self, subscriber: Subscriber) -> None:
        db = await self._ready()
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO status_subscribers (id, url, secret, created_by, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    subscriber.id,
                    subscriber.url,
                    subscriber.secret,
                    subscriber.created_by,
                    _stamp(subscriber.created_at),
                ),
            )

    async def get(self, subscriber_id: str) -> Subscriber | None:
        db = await self._ready()
        row = await db.fetchone("SELECT * FROM status_subscribers WHERE id = ?", (subscriber_id,))
        return _subscriber(row) if row is not None else None

    async def active(self) -> list[Subscriber]:
        db = await self._ready()
        rows = await db.fetchall(
            "SELECT * FROM status_subscribers WHERE removed_at IS NULL ORDER BY created_at, id"
        )
        return [_subscriber(r) for r in rows]

    async def created_since(self, email: str, since: datetime) -> int:
        db = await self._ready()
        row = await db.fetchone(
            "SELECT COUNT(*) AS n FROM status_subscribers WHERE created_by = ? AND created_at >= ?",
            (email, _stamp(since)),
        )
        return int(row["n"]) if row is not None else 0

    async def remove(self, subscriber_id: str, at: datetime) -> bool:
        db = await self._ready()
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE status_subscribers SET removed_at = ? WHERE id = ? AND removed_at IS NULL",
                (_stamp(at), subscriber_id),
            )
            return (cursor.rowcount or 0) > 0

    async def add_delivery(self, delivery: Delivery, at: datetime) -> Delivery:
        """Keep the delivery once per (subscriber, key); the stored one when it was already."""
        db = await self._ready()
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT OR IGNORE INTO status_deliveries (subscriber_id, key, body, state,"
                " attempts, last_error, updated_at) VALUES (?, ?, ?, ?, 0, '', ?)",
                (
                    delivery.subscriber_id,
                    delivery.key,
                    delivery.body,
                    DeliveryState.PENDING.value,
                    _stamp(at),
                ),
            )
        stored = await self.delivery(delivery.subscriber_id, delivery.key)
        assert stored is not None
        return stored

    async def delivery(self, subscriber_id: str, key: str) -> Delivery | None:
        db = await self._ready()
        row = await db.fetchone(
            "SELECT * FROM status_deliveries WHERE subscriber_id = ? AND key = ?",
            (subscriber_id, key),
        )
        return _delivery(row) if row is not None else None

    async def deliveries(self, subscriber_id: str) -> list[Delivery]:
        db = await self._ready()
        rows = await db.fetchall(
            "SELECT * FROM status_deliveries WHERE subscriber_id = ? ORDER BY updated_at, key",
            (subscriber_id,),
        )
        return [_delivery(r) for r in rows]

    async def record_attempt(
        self, delivery: Delivery, *, state: DeliveryState, error: str, at: datetime
    ) -> Delivery:
        """Count one try and what came of it (only while still pending: a finished delivery
        stays finished)."""
        db = await self._ready()
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE status_deliveries SET attempts = attempts + 1, state = ?, last_error = ?,"
                " updated_at = ? WHERE subscriber_id = ? AND key = ? AND state = ?",
                (
                    state.value,
                    error[:500],
                    _stamp(at),
                    delivery.subscriber_id,
                    delivery.key,
                    DeliveryState.PENDING.value,
                ),
            )
        stored = await self.delivery(delivery.subscriber_id, delivery.key)
        assert stored is not None
        return stored


def _subscriber(row: aiosqlite.Row) -> Subscriber:
    return Subscriber(
        id=row["id"],
        url=row["url"],
        secret=row["secret"],
        created_by=row["created_by"],
        created_at=_time(row["created_at"]),
        removed_at=_time(row["removed_at"]) if row["removed_at"] else None,
    )


def _delivery(row: aiosqlite.Row) -> Delivery:
    return Delivery(
        subscriber_id=row["subscriber_id"],
        key=row["key"],
        body=row["body"],
        state=DeliveryState(row["state"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
    )


def _stamp(at: datetime) -> str:
    """Fixed width, so text order is time order (`created_since` compares them)."""
    return utc(at).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _time(value: str) -> datetime:
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
