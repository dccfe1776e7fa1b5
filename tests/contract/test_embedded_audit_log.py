"""The SQLite AuditLog against the AuditLog suite, plus tampering with its rows by raw SQL."""

from __future__ import annotations

import hashlib
import json

import pytest

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import (
    ALL_CHAINS,
    GENESIS_HASH,
    AuditKey,
    ChainHead,
    ChainReport,
    canonical_bytes,
    seal,
)
from incident_response.domain.clock import isoformat
from tests.contract.audit_log_suite import AuditLogContract, T, event
from tests.support.audit import AUDIT_KEY, OTHER_KEY
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


async def test_truncating_the_tail_and_moving_the_head_back_is_detected(
    db: Database, chain: SqliteAuditLog
) -> None:
    """The last two records go, and the head is set to the genuine record now last."""
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-1' AND seq > 3")
    await tamper(
        db,
        "UPDATE audit_chain_heads SET seq = 3, hash = (SELECT hash FROM audit_records"
        " WHERE incident_id = 'inc-1' AND seq = 3) WHERE incident_id = 'inc-1'",
    )

    report = await chain.verify("inc-1")

    assert not report.ok
    assert any("chain head does not match its MAC" in b.problem for b in report.breaks)


async def test_a_head_copied_from_another_incident_is_detected(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    """inc-3 gets two records like inc-2's; inc-2's head is then given inc-3's place."""
    for n in range(1, 3):
        await chain.append(event(clock, f"k{n}", incident_id="inc-3"))
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-2'")
    await tamper(db, "UPDATE audit_records SET incident_id = 'inc-2' WHERE incident_id = 'inc-3'")
    await tamper(db, "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-2'")
    await tamper(
        db, "UPDATE audit_chain_heads SET incident_id = 'inc-2' WHERE incident_id = 'inc-3'"
    )

    report = await chain.verify("inc-2")

    assert not report.ok
    assert any("MAC" in b.problem for b in report.breaks)


async def test_a_chain_re_sealed_without_the_key_is_detected(
    db: Database, chain: SqliteAuditLog
) -> None:
    """An editor changes a record and re-seals the chain from there with the project's own
    functions, which is all they can do without the key: every hash and the head look right."""
    records = await chain.records("inc-1")
    prev = records[1].hash
    for record in records[2:]:
        changed = record.event
        if record.seq == 3:
            changed = changed.model_copy(update={"actor": "mallory@example.com"})
        resealed = seal(changed, record.seq, prev, OTHER_KEY)
        await tamper(
            db,
            "UPDATE audit_records SET actor = ?, prev_hash = ?, hash = ?"
            " WHERE incident_id = 'inc-1' AND seq = ?",
            resealed.actor,
            resealed.prev_hash,
            resealed.hash,
            record.seq,
        )
        prev = resealed.hash
    head = ChainHead.sealed("inc-1", records[-1].seq, prev, OTHER_KEY)
    await tamper(
        db,
        "UPDATE audit_chain_heads SET hash = ?, mac = ? WHERE incident_id = 'inc-1'",
        head.hash,
        head.mac,
    )

    report = await chain.verify("inc-1")

    assert broken_seqs(report) == {3, 4, 5}
    assert any("head does not match its MAC" in b.problem for b in report.breaks)


async def test_deleting_a_whole_chain_with_its_head_is_detected_by_the_chain_count(
    db: Database, chain: SqliteAuditLog
) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-2'")
    await tamper(db, "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-2'")

    assert (await chain.verify("inc-1")).ok
    report = await chain.verify()

    assert [(b.incident_id, b.problem) for b in report.breaks] == [
        (ALL_CHAINS, "the log started 2 chains but holds 1: whole chains were deleted or added")
    ]


async def test_a_deleted_or_forged_chain_count_is_detected(
    db: Database, chain: SqliteAuditLog
) -> None:
    await tamper(db, "UPDATE audit_chain_count SET chains = 1")
    assert any("count does not match its MAC" in b.problem for b in (await chain.verify()).breaks)

    await tamper(db, "DELETE FROM audit_chain_count")
    assert any("count is missing" in b.problem for b in (await chain.verify()).breaks)


async def test_another_key_finds_every_chain_broken_and_says_the_key_may_be_wrong(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    other = await SqliteAuditLog(db=db, clock=clock, key=OTHER_KEY).open()

    report = await other.verify()

    assert {b.incident_id for b in report.breaks} == {ALL_CHAINS, "inc-1", "inc-2"}
    assert all("key may be wrong" in b.problem for b in report.breaks)
    assert "tests-audit-key" not in repr(AUDIT_KEY) + str(AUDIT_KEY)


async def test_a_log_sealed_with_plain_sha256_opens_and_fails_verification(
    db: Database, clock: ManualClock
) -> None:
    """A database from before the key: its head table has no MAC column and its hashes are bare
    SHA-256. It still opens and takes appends, but its old records and its head never verify."""
    await tamper(
        db,
        "CREATE TABLE audit_chain_heads"
        " (incident_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, hash TEXT NOT NULL)",
    )
    opened = event(clock, "k1", type=T.INCIDENT_OPENED)
    old_hash = hashlib.sha256(canonical_bytes(opened, 1, GENESIS_HASH)).hexdigest()
    log = await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
    await tamper(
        db,
        "INSERT INTO audit_records (incident_id, seq, key, type, at, actor, data, prev_hash, hash)"
        " VALUES ('inc-1', 1, 'k1', 'INCIDENT_OPENED', ?, ?, ?, ?, ?)",
        isoformat(opened.at),
        opened.actor,
        json.dumps(opened.data),
        GENESIS_HASH,
        old_hash,
    )
    await tamper(
        db,
        "INSERT INTO audit_chain_heads (incident_id, seq, hash) VALUES ('inc-1', 1, ?)",
        old_hash,
    )

    added = await log.append(event(clock, "k2"))

    assert (added.seq, added.prev_hash) == (2, old_hash)
    breaks = (await log.verify("inc-1")).breaks
    assert [(b.seq, b.problem.split(":")[0]) for b in breaks] == [
        (1, "content does not match its hash"),
        (2, "chain head unsealed"),
    ]


async def test_appends_after_a_cut_tail_and_a_moved_head_do_not_re_seal_it(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    """The service goes on appending to the tampered chain; the head it writes stays unsealed."""
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-1' AND seq > 3")
    await tamper(
        db,
        "UPDATE audit_chain_heads SET seq = 3, hash = (SELECT hash FROM audit_records"
        " WHERE incident_id = 'inc-1' AND seq = 3) WHERE incident_id = 'inc-1'",
    )

    for n in range(6, 8):
        await chain.append(event(clock, f"k{n}"))

    problems = [b.problem for b in (await chain.verify("inc-1")).breaks]
    assert len(problems) == 1
    assert problems[0].startswith("chain head unsealed")


async def test_appends_after_the_head_and_tail_were_deleted_do_not_re_seal_it(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-1' AND seq > 3")
    await tamper(db, "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-1'")

    added = await chain.append(event(clock, "k6"))

    assert added.seq == 4
    assert [b.seq for b in (await chain.verify("inc-1")).breaks] == [4]


async def test_chains_started_after_the_count_was_forged_do_not_re_seal_it(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    """inc-2 is deleted whole and the count lowered to match; a new chain then starts."""
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-2'")
    await tamper(db, "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-2'")
    await tamper(db, "UPDATE audit_chain_count SET chains = 1")

    await chain.append(event(clock, "k1", incident_id="inc-3"))

    problems = [b.problem for b in (await chain.verify()).breaks]
    assert len(problems) == 1
    assert problems[0].startswith("the chain count is unsealed")


async def test_chains_started_after_the_count_was_deleted_do_not_re_seal_it(
    db: Database, chain: SqliteAuditLog, clock: ManualClock
) -> None:
    await tamper(db, "DELETE FROM audit_records WHERE incident_id = 'inc-2'")
    await tamper(db, "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-2'")
    await tamper(db, "DELETE FROM audit_chain_count")

    await chain.append(event(clock, "k1", incident_id="inc-3"))

    assert [b.problem for b in (await chain.verify()).breaks] == [
        "the chain count is unsealed: it was already forged or missing when a later chain was "
        "started, or the audit key may be wrong or missing"
    ]


def test_an_audit_key_is_never_empty_and_never_shown() -> None:
    with pytest.raises(ValueError, match="cannot be empty"):
        AuditKey(b"")

    assert repr(AuditKey(b"s3cret-s3cret-s3cret")) == "AuditKey()"
