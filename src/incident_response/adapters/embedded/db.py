"""One SQLite database file (WAL) shared by the embedded adapters.

aiosqlite runs the connection on its own thread, so queries never block the event loop. One
connection serves the whole process: SQLite allows a single writer anyway, and serialising our
own write transactions behind an asyncio lock is cheaper and more predictable than letting
several connections fight over the file lock. Other processes (the CLI's `audit verify`,
`token`) open their own connection and wait on the busy timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

BUSY_TIMEOUT_MS = 10_000


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
        for pragma in (
            "PRAGMA journal_mode=WAL",
            "PRAGMA synchronous=NORMAL",  # durable across process crashes in WAL mode
            "PRAGMA foreign_keys=ON",
            f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
        ):
            await self._conn.execute(pragma)
        return self

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
        read-then-write inside it (compare-and-set, next sequence number) cannot interleave."""
        async with self._write_lock:
            conn = self.conn
            try:
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
        async with self.conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[aiosqlite.Row]:
        async with self.conn.execute(sql, params) as cursor:
            return list(await cursor.fetchall())


def _statements(script: str) -> Iterable[str]:
    return (s.strip() for s in script.split(";") if s.strip())
