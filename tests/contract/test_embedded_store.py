"""The SQLite IncidentStore against the IncidentStore conformance suite."""

from __future__ import annotations

import asyncio

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.incident import Incident
from tests.contract.incident_store_suite import IncidentStoreContract, incident
from tests.support.clock import ManualClock


class TestSqliteIncidentStore(IncidentStoreContract):
    @pytest.fixture
    async def store(self, db: Database, clock: ManualClock) -> SqliteIncidentStore:
        return await SqliteIncidentStore(db=db, clock=clock).open()


async def test_incidents_survive_a_reopen_of_the_database(db: Database, clock: ManualClock) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    saved = await store.save(await store.create(incident("inc-1", at=clock.now())))
    await db.close()

    reopened = await Database(db.path).open()
    try:
        again = await SqliteIncidentStore(db=reopened, clock=clock).open()
        assert await again.get("inc-1") == saved
    finally:
        await reopened.close()


async def test_lookups_use_indexes_not_table_scans(db: Database, clock: ManualClock) -> None:
    await SqliteIncidentStore(db=db, clock=clock).open()
    queries = [
        "SELECT doc FROM incidents WHERE alert_group_key = ? ORDER BY created_at DESC, rowid DESC",
        "SELECT doc FROM incidents WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC",
        "SELECT doc FROM incidents WHERE grouping_key = ? AND created_at >= ? AND status != ?",
        "SELECT COUNT(*) FROM incidents WHERE created_at >= ?",
    ]
    for sql in queries:
        params = tuple("x" for _ in range(sql.count("?")))
        plan = " ".join(
            str(row["detail"]) for row in await db.fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        )
        assert "USING" in plan, (sql, plan)
        assert "INDEX" in plan, (sql, plan)


async def test_a_consistent_read_never_sees_a_write_that_is_rolled_back(
    db: Database, clock: ManualClock
) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    created = await store.create(incident("inc-1", at=clock.now()))
    doomed = created.update(version=2, title="Never committed")
    written = asyncio.Event()

    async def failing_writer() -> None:
        async with db.transaction() as conn:
            await conn.execute(
                "UPDATE incidents SET version = 2, doc = ? WHERE id = 'inc-1'",
                (doomed.model_dump_json(),),
            )
            written.set()
            await asyncio.sleep(0.05)  # the reader asks while this write is uncommitted
            raise RuntimeError("crash before commit")

    async def reader() -> Incident | None:
        await written.wait()
        return await store.get("inc-1")

    outcome, read = await asyncio.gather(failing_writer(), reader(), return_exceptions=True)

    assert isinstance(outcome, RuntimeError)
    assert read == created
