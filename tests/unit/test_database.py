"""The shared SQLite database survives cancelled and failed transactions."""

from __future__ import annotations

import asyncio

import pytest

from incident_response.adapters.embedded.db import Database


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
