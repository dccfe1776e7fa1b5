"""The SQLite AuditLog against the AuditLog suite, plus tampering with its rows by raw SQL."""

from __future__ import annotations

import json

import pytest

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import ChainReport
from tests.contract.audit_log_suite import AuditLogContract, event
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock


class TestSqliteAuditLog(AuditLogContract):
    @pytest.fixture
    async def audit_log(self, db: Database, clock: ManualClock) -> SqliteAuditLog:
        return await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()


@pytest.fixture
async def chain(db: Database, clock: ManualClock) -> SqliteAuditLog:
    """Five records for inc-1 and two for inc-2, verified clean."""
    log = await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
    for n in range(1, 6):
        await log.append(event(clock, f"k{n}", data={"n": n}))
        clock.advance(1)
    for n in range(1, 3):
        await log.append(event(clock, f"k{n}", incident_id="inc-2"))
    assert (await log.verify()).ok
    return log


async def tamper(db: Database, sql: str, *params: object) -> None:
    await db.conn.execute(sql, params)


def broken_seqs(report: ChainReport) -> set[int]:
    return {b.seq for b in report.breaks}


async def test_editing_a_records_data_is_detected(db: Database, chain: SqliteAuditLog) -> None:
    await tamper(
        db,
        "UPDATE audit_records SET data = ? WHERE incident_id = 'inc-1' AND seq = 3",
        json.dumps({"n": 300}),
    )

    report = await chain.verify("inc-1")

    assert not report.ok
    assert broken_seqs(report) == {3}
    assert (await chain.verify("inc-2")).ok


async def test_editing_the_actor_or_time_is_detected(db: Database, chain: SqliteAuditLog) -> None:
    await tamper(
        db, "UPDATE audit_records SET actor = 'mallory' WHERE seq = 2 AND incident_id = 'inc-1'"
    )
    await tamper(
        db,
        "UPDATE audit_records SET at = '2020-01-01T00:00:00Z' WHERE seq = 4 AND incident_id = 'inc-1'",
    )

    assert broken_seqs(await chain.verify("inc-1")) == {2, 4}


async def test_deleting_a_middle_record_is_detected(db: Database, chain: SqliteAuditLog) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-1' AND seq = 3")

    report = await chain.verify()

    assert not report.ok
    assert {b.incident_id for b in report.breaks} == {"inc-1"}
    assert 4 in broken_seqs(report)


async def test_deleting_the_last_record_is_detected_by_the_chain_head(
    db: Database, chain: SqliteAuditLog
) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-1' AND seq = 5")

    report = await chain.verify("inc-1")

    assert not report.ok
    assert any("head" in b.problem for b in report.breaks)


async def test_deleting_every_record_of_an_incident_is_detected(
    db: Database, chain: SqliteAuditLog
) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-2'")

    report = await chain.verify()

    assert {b.incident_id for b in report.breaks} == {"inc-2"}


async def test_deleting_the_chain_head_is_detected(db: Database, chain: SqliteAuditLog) -> None:
    await tamper(db, "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-1'")

    assert not (await chain.verify("inc-1")).ok


async def test_swapping_two_records_seq_is_detected(db: Database, chain: SqliteAuditLog) -> None:
    await tamper(db, "UPDATE audit_records SET seq = -1 WHERE incident_id = 'inc-1' AND seq = 2")
    await tamper(db, "UPDATE audit_records SET seq = 2 WHERE incident_id = 'inc-1' AND seq = 4")
    await tamper(db, "UPDATE audit_records SET seq = 4 WHERE incident_id = 'inc-1' AND seq = -1")

    report = await chain.verify("inc-1")

    assert not report.ok
    assert {2, 4} <= broken_seqs(report)


async def test_a_record_with_an_unknown_type_is_reported_not_fatal(
    db: Database, chain: SqliteAuditLog
) -> None:
    await tamper(
        db, "UPDATE audit_records SET type = 'NO_SUCH_TYPE' WHERE incident_id = 'inc-1' AND seq = 1"
    )

    report = await chain.verify("inc-1")

    assert not report.ok
    assert any("unreadable" in b.problem for b in report.breaks)
    assert report.records_checked == 5


async def test_appends_after_tampering_keep_the_break_visible(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-1' AND seq = 5")

    added = await chain.append(event(clock, "k6"))

    assert added.seq == 6
    assert not (await chain.verify("inc-1")).ok


async def test_the_log_and_its_heads_survive_a_reopen(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    before = await chain.records("inc-1")
    await db.close()

    reopened = await Database(db.path).open()
    try:
        log = await SqliteAuditLog(db=reopened, clock=clock, key=AUDIT_KEY).open()
        assert await log.records("inc-1") == before
        assert (await log.verify()).ok
        assert (await log.append(event(clock, "k6"))).prev_hash == before[-1].hash
    finally:
        await reopened.close()
