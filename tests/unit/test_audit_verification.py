"""Audit verification beside the IncidentStore: every incident keeps a chain from INCIDENT_OPENED
on, and a chain without its incident is reported (the SQLite store and log, tampered by raw SQL)."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.commands.registry import OUTSIDE_INCIDENTS
from incident_response.domain.audit import ALL_CHAINS, AuditEvent, AuditEventType, ChainReport
from incident_response.services.audit_verification import verify_audit_trail
from tests.contract.incident_samples import sample_incident
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock

T = AuditEventType


class Trail:
    def __init__(self, db: Database, store: SqliteIncidentStore, audit: SqliteAuditLog) -> None:
        self.db = db
        self.store = store
        self.audit = audit

    async def record(self, incident_id: str, type: AuditEventType, key: str) -> None:
        await self.audit.append(
            AuditEvent(incident_id=incident_id, type=type, key=key, at=sample_incident().created_at)
        )

    async def open_incident(self, incident_id: str) -> None:
        await self.store.create(sample_incident(id=incident_id))
        await self.record(incident_id, T.INCIDENT_OPENED, "opened")
        await self.record(incident_id, T.WAR_ROOM_CREATED, "create_channel")

    async def verify(self, incident_id: str | None = None) -> ChainReport:
        return await verify_audit_trail(
            store=self.store,
            audit=self.audit,
            not_incidents={OUTSIDE_INCIDENTS},
            incident_id=incident_id,
        )

    async def tamper(self, sql: str, *params: object) -> None:
        await self.db.conn.execute(sql, params)


def problems(report: ChainReport) -> list[tuple[str, str]]:
    return [(b.incident_id, b.problem) for b in report.breaks]


@pytest.fixture
async def trail(db: Database, clock: ManualClock) -> Trail:
    """Two incidents with their chains, and a command typed outside any incident."""
    world = Trail(
        db,
        await SqliteIncidentStore(db=db, clock=clock).open(),
        await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open(),
    )
    await world.open_incident("inc-1")
    await world.open_incident("inc-2")
    await world.record(OUTSIDE_INCIDENTS, T.SLASH_COMMAND_RECEIVED, "slash-command:1")
    return world


async def test_incidents_with_whole_chains_and_the_outside_chain_verify(trail: Trail) -> None:
    report = await trail.verify()

    assert report.ok, report.breaks
    assert (report.incidents_checked, report.records_checked) == (3, 5)
    assert (await trail.verify("inc-2")).ok


async def test_deleting_an_incidents_whole_chain_while_the_incident_remains_is_detected(
    trail: Trail,
) -> None:
    await trail.tamper("DELETE FROM audit_records WHERE incident_id = 'inc-2'")
    await trail.tamper("DELETE FROM audit_chain_heads WHERE incident_id = 'inc-2'")

    report = await trail.verify()

    assert (
        "inc-2",
        "the incident has no audit chain: it was deleted, or its opening never recorded",
    ) in problems(report)
    assert not (await trail.verify("inc-2")).ok
    assert (await trail.verify("inc-1")).ok


async def test_a_chain_that_no_longer_starts_with_incident_opened_is_detected(
    trail: Trail,
) -> None:
    """The chain and its head are deleted; the service then appends, starting a fresh chain
    that is whole and correctly keyed, but no longer begins where every incident's does."""
    await trail.tamper("DELETE FROM audit_records WHERE incident_id = 'inc-2'")
    await trail.tamper("DELETE FROM audit_chain_heads WHERE incident_id = 'inc-2'")
    await trail.record("inc-2", T.STATUS_REMINDER_SENT, "nudge:1")

    one = await trail.verify("inc-2")

    assert problems(one) == [
        (
            "inc-2",
            "chain does not start with INCIDENT_OPENED or INCIDENT_DECLARED: its start was deleted",
        )
    ]
    assert ("inc-2", problems(one)[0][1]) in problems(await trail.verify())


async def test_a_declared_incidents_chain_starts_with_its_declaration(trail: Trail) -> None:
    await trail.store.create(sample_incident(id="inc-3"))
    await trail.record("inc-3", T.INCIDENT_DECLARED, "declared")
    await trail.record("inc-3", T.IC_ASSIGNED, "declared:ic")

    assert (await trail.verify()).ok, (await trail.verify()).breaks


async def test_an_incident_whose_chain_never_had_its_opening_is_reported(trail: Trail) -> None:
    await trail.store.create(sample_incident(id="inc-3"))
    await trail.record("inc-3", T.WAR_ROOM_CREATED, "create_channel")

    assert [b.seq for b in (await trail.verify()).breaks if b.incident_id == "inc-3"] == [1]


async def test_a_chain_whose_incident_was_deleted_is_reported(trail: Trail) -> None:
    await trail.tamper("DELETE FROM incidents WHERE id = 'inc-1'")

    assert problems(await trail.verify()) == [
        ("inc-1", "no incident has this chain: the incident was deleted")
    ]


async def test_deleting_an_incident_with_its_chain_is_caught_by_the_chain_count(
    trail: Trail,
) -> None:
    for sql in (
        "DELETE FROM incidents WHERE id = 'inc-1'",
        "DELETE FROM audit_records WHERE incident_id = 'inc-1'",
        "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-1'",
    ):
        await trail.tamper(sql)

    assert [b.incident_id for b in (await trail.verify()).breaks] == [ALL_CHAINS]


async def test_the_outside_chain_needs_no_incident_but_is_still_verified(trail: Trail) -> None:
    await trail.tamper(
        "UPDATE audit_records SET actor = 'mallory' WHERE incident_id = ?", OUTSIDE_INCIDENTS
    )

    report = await trail.verify()

    assert problems(report) == [(OUTSIDE_INCIDENTS, "content does not match its hash")]
