"""The DynamoDB AuditLog against the AuditLog suite on a moto server (real HTTP), plus tampering
with its items, and the ConsistentRead the approval gate depends on."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from incident_response.adapters.aws.dynamodb_audit import DynamoDbAuditLog
from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import ALL_CHAINS, AuditEvent, ChainReport
from tests.contract.audit_log_suite import AuditLogContract, T, event
from tests.support.audit import AUDIT_KEY, OTHER_KEY
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables, record_requests
from tests.unit.test_status_update_gate import IC, INCIDENT_ID, RESPONDER, build_world


def make_log(tables: Tables, clock: ManualClock) -> DynamoDbAuditLog:
    return DynamoDbAuditLog(client=tables.client, table=tables.audit, clock=clock, key=AUDIT_KEY)


class TestDynamoDbAuditLog(AuditLogContract):
    @pytest.fixture
    def audit_log(self, dynamodb: Tables, clock: ManualClock) -> DynamoDbAuditLog:
        return make_log(dynamodb, clock)


@pytest.fixture
async def chain(dynamodb: Tables, clock: ManualClock) -> DynamoDbAuditLog:
    """Five records for inc-1 and two for inc-2, verified clean."""
    log = make_log(dynamodb, clock)
    for n in range(1, 6):
        await log.append(event(clock, f"k{n}", data={"n": n}))
        clock.advance(1)
    for n in range(1, 3):
        await log.append(event(clock, f"k{n}", incident_id="inc-2"))
    assert (await log.verify()).ok
    return log


def approval(clock: ManualClock, draft_id: str = "d1", version: int = 1) -> AuditEvent:
    return event(
        clock,
        f"approved:{draft_id}:{version}",
        type=T.STATUSPAGE_DRAFT_APPROVED,
        data={"draft_id": draft_id, "version": version, "content_hash": "h1"},
    )


async def test_the_approval_re_verification_reads_consistently(
    dynamodb: Tables, clock: ManualClock
) -> None:
    """The gate publishes on what `find(..., STATUSPAGE_DRAFT_APPROVED)` returns (step 3 of
    status_update_gate.py): an eventually consistent read may miss the approval another replica
    has just written, so every read DynamoDB is sent on that path must be consistent."""
    log = make_log(dynamodb, clock)
    await log.append(approval(clock))
    sent = record_requests(dynamodb.client)

    found = await log.find("inc-1", T.STATUSPAGE_DRAFT_APPROVED)
    everything = await log.records("inc-1")

    assert [r.key for r in found] == ["approved:d1:1"]
    assert everything == found
    assert [operation for operation, _ in sent] == ["Query", "Query"]
    assert all(params.get("ConsistentRead") is True for _, params in sent)


async def test_an_append_reads_the_key_and_head_consistently(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = make_log(dynamodb, clock)
    await log.append(event(clock, "k1"))
    sent = record_requests(dynamodb.client)

    await log.append(event(clock, "k2"))
    await log.append(event(clock, "k2"))  # already stored: found by its key

    reads = [params for operation, params in sent if operation in {"GetItem", "Query"}]
    assert reads
    assert all(params.get("ConsistentRead") is True for params in reads)
    assert [op for op, _ in sent].count("TransactWriteItems") == 1


async def test_the_chain_is_the_one_the_sqlite_log_computes(
    dynamodb: Tables, db: Database, clock: ManualClock
) -> None:
    sqlite = await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
    dynamo = make_log(dynamodb, clock)
    for n in range(4):
        one = event(clock, f"k{n}", data={"n": n, "who": "Zoë"})
        assert await dynamo.append(one) == await sqlite.append(one)
        clock.advance(1)

    assert await dynamo.records("inc-1") == await sqlite.records("inc-1")


def edit_data(dynamodb: Tables, sk: str, data: dict[str, Any]) -> None:
    dynamodb.raw().update_item(
        TableName=dynamodb.audit,
        Key={"pk": {"S": "AUDIT#inc-1"}, "sk": {"S": sk}},
        UpdateExpression="SET #d = :d",
        ExpressionAttributeNames={"#d": "data"},
        ExpressionAttributeValues={":d": {"S": json.dumps(data)}},
    )


def delete(dynamodb: Tables, pk: str, sk: str) -> None:
    dynamodb.raw().delete_item(TableName=dynamodb.audit, Key={"pk": {"S": pk}, "sk": {"S": sk}})


def broken_seqs(report: ChainReport) -> set[int]:
    return {b.seq for b in report.breaks}


async def test_editing_a_records_data_is_detected(
    dynamodb: Tables, chain: DynamoDbAuditLog
) -> None:
    edit_data(dynamodb, "RECORD#0000000003", {"n": 300})

    report = await chain.verify("inc-1")

    assert broken_seqs(report) == {3}
    assert (await chain.verify("inc-2")).ok


async def test_deleting_the_newest_record_is_caught_by_the_head(
    dynamodb: Tables, chain: DynamoDbAuditLog
) -> None:
    delete(dynamodb, "AUDIT#inc-1", "RECORD#0000000005")

    report = await chain.verify("inc-1")

    assert not report.ok
    assert "head says seq 5" in report.breaks[0].problem


async def test_deleting_a_whole_chain_is_caught_by_the_count(
    dynamodb: Tables, chain: DynamoDbAuditLog
) -> None:
    raw = dynamodb.raw()
    for page in raw.get_paginator("query").paginate(
        TableName=dynamodb.audit,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": "AUDIT#inc-2"}},
    ):
        for item in page["Items"]:
            delete(dynamodb, item["pk"]["S"], item["sk"]["S"])

    report = await chain.verify()

    assert [(b.incident_id, b.seq) for b in report.breaks] == [(ALL_CHAINS, 0)]
    assert "started 2 chains but holds 1" in report.breaks[0].problem


async def test_a_log_sealed_with_another_key_does_not_verify(
    dynamodb: Tables, chain: DynamoDbAuditLog, clock: ManualClock
) -> None:
    other = DynamoDbAuditLog(
        client=dynamodb.client, table=dynamodb.audit, clock=clock, key=OTHER_KEY
    )

    assert not await other.key_matches()
    assert not (await other.verify("inc-1")).ok
    assert await chain.key_matches()


async def test_the_gate_publishes_on_a_consistent_read_of_the_approval(
    dynamodb: Tables, db: Database, clock: ManualClock
) -> None:
    """The real StatusUpdateGate on the DynamoDB audit log: the read its publish decision rests
    on (the STATUSPAGE_DRAFT_APPROVED records) is sent with ConsistentRead."""
    world = await build_world(db, clock)
    world.audit = make_log(dynamodb, clock)
    world.gate = world.new_gate()
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    sent = record_requests(dynamodb.client)

    outcome = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)

    assert outcome.published_now
    approval_reads = [
        params
        for operation, params in sent
        if operation == "Query"
        and params.get("ExpressionAttributeValues", {}).get(":type")
        == {"S": T.STATUSPAGE_DRAFT_APPROVED.value}
    ]
    assert approval_reads, "the gate did not re-read the approval"
    assert all(params.get("ConsistentRead") is True for params in approval_reads)


async def test_probe_names_the_table(dynamodb: Tables, clock: ManualClock) -> None:
    assert "ir-test-audit" in await make_log(dynamodb, clock).probe()


async def test_a_chain_started_while_verify_scans_is_not_a_break(
    dynamodb: Tables, chain: DynamoDbAuditLog, clock: ManualClock
) -> None:
    """Another process opens an incident just after verify listed the chains: the count has
    moved, and verify reads again instead of reporting a chain as added."""
    other_process = DynamoDbAuditLog(
        client=dynamodb.raw(), table=dynamodb.audit, clock=clock, key=AUDIT_KEY
    )
    started: list[str] = []

    def open_an_incident(**_: Any) -> None:
        if not started:
            started.append("inc-new")
            asyncio.run(other_process.append(event(clock, "opened", incident_id="inc-new")))

    dynamodb.client.meta.events.register("after-call.dynamodb.Scan", open_an_incident)

    report = await chain.verify()

    assert started == ["inc-new"]
    assert report.ok, report.breaks
    assert report.incidents_checked == 3
