"""Incidents and alert deliveries in SQLite.

The incident's JSON document is the truth; the columns beside it exist only so the lookups the
services make (by channel, grouping key, recency) are index seeks, not scans. Both are written by
the same statement, so they never disagree.

Alert claims (a delivery's incident, an alert group's incident) are rows of their own, checked
and written in the incident's transaction, before anything else is written, so a refused claim
leaves nothing to roll back. Databases from before the claims get theirs from the incidents'
documents when the store opens and finds none (see `_backfill_claims`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any, Self

import aiosqlite

from incident_response.adapters.embedded.db import Database
from incident_response.domain.alert import Alert, AlertEventKind
from incident_response.domain.clock import Clock, utc
from incident_response.domain.errors import (
    AlertClaimed,
    AlreadyExists,
    ConcurrentUpdate,
    NotFound,
)
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.ports import AlertClaim

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
CREATE TABLE IF NOT EXISTS delivery_claims (
    delivery_id TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    alert_group_key TEXT NOT NULL,
    reason TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_group_claims (
    alert_group_key TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS alert_deliveries (
    delivery_id TEXT PRIMARY KEY,
    alert_group_key TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    doc TEXT NOT NULL,
    incident_id TEXT,
    processed_at TEXT,
    requeued_at TEXT
)
"""

# Databases from before the outbox relay lack `requeued_at`; the index needs it.
RELAY_INDEX = """
CREATE INDEX IF NOT EXISTS alert_deliveries_to_relay ON alert_deliveries (recorded_at)
    WHERE processed_at IS NULL AND requeued_at IS NULL
"""

_NEWEST_FIRST = "ORDER BY created_at DESC, rowid DESC"

