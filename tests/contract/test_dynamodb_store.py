"""The DynamoDB IncidentStore against the IncidentStore suite on a moto server (real HTTP), plus
what only this backend can get wrong: transactions, compare-and-set, TTL, throttling."""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from incident_response.adapters.aws.dynamodb_client import RETRY_ATTEMPTS, dynamodb_client
from incident_response.adapters.aws.dynamodb_store import DynamoDbIncidentStore
from incident_response.domain.errors import AlertClaimed, ConcurrentUpdate
from incident_response.domain.incident import Incident
from incident_response.http import VendorError
from tests.contract.incident_store_suite import (
    IncidentStoreContract,
    S,
    alert,
    claim,
    incident,
)
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables, record_requests


def make_store(tables: Tables, clock: ManualClock) -> DynamoDbIncidentStore:
    return DynamoDbIncidentStore(client=tables.client, table=tables.incidents, clock=clock)


class TestDynamoDbIncidentStore(IncidentStoreContract):
    @pytest.fixture
    def store(self, dynamodb: Tables, clock: ManualClock) -> DynamoDbIncidentStore:
        return make_store(dynamodb, clock)


def raw_items(tables: Tables) -> dict[str, dict[str, Any]]:
    """Every item of the incidents table, by key, read straight from DynamoDB."""
    pages = (
        tables.raw().get_paginator("scan").paginate(TableName=tables.incidents, ConsistentRead=True)
    )
    return {item["pk"]["S"]: item for page in pages for item in page["Items"]}


async def test_a_claim_held_by_another_incident_leaves_nothing_written(
    dynamodb: Tables, clock: ManualClock
) -> None:
    store = make_store(dynamodb, clock)
    await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))
    before = raw_items(dynamodb)

    with pytest.raises(AlertClaimed):  # the group is inc-1's; the delivery d-2 is free
        await store.create(incident("inc-2", at=clock.now()), claim=claim("d-2"))

    assert raw_items(dynamodb) == before
    assert {"INCIDENT#inc-2", "DELIVERY#d-2"}.isdisjoint(before)


async def test_a_stale_version_is_a_concurrent_update_and_the_item_keeps_the_newer_one(
    dynamodb: Tables, clock: ManualClock
) -> None:
    store = make_store(dynamodb, clock)
    created = await store.create(incident("inc-1", at=clock.now()))
    newer = await store.save(created.update(title="Newer"))

    with pytest.raises(ConcurrentUpdate, match="version 2 is stored"):
        await store.save(created.update(title="Stale"), claim=claim("d-1"))

    item = raw_items(dynamodb)["INCIDENT#inc-1"]
    assert item["version"]["N"] == "2"
    assert Incident.model_validate_json(item["doc"]["S"]) == newer
    assert "DELIVERY#d-1" not in raw_items(dynamodb)


async def test_items_expire_366_days_after_resolution_or_creation(
    dynamodb: Tables, clock: ManualClock
) -> None:
    store = make_store(dynamodb, clock)
    opened_at = clock.now()
    created = await store.create(incident("inc-1", at=opened_at), claim=claim("d-1"))
    await store.record_alert(alert("d-1", at=opened_at))

    def expiry(pk: str) -> datetime:
        return datetime.fromtimestamp(int(raw_items(dynamodb)[pk]["expires_at"]["N"]), UTC)

    year = timedelta(days=366)
    assert expiry("INCIDENT#inc-1") == opened_at.replace(microsecond=0) + year
    assert expiry("DELIVERY#d-1") == opened_at.replace(microsecond=0) + year
    assert expiry("ALERT#d-1") == opened_at.replace(microsecond=0) + year

    resolved_at = clock.advance(3 * 86400)
    await store.save(created.transition(S.RESOLVED, at=resolved_at))

    assert expiry("INCIDENT#inc-1") == resolved_at.replace(microsecond=0) + year
    ttl = dynamodb.raw().describe_time_to_live(TableName=dynamodb.incidents)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"
    assert ttl["TimeToLiveDescription"]["TimeToLiveStatus"] in {"ENABLED", "ENABLING"}


