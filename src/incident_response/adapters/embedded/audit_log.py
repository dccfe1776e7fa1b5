"""The audit log in SQLite: append-only rows, hash-chained per incident, with a chain head.

The head (last seq and hash per incident, with its MAC) is written in the same transaction as the
record, so deleting the newest records, which leaves an internally valid shorter chain, is still
caught. A single MAC'd count of the chains started catches a chain deleted whole, head and all.
Every MAC needs the audit key, which the log is given and never stores.
"""

from __future__ import annotations

import json
from typing import Self

import aiosqlite
from pydantic import ValidationError

from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditEventType,
    AuditKey,
    AuditRecord,
    ChainBreak,
    ChainCount,
    ChainHead,
    ChainReport,
    seal,
    verify_chain,
    verify_count,
)
from incident_response.domain.clock import Clock, isoformat, utc

SCHEMA = """
CREATE TABLE IF NOT EXISTS audit_records (
    incident_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    key TEXT NOT NULL,
    type TEXT NOT NULL,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    data TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (incident_id, seq)
);
CREATE UNIQUE INDEX IF NOT EXISTS audit_records_by_key ON audit_records (incident_id, key);
CREATE INDEX IF NOT EXISTS audit_records_by_type ON audit_records (incident_id, type, seq);
CREATE TABLE IF NOT EXISTS audit_chain_heads (
    incident_id TEXT PRIMARY KEY,
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL,
    mac TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS audit_chain_count (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    chains INTEGER NOT NULL,
    mac TEXT NOT NULL
)
"""

_COLUMNS = "incident_id, seq, key, type, at, actor, data, prev_hash, hash"