# The incidents' attached alerts as rows: (incident, delivery, alert group), for the backfill.
_ATTACHED = (
    "SELECT i.id AS incident_id, i.created_at, i.rowid AS incident_rowid,"
    " json_extract(a.value, '$.delivery_id') AS delivery_id,"
    " json_extract(a.value, '$.alert_group_key') AS alert_group_key"
    " FROM incidents AS i, json_each(i.doc, '$.alerts') AS a"
)
# A delivery attached to two incidents (possible before claims) stays with the first; an alert
# group goes to the newest incident holding one of its alerts.
_BACKFILL = (
    "INSERT INTO delivery_claims (delivery_id, incident_id, alert_group_key, reason)"
    f" SELECT delivery_id, incident_id, alert_group_key, '' FROM ({_ATTACHED})"
    " WHERE true ORDER BY created_at, incident_rowid ON CONFLICT (delivery_id) DO NOTHING",
    "INSERT INTO alert_group_claims (alert_group_key, incident_id)"
    " SELECT alert_group_key, incident_id FROM (SELECT alert_group_key, incident_id,"
    "  row_number() OVER (PARTITION BY alert_group_key"
    "   ORDER BY created_at DESC, incident_rowid DESC) AS newest"
    f"  FROM ({_ATTACHED}))"
    " WHERE newest = 1 ON CONFLICT (alert_group_key) DO NOTHING",
)


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
        async with self._db.transaction() as conn:
            columns = await self._db.fetchall("PRAGMA table_info(alert_deliveries)")
            if "requeued_at" not in {str(c["name"]) for c in columns}:
                await conn.execute("ALTER TABLE alert_deliveries ADD COLUMN requeued_at TEXT")
        await self._db.migrate("incident_store_relay", RELAY_INDEX)
        await self._backfill_claims()
        return self

    async def _backfill_claims(self) -> None:
        """Claims for incidents stored before there were claims: once, when there are none.

        Idempotent (insert-if-absent), so two processes opening at once do no harm.
        """
        async with self._db.transaction() as conn:
            row = await self._db.fetchone(
                "SELECT EXISTS (SELECT 1 FROM delivery_claims) AS claimed,"
                " EXISTS (SELECT 1 FROM incidents) AS incidents"
            )
            if row is None or row["claimed"] or not row["incidents"]:
                return
            for statement in _BACKFILL:
                await conn.execute(statement)

    async def create(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        stored = incident.model_copy(update={"version": 1})
        async with self._db.transaction() as conn:
            if await self._db.fetchone("SELECT 1 FROM incidents WHERE id = ?", (incident.id,)):
                raise AlreadyExists(f"incident {incident.id} already exists")
            await self._check_claim(claim, incident.id)
            await _write(
                conn,
                "INSERT INTO incidents"
                " (id, version, status, alert_group_key, grouping_key, channel_id, created_at, doc)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (stored.id, *_columns(stored)),
            )
            await _write_claim(conn, claim, incident.id)
        return stored

    async def get(self, incident_id: str, *, consistent: bool = True) -> Incident | None:
        """A consistent read waits for any write in flight on our shared connection, so it
        never returns a version that a failing transaction is about to roll back."""
        sql = "SELECT doc FROM incidents WHERE id = ?"
        if not consistent:
            return _incident(await self._db.fetchone(sql, (incident_id,)))
        return _incident(await self._consistent_fetchone(sql, (incident_id,)))

    async def save(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        stored = incident.model_copy(update={"version": incident.version + 1})
        async with self._db.transaction() as conn:
            row = await self._db.fetchone(
                "SELECT version FROM incidents WHERE id = ?", (incident.id,)
            )
            if row is None:
                raise NotFound(f"incident {incident.id} does not exist: create it first")
            if row["version"] != incident.version:
                raise ConcurrentUpdate(
                    f"incident {incident.id}: saving version {incident.version},"
                    f" but version {row['version']} is stored"
                )
            await self._check_claim(claim, incident.id)
            await _write(
                conn,
                "UPDATE incidents SET version = ?, status = ?, alert_group_key = ?,"
                " grouping_key = ?, channel_id = ?, created_at = ?, doc = ?"
                " WHERE id = ? AND version = ?",
                (*_columns(stored), incident.id, incident.version),
            )
            await _write_claim(conn, claim, incident.id)
        return stored

    async def _check_claim(self, claim: AlertClaim | None, incident_id: str) -> None:
        """Raise AlertClaimed when another incident holds a key of `claim` (inside a write
        transaction, before it writes anything)."""
        if claim is None:
            return
        held = await self._db.fetchone(
            "SELECT incident_id FROM delivery_claims WHERE delivery_id = ?", (claim.delivery_id,)
        )
        if held is not None and held["incident_id"] != incident_id:
            raise AlertClaimed(
                f"delivery {claim.delivery_id} belongs to incident {held['incident_id']},"
                f" not {incident_id}"
            )
        held = await self._db.fetchone(
            "SELECT incident_id FROM alert_group_claims WHERE alert_group_key = ?",
            (claim.alert_group_key,),
        )
        if held is not None and held["incident_id"] not in (incident_id, claim.moves_from):
            raise AlertClaimed(
                f"alert group {claim.alert_group_key} belongs to incident {held['incident_id']},"
                f" not {incident_id}"
            )

    async def find_by_delivery(self, delivery_id: str) -> tuple[Incident, AlertClaim] | None:
        row = await self._consistent_fetchone(
            "SELECT c.alert_group_key, c.reason, i.doc FROM delivery_claims AS c"
            " JOIN incidents AS i ON i.id = c.incident_id WHERE c.delivery_id = ?",
            (delivery_id,),
        )
        if row is None:
            return None
        claim = AlertClaim(
            delivery_id=delivery_id, alert_group_key=row["alert_group_key"], reason=row["reason"]
        )
        return Incident.model_validate_json(row["doc"]), claim

    async def find_by_alert_group(self, alert_group_key: str) -> Incident | None:
        return _incident(
            await self._consistent_fetchone(
                "SELECT i.doc FROM alert_group_claims AS c"
                " JOIN incidents AS i ON i.id = c.incident_id WHERE c.alert_group_key = ?",
                (alert_group_key,),
            )
        )

    async def _consistent_fetchone(self, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
        """A read that decides: waits for any write in flight on our shared connection (see
        `get`)."""
        async with self._db.transaction():
            return await self._db.fetchone(sql, params)

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

    async def unprocessed_alerts(
        self,
        *,
        kinds: Collection[AlertEventKind],
        recorded_after: datetime,
        recorded_before: datetime,
        limit: int = 100,
    ) -> list[Alert]:
        wanted = sorted(AlertEventKind(k).value for k in kinds)
        if not wanted:
            return []
        rows = await self._db.fetchall(
            "SELECT doc FROM alert_deliveries WHERE processed_at IS NULL AND requeued_at IS NULL"
            " AND recorded_at > ? AND recorded_at <= ?"
            f" AND json_extract(doc, '$.kind') IN ({', '.join('?' * len(wanted))})"
            " ORDER BY recorded_at LIMIT ?",
            (_ts(recorded_after), _ts(recorded_before), *wanted, limit),
        )
        return [Alert.model_validate_json(row["doc"]) for row in rows]

    async def mark_alert_requeued(self, delivery_id: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "UPDATE alert_deliveries SET requeued_at = COALESCE(requeued_at, ?)"
                " WHERE delivery_id = ?",
                (_ts(self._clock.now()), delivery_id),
            )

    async def incident_ids(self) -> list[str]:
        rows = await self._db.fetchall("SELECT id FROM incidents ORDER BY id")
        return [str(row["id"]) for row in rows]

    async def created_between(
        self, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Incident]:
        if end < start:
            raise ValueError(f"the range ends ({end}) before it starts ({start})")
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        rows = await self._db.fetchall(
            "SELECT doc FROM incidents WHERE created_at >= ? AND created_at < ?"
            " ORDER BY created_at, rowid LIMIT ?",
            (_ts(start), _ts(end), limit),
        )
        return [Incident.model_validate_json(row["doc"]) for row in rows]


async def _write_claim(
    conn: aiosqlite.Connection, claim: AlertClaim | None, incident_id: str
) -> None:
    if claim is None:
        return
    await _write(
        conn,
        "INSERT INTO delivery_claims (delivery_id, incident_id, alert_group_key, reason)"
        " VALUES (?, ?, ?, ?) ON CONFLICT (delivery_id) DO NOTHING",
        (claim.delivery_id, incident_id, claim.alert_group_key, claim.reason),
    )
    await _write(
        conn,
        "INSERT INTO alert_group_claims (alert_group_key, incident_id) VALUES (?, ?)"
        " ON CONFLICT (alert_group_key) DO UPDATE SET incident_id = excluded.incident_id",
        (claim.alert_group_key, incident_id),
    )


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
