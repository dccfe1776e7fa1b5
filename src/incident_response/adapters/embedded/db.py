"""One SQLite database file (WAL) shared by the embedded adapters.

aiosqlite runs the connection on its own thread, so queries never block the event loop. One
connection serves the whole process: SQLite allows a single writer anyway, and serialising our
own write transactions behind an asyncio lock is cheaper and more predictable than letting
several connections fight over the file lock. Other processes (the CLI's `audit verify`,
`token`, the other role of a two-role layout) open their own connection and wait on the busy
timeout.

That wait only works if this connection holds no read snapshot when it asks for the write lock:
upgrading a WAL snapshot that another process has since written past fails at once with
SQLITE_BUSY, without the busy handler. So every read runs to its end in one call on the
connection's thread (no cursor left open between awaits, where another coroutine's BEGIN could
slip in), and a lock that still cannot be had surfaces as the domain's `StorageBusy`.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from incident_response.domain.errors import StorageBusy

BUSY_TIMEOUT_MS = 10_000
_BUSY_CODES = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})


class Database:
    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else path
        self._conn: aiosqlite.Connection | None = None
        self._write_lock = asyncio.Lock()
        self._migrations: list[tuple[str, str]] = []

    @property
    def conn(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open: call `await db.open()` first")
        return self._conn

    async def open(self) -> Database:
        if self._conn is not None:
            return self
        if isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we issue BEGIN/COMMIT ourselves, so transactions are explicit
        self._conn = await aiosqlite.connect(str(self.path), isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        # first: switching a fresh file to WAL takes a lock that another process opening the
        # same file at the same moment may hold
        await self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await self._wal(self._conn)
        for pragma in (
            "PRAGMA synchronous=NORMAL",  # durable across process crashes in WAL mode
            "PRAGMA foreign_keys=ON",
        ):
            await self._conn.execute(pragma)
        return self

    @staticmethod
    async def _wal(conn: aiosqlite.Connection) -> None:
        """Switch to WAL, waiting out another process doing the same. SQLite does not run the
        busy handler for that switch (it upgrades a shared lock, which could deadlock), so two
        roles starting together on a fresh data dir see "database is locked" at once: retry."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + BUSY_TIMEOUT_MS / 1000
        pause = 0.01
        while True:
            try:
                await conn.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError as exc:
                code = getattr(exc, "sqlite_errorcode", 0) & 0xFF
                if code not in _BUSY_CODES or loop.time() >= deadline:
                    raise
            await asyncio.sleep(pause * random.uniform(0.5, 1.5))
            pause = min(pause * 2, 0.2)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def migrate(self, name: str, script: str) -> None:
        """Run an idempotent schema script (CREATE ... IF NOT EXISTS) once per process."""
        if (name, script) in self._migrations:
            return
        async with self.transaction() as conn:
            for statement in _statements(script):
                await conn.execute(statement)
        self._migrations.append((name, script))

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """A write transaction: BEGIN IMMEDIATE takes the file's write lock up front, so a
        read-then-write inside it (compare-and-set, next sequence number) cannot interleave.

        Raises StorageBusy, with nothing written, when the lock stays with another process for
        longer than the busy timeout."""
        async with self._write_lock:
            conn = self.conn
            try:
                with _busy_as_storage_busy():
                    await conn.execute("BEGIN IMMEDIATE")
                yield conn
            except BaseException:
                # Also when cancelled while BEGIN was in flight: aiosqlite runs statements in
                # order on its thread, so this ROLLBACK lands after that BEGIN, whenever it ran.
                await asyncio.shield(self._rollback(conn))
                raise
            else:
                await conn.execute("COMMIT")

    @staticmethod
    async def _rollback(conn: aiosqlite.Connection) -> None:
        with contextlib.suppress(sqlite3.OperationalError):  # BEGIN itself failed: no transaction
            await conn.execute("ROLLBACK")

    async def fetchone(self, sql: str, params: Sequence[Any] = ()) -> aiosqlite.Row | None:
        """The first row of a one-row query (a key lookup, LIMIT 1, an aggregate)."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        """Execute and fetch in one call on the connection's thread, so the statement (and its
        read snapshot) is finished before any other coroutine's statement runs."""
        with _busy_as_storage_busy():
            return list(await self.conn.execute_fetchall(sql, params))


@contextlib.contextmanager
def _busy_as_storage_busy() -> Iterator[None]:
    try:
        yield
    except sqlite3.OperationalError as exc:
        primary_code = getattr(exc, "sqlite_errorcode", 0) & 0xFF  # BUSY_SNAPSHOT is BUSY too
        if primary_code not in _BUSY_CODES:
            raise
        raise StorageBusy(f"the database is busy: {exc.sqlite_errorname}") from exc


def _statements(script: str) -> Iterable[str]:
    return (s.strip() for s in script.split(";") if s.strip())
