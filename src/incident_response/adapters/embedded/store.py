"""Incidents and alert deliveries in SQLite.

The incident's JSON document is the truth; the columns beside it exist only so the lookups the
services make (by alert group, channel, grouping key, recency) are index seeks, not scans. Both
are written by the same statement, so they never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, Self

import aiosqlite

from incident_response.adapters.embedded.db import Database
from incident_response.domain.alert import Alert
from incident_response.domain.clock import Clock, utc
from incident_response.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from incident_response.domain.incident import Incident, IncidentStatus

SCHEMA = """
CREATE TABLE IF NOT EXISTS incidents (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    alert_group_key TEXT NOT NULL,
    grouping_key TEXT NOT NULL,
    channel_id TEXT,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS incidents_by_alert_group ON incidents (alert_group_key, created_at);
CREATE INDEX IF NOT EXISTS incidents_by_channel ON incidents (channel_id, created_at);
CREATE INDEX IF NOT EXISTS incidents_by_grouping_key ON incidents (grouping_key, created_at);
CREATE INDEX IF NOT EXISTS incidents_by_created_at ON incidents (created_at);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    delivery_id TEXT PRIMARY KEY,
    alert_group_key TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    incident_id TEXT,
    processed_at TEXT
)
"""

_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string order is time order in the indexes."""
    return utc(dt).isoformat(timespec="microseconds")


async def _write(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> int:
    async with conn.execute(sql, params) as cursor:
        return cursor.rowcount


class SqliteIncidentStore:
    """The embedded IncidentStore (conformance: tests/contract/incident_store_suite.py)."""

    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def open(self) -> Self:
        await self._db.migrate("incident_store", SCHEMA)
        return self

    async def create(self, incident: Incident) -> Incident:
        stored = incident.model_copy(update={"version": 1})
        async with self._db.transaction() as conn:
            inserted = await _write(
                conn,
                "INSERT INTO incidents"
                " (id, version, status, alert_group_key, grouping_key, channel_id, created_at, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING",
                (stored.id, *_columns(stored)),
            )
        if not inserted:
            raise AlreadyExists(f"incident {incident.id} already exists")
        return stored

    async def get(self, incident_id: str, *, consistent: bool = True) -> Incident | None:
        """A consistent read waits for any write in flight on our shared connection, so it
        never returns a version that a failing transaction is about to roll back."""
        sql = "SELECT doc FROM incidents WHERE id = ?"
        if not consistent:
            return _incident(await self._db.fetchone(sql, (incident_id,)))
        async with self._db.transaction():
            return _incident(await self._db.fetchone(sql, (incident_id,)))

    async def save(self, incident: Incident) -> Incident:
        stored = incident.model_copy(update={"version": incident.version + 1})
        async with self._db.transaction() as conn:
            updated = await _write(
                conn,
                "UPDATE incidents SET version = ?, status = ?, alert_group_key = ?,"
                " grouping_key = ?, channel_id = ?, created_at = ?, doc = ?"
                " WHERE id = ? AND version = ?",
                (*_columns(stored), incident.id, incident.version),
            )
            if not updated:
                row = await self._db.fetchone(
                    "SELECT version FROM incidents WHERE id = ?", (incident.id,)
                )
                if row is None:
                    raise NotFound(f"incident {incident.id} does not exist: create it first")
                raise ConcurrentUpdate(
                    f"incident {incident.id}: saving version {incident.version},"
                    f" but version {row['version']} is stored"
                )
        return stored

    async def find_by_alert_group(self, alert_group_key: str) -> Incident | None:
        row = await self._db.fetchone(
            f"SELECT doc FROM incidents WHERE alert_group_key = ? {_NEWEST_FIRST} LIMIT 1",
            (alert_group_key,),
        )
        return _incident(row)

    async def find_by_channel(self, channel_id: str) -> Incident | None:
        row = await self._db.fetchone(
            f"SELECT doc FROM incidents WHERE channel_id = ? {_NEWEST_FIRST} LIMIT 1",
            (channel_id,),
        )
        return _incident(row)

    async def find_open_by_grouping_key(
        self, grouping_key: str, since: datetime
    ) -> Incident | None:
        if not grouping_key:
            return None  # an empty key means the alert had none of the grouping labels
        row = await self._db.fetchone(
            "SELECT doc FROM incidents WHERE grouping_key = ? AND created_at >= ?"
            f" AND status != ? {_NEWEST_FIRST} LIMIT 1",
            (grouping_key, _ts(since), IncidentStatus.RESOLVED.value),
        )
        return _incident(row)

    async def count_created_since(self, since: datetime) -> int:
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM incidents WHERE created_at >= ?", (_ts(since),)
        )
        return int(row["n"]) if row is not None else 0

    async def recent(
        self, *, statuses: Sequence[IncidentStatus] | None = None, limit: int = 100
    ) -> list[Incident]:
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        where, params = "", []
        if statuses is not None:
            wanted = sorted({IncidentStatus(s).value for s in statuses})
            if not wanted:
                return []
            where = f"WHERE status IN ({', '.join('?' * len(wanted))})"
            params = list(wanted)
        rows = await self._db.fetchall(
            f"SELECT doc FROM incidents {where} {_NEWEST_FIRST} LIMIT ?", (*params, limit)
        )
        return [Incident.model_validate_json(row["doc"]) for row in rows]

    async def record_alert(self, alert: Alert) -> bool:
        async with self._db.transaction() as conn:
            inserted = await _write(
                conn,
                "INSERT INTO alert_deliveries (delivery_id, alert_group_key, recorded_at, doc)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING",
                (
                    alert.delivery_id,
                    alert.alert_group_key,
                    _ts(self._clock.now()),
                    alert.model_dump_json(),
                ),
            )
        return inserted > 0

    async def alert_processed(self, delivery_id: str) -> bool:
        row = await self._db.fetchone(
            "SELECT processed_at FROM alert_deliveries WHERE delivery_id = ?", (delivery_id,)
        )
        return row is not None and row["processed_at"] is not None

    async def mark_alert_processed(self, delivery_id: str, incident_id: str) -> None:
        async with self._db.transaction() as conn:
            updated = await _write(
                conn,
                "UPDATE alert_deliveries SET incident_id = ?,"
                " processed_at = COALESCE(processed_at, ?) WHERE delivery_id = ?",
                (incident_id, _ts(self._clock.now()), delivery_id),
            )
        if not updated:
            raise NotFound(f"alert delivery {delivery_id} was never recorded")

    async def incident_ids(self) -> list[str]:
        rows = await self._db.fetchall("SELECT id FROM incidents ORDER BY id")
        return [str(row["id"]) for row in rows]


def _columns(incident: Incident) -> tuple[Any, ...]:
    """The indexed columns and the document, in the order the statements above list them."""
    return (
        incident.version,
        incident.status.value,
        incident.alert_group_key,
        incident.grouping_key,
        incident.channel.id if incident.channel is not None else None,
        _ts(incident.created_at),
        incident.model_dump_json(),
    )


def _incident(row: aiosqlite.Row | None) -> Incident | None:
    return Incident.model_validate_json(row["doc"]) if row is not None else None
