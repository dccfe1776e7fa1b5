"""The SQLite IncidentStore against the IncidentStore conformance suite."""

from __future__ import annotations

import asyncio
from datetime import datetime

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.alert import AlertEventKind, AlertSource, alert_group_key
from incident_response.domain.incident import AttachedAlert, Incident, IncidentStatus
from tests.contract.incident_store_suite import IncidentStoreContract, claim, incident
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
        "SELECT i.doc FROM alert_group_claims AS c"
        " JOIN incidents AS i ON i.id = c.incident_id WHERE c.alert_group_key = ?",
        "SELECT c.reason, i.doc FROM delivery_claims AS c"
        " JOIN incidents AS i ON i.id = c.incident_id WHERE c.delivery_id = ?",
        "SELECT doc FROM incidents WHERE channel_id = ? ORDER BY created_at DESC, rowid DESC",
        "SELECT doc FROM incidents WHERE grouping_key = ? AND created_at >= ? AND status != ?",
        "SELECT COUNT(*) FROM incidents WHERE created_at >= ?",
        "SELECT doc FROM alert_deliveries WHERE processed_at IS NULL AND requeued_at IS NULL"
        " AND recorded_at > ? AND recorded_at <= ? ORDER BY recorded_at LIMIT ?",
    ]
    for sql in queries:
        params = tuple("x" for _ in range(sql.count("?")))
        plan = " ".join(
            str(row["detail"]) for row in await db.fetchall(f"EXPLAIN QUERY PLAN {sql}", params)
        )
        assert "USING" in plan, (sql, plan)
        assert "INDEX" in plan, (sql, plan)
        assert "SCAN" not in plan, (sql, plan)


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


def attached(delivery: str, group: str, at: datetime) -> AttachedAlert:
    return AttachedAlert(
        alert_group_key=alert_group_key(AlertSource.ALERTMANAGER, group),
        delivery_id=delivery,
        title="Checkout errors",
        kind=AlertEventKind.FIRING,
        at=at,
    )


async def reopen(db: Database, clock: ManualClock) -> tuple[Database, SqliteIncidentStore]:
    """A new process on the same file (the caller closes the database)."""
    await db.close()
    again = await Database(db.path).open()
    return again, await SqliteIncidentStore(db=again, clock=clock).open()


async def test_incidents_from_before_claims_get_their_claims_when_the_store_opens(
    db: Database, clock: ManualClock
) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    first = await store.create(
        incident("inc-a", at=clock.now(), group="g1").update(
            alerts=(attached("d-1", "g1", clock.now()), attached("d-2", "g2", clock.now()))
        )
    )
    # the group came back after resolution, and d-2 was put in two incidents (the old bug)
    later = await store.create(
        incident("inc-b", at=clock.advance(600), group="g1").update(
            alerts=(attached("d-3", "g1", clock.now()), attached("d-2", "g2", clock.now()))
        )
    )
    for table in ("delivery_claims", "alert_group_claims"):  # as a database from before claims
        async with db.transaction() as conn:
            await conn.execute(f"DROP TABLE {table}")

    db, store = await reopen(db, clock)
    try:
        assert await store.find_by_delivery("d-1") == (first, claim("d-1", group="g1"))
        assert await store.find_by_delivery("d-2") == (first, claim("d-2", group="g2"))
        assert await store.find_by_delivery("d-3") == (later, claim("d-3", group="g1"))
        assert await store.find_by_alert_group(later.alert_group_key) == later
        assert await store.find_by_alert_group(claim("x", group="g2").alert_group_key) == later
    finally:
        await db.close()


async def test_the_backfill_runs_once_and_never_undoes_a_claim(
    db: Database, clock: ManualClock
) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    old = await store.create(
        incident("inc-a", at=clock.now()).update(alerts=(attached("d-1", "grp-1", clock.now()),))
    )
    db, store = await reopen(db, clock)
    try:
        resolved = await store.save(old.transition(IncidentStatus.RESOLVED, at=clock.advance(60)))
        new = await store.create(
            incident("inc-b", at=clock.now()), claim=claim("d-2", moves_from="inc-a")
        )
        db, store = await reopen(db, clock)

        assert await store.find_by_alert_group(new.alert_group_key) == new
        assert await store.find_by_delivery("d-1") == (resolved, claim("d-1"))
    finally:
        await db.close()


async def test_a_delivery_table_from_before_the_outbox_relay_gets_its_column(
    db: Database, clock: ManualClock
) -> None:
    async with db.transaction() as conn:
        await conn.execute(
            "CREATE TABLE alert_deliveries (delivery_id TEXT PRIMARY KEY, alert_group_key TEXT"
            " NOT NULL, recorded_at TEXT NOT NULL, doc TEXT NOT NULL, incident_id TEXT,"
            " processed_at TEXT)"
        )

    store = await SqliteIncidentStore(db=db, clock=clock).open()
    await SqliteIncidentStore(db=db, clock=clock).open()  # a second process: no second ALTER

    columns = {str(c["name"]) for c in await db.fetchall("PRAGMA table_info(alert_deliveries)")}
    assert "requeued_at" in columns
    await store.mark_alert_requeued("d-none")