async def test_claim_lookups_are_consistent_reads_of_one_key(
    dynamodb: Tables, clock: ManualClock
) -> None:
    store = make_store(dynamodb, clock)
    await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))
    sent = record_requests(dynamodb.client)

    assert await store.find_by_delivery("d-1") is not None
    assert await store.find_by_alert_group(claim("x").alert_group_key) is not None

    assert {operation for operation, _ in sent} == {"GetItem"}
    assert all(params["ConsistentRead"] is True for _, params in sent)
    assert [params["Key"]["pk"]["S"] for _, params in sent] == [
        "DELIVERY#d-1",
        "INCIDENT#inc-1",
        f"GROUP#{claim('x').alert_group_key}",
        "INCIDENT#inc-1",
    ]


def error(error_type: str, **fields: Any) -> dict[str, Any]:
    return {"__type": f"com.amazonaws.dynamodb.v20120810#{error_type}", "message": "no", **fields}


class ScriptedDynamoDb(ThreadingHTTPServer):
    """A DynamoDB endpoint that gives the answers it is given, in order (the last one again and
    again), and counts the calls."""

    def __init__(self, *answers: tuple[int, dict[str, Any]]) -> None:
        self.calls = 0
        self.answers = list(answers)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status, answer = server.answers[min(server.calls, len(server.answers) - 1)]
                server.calls += 1
                body = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.0")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                return

        super().__init__(("127.0.0.1", 0), Handler)

    @contextlib.contextmanager
    def store(self, clock: ManualClock) -> Iterator[DynamoDbIncidentStore]:
        thread = threading.Thread(target=self.serve_forever, daemon=True)
        thread.start()
        try:
            url = f"http://127.0.0.1:{self.server_address[1]}"
            client = dynamodb_client(region="us-east-1", endpoint_url=url)
            yield DynamoDbIncidentStore(client=client, table="incidents", clock=clock)
        finally:
            self.shutdown()
            self.server_close()
            thread.join(5)


@pytest.mark.parametrize(
    ("status", "error_type"), [(400, "ThrottlingException"), (500, "InternalServerError")]
)
@pytest.mark.usefixtures("aws_credentials")
async def test_throttling_and_5xx_are_retried_a_bounded_number_of_times_then_transient(
    clock: ManualClock, status: int, error_type: str
) -> None:
    refusing = ScriptedDynamoDb((status, error(error_type)))

    with refusing.store(clock) as store, pytest.raises(VendorError) as raised:
        await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))

    assert raised.value.transient
    assert raised.value.vendor == "dynamodb"
    assert error_type in str(raised.value)
    assert refusing.calls == RETRY_ATTEMPTS  # retried, and not forever


@pytest.mark.usefixtures("aws_credentials")
async def test_a_refusal_that_is_not_transient_is_not_retried(clock: ManualClock) -> None:
    refusing = ScriptedDynamoDb((400, error("ResourceNotFoundException")))

    with refusing.store(clock) as store, pytest.raises(VendorError) as raised:
        await store.get("inc-1")

    assert not raised.value.transient
    assert refusing.calls == 1


@pytest.mark.usefixtures("aws_credentials")
async def test_a_transaction_conflict_is_tried_again_and_then_written(clock: ManualClock) -> None:
    conflict = error(
        "TransactionCanceledException",
        CancellationReasons=[{"Code": "TransactionConflict"}, {"Code": "None"}, {"Code": "None"}],
    )
    scripted = ScriptedDynamoDb((400, conflict), (200, {}))

    with scripted.store(clock) as store:
        created = await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))

    assert created.version == 1
    assert scripted.calls == 2


async def test_probe_names_the_table_or_says_what_is_wrong(
    dynamodb: Tables, clock: ManualClock
) -> None:
    assert "ir-test-incidents" in await make_store(dynamodb, clock).probe()

    missing = DynamoDbIncidentStore(client=dynamodb.client, table="no-such-table", clock=clock)
    with pytest.raises(VendorError, match="no-such-table") as raised:
        await missing.probe()
    assert not raised.value.transient