class SqliteAuditLog:
    """The embedded AuditLog (conformance: tests/contract/audit_log_suite.py)."""

    def __init__(self, *, db: Database, clock: Clock, key: AuditKey) -> None:
        self._db = db
        self._clock = clock
        self._key = key

    async def open(self) -> Self:
        await self._db.migrate("audit_log", SCHEMA)
        columns = await self._db.fetchall("PRAGMA table_info(audit_chain_heads)")
        if "mac" not in {str(column["name"]) for column in columns}:
            # a log from before heads were MAC'd: its heads then fail verification, as they should
            async with self._db.transaction() as conn:
                await conn.execute(
                    "ALTER TABLE audit_chain_heads ADD COLUMN mac TEXT NOT NULL DEFAULT ''"
                )
        return self

    async def append(self, event: AuditEvent) -> AuditRecord:
        if not event.incident_id or not event.key:
            raise ValueError("an audit event needs an incident_id and a key")
        event = _normalised(event)
        async with self._db.transaction() as conn:
            existing = await self._db.fetchone(
                f"SELECT {_COLUMNS} FROM audit_records WHERE incident_id = ? AND key = ?",
                (event.incident_id, event.key),
            )
            if existing is not None:
                return _record(existing)
            previous = await self._head(event.incident_id)
            seq, prev_hash = await self._chain_end(event.incident_id, previous)
            record = seal(event, seq + 1, prev_hash, self._key)
            await conn.execute(
                f"INSERT INTO audit_records ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                _row(record),
            )
            head = ChainHead.following(previous, record, self._key)
            await conn.execute(
                "INSERT INTO audit_chain_heads (incident_id, seq, hash, mac) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (incident_id) DO UPDATE"
                " SET seq = excluded.seq, hash = excluded.hash, mac = excluded.mac",
                (head.incident_id, head.seq, head.hash, head.mac),
            )
            if record.seq == 1:
                await self._count_new_chain(conn, record.incident_id)
        return record

    async def records(self, incident_id: str) -> list[AuditRecord]:
        return await self._consistent_read(
            f"SELECT {_COLUMNS} FROM audit_records WHERE incident_id = ? ORDER BY seq",
            (incident_id,),
        )

    async def find(self, incident_id: str, type: AuditEventType) -> list[AuditRecord]:
        return await self._consistent_read(
            f"SELECT {_COLUMNS} FROM audit_records WHERE incident_id = ? AND type = ? ORDER BY seq",
            (incident_id, AuditEventType(type).value),
        )

    async def verify(self, incident_id: str | None = None) -> ChainReport:
        """One incident's chain, or every chain and, for every chain, that none was deleted whole."""
        if incident_id is not None:
            return await self._verify_one(incident_id)
        report = ChainReport()
        async with self._db.transaction():  # the ids and the count as of one moment
            ids = await self.incident_ids()
            count = await self._count()
        report.breaks.extend(verify_count(count, len(ids), self._key))
        for one in ids:
            report.merge(await self._verify_one(one))
        return report

    async def key_matches(self) -> bool:
        """Whether the log was sealed with this key so far, as far as the chain count can tell
        (a new log: yes). Not a verification: `verify` is; this is the cheap start-up check."""
        count = await self._count()
        return count is None or count.authentic(self._key)

    async def incident_ids(self) -> list[str]:
        """Every incident with records or a chain head: a head whose records were all deleted
        still names its incident, so `verify()` reports it."""
        rows = await self._db.fetchall(
            "SELECT incident_id FROM audit_chain_heads"
            " UNION SELECT incident_id FROM audit_records ORDER BY 1"
        )
        return [str(row["incident_id"]) for row in rows]

    async def _consistent_read(self, sql: str, params: tuple[str, ...]) -> list[AuditRecord]:
        """Under the write lock: the connection is shared, and outside it a read could see an
        append that is about to be rolled back (the approval gate must not act on one)."""
        async with self._db.transaction():
            rows = await self._db.fetchall(sql, params)
        return [_record(row) for row in rows]

    async def _head(self, incident_id: str) -> ChainHead | None:
        row = await self._db.fetchone(
            "SELECT seq, hash, mac FROM audit_chain_heads WHERE incident_id = ?", (incident_id,)
        )
        if row is None:
            return None
        return ChainHead(incident_id, int(row["seq"]), str(row["hash"]), str(row["mac"]))

    async def _chain_end(self, incident_id: str, head: ChainHead | None) -> tuple[int, str]:
        """The seq and hash to link the next record to. The head is the authority; the last
        record stands in only if the head row has gone missing."""
        if head is not None:
            return head.seq, head.hash
        row = await self._db.fetchone(
            "SELECT seq, hash FROM audit_records WHERE incident_id = ? ORDER BY seq DESC LIMIT 1",
            (incident_id,),
        )
        return (int(row["seq"]), str(row["hash"])) if row is not None else (0, GENESIS_HASH)

    async def _count(self) -> ChainCount | None:
        row = await self._db.fetchone("SELECT chains, mac FROM audit_chain_count WHERE id = 1")
        return ChainCount(int(row["chains"]), str(row["mac"])) if row is not None else None

    async def _count_new_chain(self, conn: aiosqlite.Connection, incident_id: str) -> None:
        """Inside the append's transaction. A forged or missing count is never re-sealed, so
        `verify` goes on reporting it however many chains follow."""
        other = await self._db.fetchone(
            "SELECT 1 FROM audit_records WHERE incident_id != ? LIMIT 1", (incident_id,)
        )
        count = ChainCount.following(await self._count(), self._key, other_chains=other is not None)
        await conn.execute(
            "INSERT INTO audit_chain_count (id, chains, mac) VALUES (1, ?, ?)"
            " ON CONFLICT (id) DO UPDATE SET chains = excluded.chains, mac = excluded.mac",
            (count.chains, count.mac),
        )

    async def _verify_one(self, incident_id: str) -> ChainReport:
        # under the write lock: our own connection would otherwise see a half-written append
        async with self._db.transaction():
            rows = await self._db.fetchall(
                f"SELECT {_COLUMNS} FROM audit_records WHERE incident_id = ? ORDER BY seq",
                (incident_id,),
            )
            head = await self._head(incident_id)
        unreadable: list[ChainBreak] = []
        records: list[AuditRecord] = []
        for row in rows:
            try:
                records.append(_record(row))
            except (ValueError, ValidationError) as exc:
                unreadable.append(ChainBreak(incident_id, int(row["seq"]), f"unreadable: {exc}"))
        report = verify_chain(incident_id, records, head, self._key)
        report.records_checked = len(rows)
        report.breaks[:0] = unreadable
        return report


def _normalised(event: AuditEvent) -> AuditEvent:
    """The event as it will read back: UTC time, data as plain JSON. Sealing this form makes the
    returned record equal to the stored one, whatever the caller put in `data`."""
    data = json.loads(json.dumps(event.data, ensure_ascii=False, default=str))
    return event.model_copy(update={"at": utc(event.at), "data": data})


def _row(record: AuditRecord) -> tuple[object, ...]:
    return (
        record.incident_id,
        record.seq,
        record.key,
        record.type.value,
        isoformat(record.at),
        record.actor,
        json.dumps(record.data, ensure_ascii=False, sort_keys=True),
        record.prev_hash,
        record.hash,
    )


def _record(row: aiosqlite.Row) -> AuditRecord:
    return AuditRecord(
        incident_id=row["incident_id"],
        seq=row["seq"],
        type=AuditEventType(row["type"]),
        key=row["key"],
        at=row["at"],
        actor=row["actor"],
        data=json.loads(row["data"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )
