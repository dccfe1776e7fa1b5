"""What every AuditLog must do. An adapter's test module subclasses `AuditLogContract` and
provides an `audit_log` fixture built on the `clock` fixture and keyed with AUDIT_KEY (see
test_embedded_audit_log.py). Tampering needs raw access to the storage, so those tests live with
each adapter."""

from __future__ import annotations

import asyncio
from datetime import timedelta, timezone
from typing import Any

import pytest

from incident_response.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditEventType,
    chain_hash,
)
from incident_response.ports import AuditLog
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock

T = AuditEventType


def event(
    clock: ManualClock,
    key: str,
    *,
    incident_id: str = "inc-1",
    type: AuditEventType = T.TIMELINE_NOTE_ADDED,
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    return AuditEvent(
        incident_id=incident_id,
        type=type,
        key=key,
        at=clock.now(),
        actor="ada@example.com",
        data=data if data is not None else {"note": f"note {key}"},
    )


class AuditLogContract:
    @pytest.fixture
    def audit_log(self) -> AuditLog:
        raise NotImplementedError("the adapter's test class provides an `audit_log` fixture")

    async def test_implements_the_port(self, audit_log: AuditLog) -> None:
        assert isinstance(audit_log, AuditLog)

    async def test_appends_are_chained_from_the_genesis_hash(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        first = await audit_log.append(event(clock, "k1", type=T.INCIDENT_OPENED))
        clock.advance(1)
        second = await audit_log.append(event(clock, "k2"))

        assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)
        assert (second.seq, second.prev_hash) == (2, first.hash)
        assert second.hash == chain_hash(second.event, 2, first.hash, AUDIT_KEY)
        assert first.type is T.INCIDENT_OPENED

    async def test_records_read_back_exactly_as_appended_in_chain_order(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        appended = []
        for n in range(5):
            data = {"n": n, "who": "Zoë", "nested": {"ok": True, "list": [1, 2.5, None]}}
            appended.append(await audit_log.append(event(clock, f"k{n}", data=data)))
            clock.advance(0.25)

        assert await audit_log.records("inc-1") == appended
        assert await audit_log.records("inc-unknown") == []

    async def test_an_event_time_in_another_zone_is_kept_as_the_same_instant(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        local = clock.now().astimezone(timezone(timedelta(hours=2)))
        stored = await audit_log.append(event(clock, "k1").model_copy(update={"at": local}))

        assert stored.at == clock.now()
        assert (await audit_log.records("inc-1"))[0].at == clock.now()
        assert (await audit_log.verify("inc-1")).ok

    async def test_the_same_key_twice_returns_the_stored_record_and_writes_nothing(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        stored = await audit_log.append(event(clock, "approval:d1:v1", data={"v": 1}))
        clock.advance(5)

        again = await audit_log.append(event(clock, "approval:d1:v1", data={"v": 2}))

        assert again == stored
        assert await audit_log.records("inc-1") == [stored]
        assert (await audit_log.verify("inc-1")).ok

    async def test_keys_and_chains_are_per_incident(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        a1 = await audit_log.append(event(clock, "opened", incident_id="inc-a"))
        b1 = await audit_log.append(event(clock, "opened", incident_id="inc-b"))
        a2 = await audit_log.append(event(clock, "note", incident_id="inc-a"))

        assert (a1.seq, b1.seq, a2.seq) == (1, 1, 2)
        assert b1.prev_hash == GENESIS_HASH
        assert await audit_log.records("inc-a") == [a1, a2]
        assert await audit_log.records("inc-b") == [b1]
        assert await audit_log.incident_ids() == ["inc-a", "inc-b"]

    async def test_find_returns_one_type_in_chain_order(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        approved = []
        for n in range(3):
            await audit_log.append(event(clock, f"note{n}"))
            approved.append(
                await audit_log.append(event(clock, f"ok{n}", type=T.STATUSPAGE_DRAFT_APPROVED))
            )
        await audit_log.append(
            event(clock, "other", incident_id="inc-2", type=T.STATUSPAGE_DRAFT_APPROVED)
        )

        assert await audit_log.find("inc-1", T.STATUSPAGE_DRAFT_APPROVED) == approved
        assert await audit_log.find("inc-1", T.STATUSPAGE_PUBLISHED) == []

    async def test_an_untouched_log_verifies_for_one_incident_and_for_all(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        for incident_id in ("inc-a", "inc-b", "inc-c"):
            for n in range(4):
                await audit_log.append(event(clock, f"k{n}", incident_id=incident_id))

        one = await audit_log.verify("inc-b")
        everything = await audit_log.verify()

        assert one.ok
        assert (one.incidents_checked, one.records_checked) == (1, 4)
        assert everything.ok
        assert (everything.incidents_checked, everything.records_checked) == (3, 12)

    async def test_an_empty_log_verifies(self, audit_log: AuditLog) -> None:
        report = await audit_log.verify()

        assert report.ok
        assert report.records_checked == 0
        assert (await audit_log.verify("inc-none")).ok
        assert await audit_log.incident_ids() == []

    async def test_fifty_concurrent_appends_make_one_valid_chain(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        events = [event(clock, f"k{n}") for n in range(50)]

        appended = await asyncio.gather(*(audit_log.append(e) for e in events))

        records = await audit_log.records("inc-1")
        assert [r.seq for r in records] == list(range(1, 51))
        assert sorted(r.key for r in records) == sorted(e.key for e in events)
        assert sorted(appended, key=lambda r: r.seq) == records
        assert (await audit_log.verify("inc-1")).ok

    async def test_concurrent_appends_of_one_key_store_it_once(
        self, audit_log: AuditLog, clock: ManualClock
    ) -> None:
        same = event(clock, "published:d1")

        results = await asyncio.gather(*(audit_log.append(same) for _ in range(10)))

        assert len({r.hash for r in results}) == 1
        assert await audit_log.records("inc-1") == [results[0]]

    @pytest.mark.parametrize(("incident_id", "key"), [("", "k1"), ("inc-1", "")])
    async def test_an_event_without_incident_or_key_is_refused(
        self, audit_log: AuditLog, clock: ManualClock, incident_id: str, key: str
    ) -> None:
        with pytest.raises(ValueError, match="incident_id and a key"):
            await audit_log.append(event(clock, key, incident_id=incident_id))

        assert await audit_log.incident_ids() == []
