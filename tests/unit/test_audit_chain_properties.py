"""Properties of the SQLite audit log's hash chain: whatever is appended verifies, and any single
change to the stored rows (data, deletion, reordering, a tail cut off with the head moved back) is
caught by `verify`."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import AuditEvent, AuditEventType, ChainReport
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock

R = TypeVar("R")

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=8,
)
event_specs = st.tuples(
    st.sampled_from(["inc-a", "inc-b"]),
    st.sampled_from(list(AuditEventType)),
    st.sampled_from([f"k{n}" for n in range(8)]),  # few keys, so repeats (idempotency) happen
    st.dictionaries(st.text(max_size=6), json_values, max_size=4),
    st.floats(min_value=0, max_value=3600),
)
appends = st.lists(event_specs, min_size=1, max_size=25)

PROPERTY_SETTINGS = settings(
    max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


def with_log(scenario: Callable[[Database, SqliteAuditLog, ManualClock], Awaitable[R]]) -> R:
    """Run `scenario` on a fresh log in its own database file and event loop."""

    async def run() -> R:
        with tempfile.TemporaryDirectory() as tmp:
            db = await Database(Path(tmp) / "audit.sqlite3").open()
            try:
                clock = ManualClock()
                log = await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
                return await scenario(db, log, clock)
            finally:
                await db.close()

    return asyncio.run(run())


async def append_all(
    log: SqliteAuditLog, clock: ManualClock, specs: list[tuple[Any, ...]]
) -> dict[str, list[str]]:
    """Append every spec; the keys each incident's chain should hold, in first-append order."""
    expected: dict[str, list[str]] = {}
    for incident_id, type_, key, data, pause in specs:
        clock.advance(pause)
        await log.append(
            AuditEvent(incident_id=incident_id, type=type_, key=key, at=clock.now(), data=data)
        )
        keys = expected.setdefault(incident_id, [])
        if key not in keys:
            keys.append(key)
    return expected


def canonical(value: object) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


@PROPERTY_SETTINGS
@given(specs=appends)
def test_any_sequence_of_appends_verifies(specs: list[tuple[Any, ...]]) -> None:
    async def scenario(db: Database, log: SqliteAuditLog, clock: ManualClock) -> None:
        expected = await append_all(log, clock, specs)

        report = await log.verify()

        assert report.ok, report.breaks
        assert report.records_checked == sum(len(keys) for keys in expected.values())
        assert await log.incident_ids() == sorted(expected)
        for incident_id, keys in expected.items():
            records = await log.records(incident_id)
            assert [r.key for r in records] == keys
            assert [r.seq for r in records] == list(range(1, len(keys) + 1))

    with_log(scenario)


@PROPERTY_SETTINGS
@given(
    specs=appends,
    mutation=st.sampled_from(["data", "actor", "delete", "swap", "truncate"]),
    data=st.data(),
)
def test_any_single_change_to_the_stored_rows_is_detected(
    specs: list[tuple[Any, ...]], mutation: str, data: st.DataObject
) -> None:
    async def scenario(db: Database, log: SqliteAuditLog, clock: ManualClock) -> ChainReport:
        await append_all(log, clock, specs)
        rows = await db.fetchall("SELECT incident_id, seq, data FROM audit_records")
        where = "WHERE incident_id = ? AND seq = ?"
        if mutation not in ("swap", "truncate"):
            target = data.draw(st.sampled_from(rows), label="target")
            at = (target["incident_id"], target["seq"])
        if mutation == "truncate":
            # cut the chain after a genuine record, and make that record the head
            earlier = [
                r
                for r in rows
                if r["seq"] < max(o["seq"] for o in rows if o["incident_id"] == r["incident_id"])
            ]
            assume(earlier)
            cut = data.draw(st.sampled_from(earlier), label="new last record")
            incident, seq = cut["incident_id"], cut["seq"]
            await db.conn.execute(
                "DELETE FROM audit_records WHERE incident_id = ? AND seq > ?", (incident, seq)
            )
            await db.conn.execute(
                "UPDATE audit_chain_heads SET seq = ?, hash = (SELECT hash FROM audit_records"
                f" {where}) WHERE incident_id = ?",
                (seq, incident, seq, incident),
            )
        elif mutation == "data":
            new = data.draw(
                st.dictionaries(st.text(max_size=6), json_values, max_size=4).filter(
                    lambda d: canonical(d) != canonical(json.loads(target["data"]))
                ),
                label="new data",
            )
            await db.conn.execute(
                f"UPDATE audit_records SET data = ? {where}", (json.dumps(new), *at)
            )
        elif mutation == "actor":
            await db.conn.execute(f"UPDATE audit_records SET actor = actor || 'x' {where}", at)
        elif mutation == "delete":
            await db.conn.execute(f"DELETE FROM audit_records {where}", at)
        else:
            pairs = [
                (a["incident_id"], a["seq"], b["seq"])
                for a in rows
                for b in rows
                if a["incident_id"] == b["incident_id"] and a["seq"] < b["seq"]
            ]
            assume(pairs)  # a swap needs a chain of two records or more
            incident, first, second = data.draw(st.sampled_from(pairs), label="swap seqs")
            for old, new_seq in ((first, -1), (second, first), (-1, second)):
                await db.conn.execute(
                    f"UPDATE audit_records SET seq = ? {where}", (new_seq, incident, old)
                )
        return await log.verify()

    report = with_log(scenario)

    assert not report.ok
