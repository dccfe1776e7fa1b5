"""The shared SQLite database survives cancelled and failed transactions."""

from __future__ import annotations

import asyncio
import concurrent.futures
import multiprocessing
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.errors import StorageBusy


async def test_a_failed_transaction_rolls_back_and_the_next_one_works(db: Database) -> None:
    await db.migrate("t", "CREATE TABLE IF NOT EXISTS t (x INTEGER)")

    async def failing_write() -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (1)")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await failing_write()
    async with db.transaction() as conn:
        await conn.execute("INSERT INTO t VALUES (2)")
    assert [tuple(r) for r in await db.fetchall("SELECT x FROM t")] == [(2,)]


async def test_cancelling_a_writer_mid_transaction_leaves_the_connection_usable(
    db: Database,
) -> None:
    await db.migrate("t", "CREATE TABLE IF NOT EXISTS t (x INTEGER)")

    async def writer(n: int) -> None:
        async with db.transaction() as conn:
            await conn.execute("INSERT INTO t VALUES (?)", (n,))
            await asyncio.sleep(0)

    # cancel writers at every early point, including while BEGIN IMMEDIATE is in flight
    for delay_steps in range(6):
        task = asyncio.create_task(writer(100 + delay_steps))
        for _ in range(delay_steps):
            await asyncio.sleep(0)
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
    await writer(1)
    rows = [r[0] for r in await db.fetchall("SELECT x FROM t")]
    assert 1 in rows
    assert not db.conn.in_transaction


async def test_two_connections_on_one_file_wait_for_each_other_instead_of_failing(
    db: Database,
) -> None:
    """Another process on the same file (the other role) writing while this one reads and writes:
    every write waits for the lock, none fails with 'database is locked'."""
    await db.migrate("t", "CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    other = await Database(db.path).open()
    errors: list[BaseException] = []

    async def writes(on: Database) -> None:
        for n in range(100):
            try:
                async with on.transaction() as conn:
                    await conn.execute("INSERT INTO t VALUES (?)", (n,))
            except Exception as exc:
                errors.append(exc)

    async def reads(on: Database) -> None:
        for _ in range(100):
            try:
                await on.fetchone("SELECT x FROM t ORDER BY rowid DESC")
            except Exception as exc:
                errors.append(exc)

    try:
        await asyncio.gather(
            *(job(on) for job in (writes, reads) for on in (db, other) for _ in range(4))
        )
    finally:
        await other.close()

    assert errors == []
    [(count,)] = await db.fetchall("SELECT COUNT(*) FROM t")
    assert count == 2 * 4 * 100


async def test_a_write_lock_held_past_the_busy_timeout_is_storage_busy_and_writes_nothing(
    db: Database,
) -> None:
    await db.migrate("t", "CREATE TABLE IF NOT EXISTS t (x INTEGER)")
    await db.conn.execute("PRAGMA busy_timeout=50")  # rather than wait the full 10 s
    other_process = await Database(db.path).open()
    try:
        await other_process.conn.execute("BEGIN IMMEDIATE")
        with pytest.raises(StorageBusy):
            async with db.transaction() as conn:
                await conn.execute("INSERT INTO t VALUES (1)")
        await other_process.conn.execute("ROLLBACK")
    finally:
        await other_process.close()

    async with db.transaction() as conn:  # usable again once the lock is free
        await conn.execute("INSERT INTO t VALUES (2)")
    assert [tuple(r) for r in await db.fetchall("SELECT x FROM t")] == [(2,)]


def _open_in_a_process(path: str, start: Any) -> None:
    start.wait()  # all processes open the file at the same moment

    async def open_and_write() -> None:
        for _ in range(3):  # a role restarting while the other writes
            db = await Database(path).open()
            try:
                for n in range(30):
                    async with db.transaction() as conn:
                        await conn.execute("CREATE TABLE IF NOT EXISTS t (x INTEGER)")
                        await conn.execute("INSERT INTO t VALUES (?)", (n,))
            finally:
                await db.close()

    asyncio.run(open_and_write())


def test_processes_opening_a_fresh_database_together_all_start(tmp_path: Path) -> None:
    """The two roles start at once on a fresh data dir: switching the file to WAL must wait for
    the other process rather than fail with "database is locked" (which stopped a role)."""
    spawn = multiprocessing.get_context("spawn")
    with (
        spawn.Manager() as manager,
        concurrent.futures.ProcessPoolExecutor(max_workers=4, mp_context=spawn) as pool,
    ):
        for attempt in range(12):
            path = tmp_path / f"fresh-{attempt}.sqlite3"
            path.touch()  # as the data dir's preparation leaves it: an empty file
            start = manager.Barrier(4)
            opened = [pool.submit(_open_in_a_process, str(path), start) for _ in range(4)]
            for done in opened:
                done.result(timeout=60)
            with sqlite3.connect(path) as check:
                assert check.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
