"""The DynamoDB AuditLog when DynamoDB refuses, pages or races (moto over real HTTP): every
refusal is a VendorError naming what was being done, pages are all read, and a writer that keeps
losing the race to another process gives up with ConcurrentUpdate instead of looping."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from incident_response.adapters.aws.dynamodb_audit import DynamoDbAuditLog
from incident_response.domain.errors import ConcurrentUpdate
from incident_response.http import VendorError
from tests.contract.audit_log_suite import event
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables


def log_on(tables: Tables, clock: ManualClock, table: str | None = None) -> DynamoDbAuditLog:
    return DynamoDbAuditLog(
        client=tables.client, table=table or tables.audit, clock=clock, key=AUDIT_KEY
    )


async def test_a_missing_table_is_a_vendor_error_naming_what_was_done(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock, table="no-such-table")

    with pytest.raises(VendorError, match="describe table no-such-table"):
        await log.probe()
    with pytest.raises(VendorError, match="read audit item"):
        await log.append(event(clock, "k1"))
    with pytest.raises(VendorError, match="list audit chains"):
        await log.incident_ids()
    with pytest.raises(VendorError, match="read audit records"):
        await log.verify("inc-1")


async def test_a_record_dynamodb_refuses_is_a_vendor_error_and_nothing_is_stored(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock)
    too_big = event(clock, "k1", data={"text": "x" * 500_000})  # over DynamoDB's 400 KB item

    with pytest.raises(VendorError, match="append audit record"):
        await log.append(too_big)

    assert await log.incident_ids() == []


async def test_every_page_of_records_and_chains_is_read(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock)
    for n in range(4):
        await log.append(event(clock, f"k{n}"))
        await log.append(event(clock, "k", incident_id=f"inc-{n + 2}"))

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 2  # DynamoDB pages a big table at 1 MB; these pages are smaller

    dynamodb.client.meta.events.register("provide-client-params.dynamodb.Scan", small_pages)
    dynamodb.client.meta.events.register("provide-client-params.dynamodb.Query", small_pages)

    assert await log.incident_ids() == ["inc-1", "inc-2", "inc-3", "inc-4", "inc-5"]
    report = await log.verify()
    assert report.ok, report.breaks
    assert report.records_checked == 8


async def test_a_writer_that_always_loses_the_race_gives_up_with_concurrent_update(
    dynamodb: Tables, clock: ManualClock
) -> None:
    mine = log_on(dynamodb, clock)
    other_process = DynamoDbAuditLog(
        client=dynamodb.raw(), table=dynamodb.audit, clock=clock, key=AUDIT_KEY
    )
    await mine.append(event(clock, "k0"))
    won: list[str] = []

    def another_writer_gets_there_first(**_: Any) -> None:
        key = f"theirs-{len(won)}"
        won.append(key)
        asyncio.run(other_process.append(event(clock, key)))

    dynamodb.client.meta.events.register(
        "before-call.dynamodb.TransactWriteItems", another_writer_gets_there_first
    )

    with pytest.raises(ConcurrentUpdate, match=r"lost \d+ races in a row"):
        await mine.append(event(clock, "mine"))

    dynamodb.client.meta.events.unregister(
        "before-call.dynamodb.TransactWriteItems", another_writer_gets_there_first
    )
    report = await mine.verify()
    assert report.ok, report.breaks
    assert report.records_checked == 1 + len(won)


async def test_a_record_that_cannot_be_read_is_reported_as_a_break(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock)
    for n in range(3):
        await log.append(event(clock, f"k{n}"))
    dynamodb.raw().update_item(
        TableName=dynamodb.audit,
        Key={"pk": {"S": "AUDIT#inc-1"}, "sk": {"S": "RECORD#0000000002"}},
        UpdateExpression="REMOVE #h",
        ExpressionAttributeNames={"#h": "hash"},
    )

    report = await log.verify("inc-1")

    assert not report.ok
    assert any(b.seq == 2 and "unreadable" in b.problem for b in report.breaks), report.breaks


async def test_a_chain_whose_head_is_gone_continues_from_its_last_record(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock)
    for n in range(3):
        await log.append(event(clock, f"k{n}"))
    dynamodb.raw().delete_item(
        TableName=dynamodb.audit, Key={"pk": {"S": "AUDIT#inc-1"}, "sk": {"S": "HEAD"}}
    )

    record = await log.append(event(clock, "k3"))

    assert record.seq == 4


async def test_a_refused_read_of_the_chain_end_is_a_vendor_error(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock)

    def the_table_goes(**_: Any) -> None:
        dynamodb.raw().delete_table(TableName=dynamodb.audit)

    dynamodb.client.meta.events.register("before-call.dynamodb.Query", the_table_goes)

    with pytest.raises(VendorError, match="read audit chain end"):
        await log.append(event(clock, "k1"))


async def test_verify_stops_re_reading_a_count_that_keeps_moving(
    dynamodb: Tables, clock: ManualClock
) -> None:
    log = log_on(dynamodb, clock)
    await log.append(event(clock, "k1"))
    other_process = DynamoDbAuditLog(
        client=dynamodb.raw(), table=dynamodb.audit, clock=clock, key=AUDIT_KEY
    )
    opened: list[str] = []

    def open_an_incident(**_: Any) -> None:
        opened.append(f"inc-new-{len(opened)}")
        asyncio.run(other_process.append(event(clock, "opened", incident_id=opened[-1])))

    dynamodb.client.meta.events.register("after-call.dynamodb.Scan", open_an_incident)

    report = await log.verify()

    assert len(opened) == 3  # three reads, then it answers with the last one
    assert report.ok, report.breaks
    assert report.incidents_checked == 3
