"""The audit log in DynamoDB: the SQLite log's hash chain and MACs, on conditional writes.

Items of the audit table (hash `pk`, range `sk`; docs/aws-dynamodb.md):
- `AUDIT#<incident>` / `RECORD#<seq, 10 digits>`: a record, sealed by the domain's `seal`;
- `AUDIT#<incident>` / `KEY#<key>`: the record's idempotency key, pointing at its seq;
- `AUDIT#<incident>` / `HEAD`: the chain head (last seq and hash, MAC'd);
- `CHAINS` / `COUNT`: the MAC'd count of chains started.
An append writes the record, its key and the new head in one TransactWriteItems, conditional on
the record and key being new and the head still being the one it chained from: two writers on one
incident cannot both take a seq, and one key is stored once. Reads use ConsistentRead, because the
approval gate publishes on what `find` returns.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import AsyncIterator
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]
from pydantic import ValidationError

from incident_response.adapters.aws.dynamodb_client import call, error_code, vendor_error
from incident_response.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditEventType,
    AuditKey,
    AuditRecord,
    ChainBreak,
    ChainCount,
    ChainHead,
    ChainReport,
    seal,
    verify_chain,
    verify_count,
)
from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.errors import ConcurrentUpdate

RECORD = "RECORD#"
HEAD = "HEAD"
CHAINS = ("CHAINS", "COUNT")
_ATTEMPTS = 30
_STRIPES = 64


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _pk(incident_id: str) -> str:
    return f"AUDIT#{incident_id}"


def _sk(seq: int) -> str:
    return f"{RECORD}{seq:010d}"


class DynamoDbAuditLog:
    """The production AuditLog (conformance: tests/contract/audit_log_suite.py)."""

    def __init__(self, *, client: Any, table: str, clock: Clock, key: AuditKey) -> None:
        self._client = client
        self._table = table
        self._clock = clock
        self._key = key
        # appends to one incident from this process queue here instead of racing in DynamoDB;
        # other processes are kept out by the head's condition
        self._locks = [asyncio.Lock() for _ in range(_STRIPES)]

    async def probe(self) -> str:
        try:
            answer = await call(
                "describe table", self._client.describe_table, TableName=self._table
            )
        except ClientError as exc:
            raise vendor_error(f"describe table {self._table}", exc) from exc
        return f"DynamoDB table {self._table} ({answer['Table']['TableStatus']}) reachable"

    async def append(self, event: AuditEvent) -> AuditRecord:
        if not event.incident_id or not event.key:
            raise ValueError("an audit event needs an incident_id and a key")
        event = _normalised(event)
        async with self._locks[hash(event.incident_id) % _STRIPES]:
            for attempt in range(_ATTEMPTS):
                existing = await self._by_key(event.incident_id, event.key)
                if existing is not None:
                    return existing
                record = await self._try_append(event)
                if record is not None:  # pragma: no branch (a 3.11 tracer quirk: docs/ci.md)
                    return record
                await asyncio.sleep(random.uniform(0, 0.005 * (attempt + 1)))
        raise ConcurrentUpdate(
            f"audit append for incident {event.incident_id} lost {_ATTEMPTS} races in a row"
        )

    async def _try_append(self, event: AuditEvent) -> AuditRecord | None:
        """One attempt: the stored record, or None when another writer got there first."""
        previous = await self._head(event.incident_id)
        seq, prev_hash = await self._chain_end(event.incident_id, previous)
        record = seal(event, seq + 1, prev_hash, self._key)
        head = ChainHead.following(previous, record, self._key)
        pk = _s(_pk(event.incident_id))
        items: list[dict[str, Any]] = [
            self._put(_record_item(record), "attribute_not_exists(pk)"),
            self._put(
                {"pk": pk, "sk": _s(f"KEY#{event.key}"), "seq": _n(record.seq)},
                "attribute_not_exists(pk)",
            ),
            self._put(
                {
                    "pk": pk,
                    "sk": _s(HEAD),
                    "seq": _n(head.seq),
                    "hash": _s(head.hash),
                    "mac": _s(head.mac),
                },
                "attribute_not_exists(pk)" if previous is None else "seq = :seq AND #h = :hash",
                {":seq": _n(previous.seq), ":hash": _s(previous.hash)} if previous else None,
            ),
        ]
        if record.seq == 1:
            count = await self._count()
            other = count is None and await self._other_chain(event.incident_id)
            following = ChainCount.following(count, self._key, other_chains=other)
            items.append(
                self._put(
                    {
                        "pk": _s(CHAINS[0]),
                        "sk": _s(CHAINS[1]),
                        "chains": _n(following.chains),
                        "mac": _s(following.mac),
                    },
                    "attribute_not_exists(pk)" if count is None else "chains = :chains",
                    {":chains": _n(count.chains)} if count is not None else None,
                )
            )
        try:
            await call(
                "append audit record", self._client.transact_write_items, TransactItems=items
            )
        except ClientError as exc:
            codes = [
                str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])
            ]
            if error_code(exc) == "TransactionCanceledException" and (
                "ConditionalCheckFailed" in codes or "TransactionConflict" in codes
            ):
                return None
            raise vendor_error("append audit record", exc) from exc
        return record

    def _put(
        self, item: dict[str, Any], condition: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        put: dict[str, Any] = {
            "TableName": self._table,
            "Item": item,
            "ConditionExpression": condition,
        }
        if "#h" in condition:
            put["ExpressionAttributeNames"] = {"#h": "hash"}
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}

    async def records(self, incident_id: str) -> list[AuditRecord]:
        return [_record(item) async for item in self._records(incident_id)]

    async def find(self, incident_id: str, type: AuditEventType) -> list[AuditRecord]:
        wanted = AuditEventType(type).value
        return [
            _record(item)
            async for item in self._records(
                incident_id,
                FilterExpression="#type = :type",
                ExpressionAttributeNames={"#type": "type"},
                extra_values={":type": _s(wanted)},
            )
        ]

    async def verify(self, incident_id: str | None = None) -> ChainReport:
        if incident_id is not None:
            return await self._verify_one(incident_id)
        report = ChainReport()
        ids, count = await self._chains_and_count()
        report.breaks.extend(verify_count(count, len(ids), self._key))
        for one in ids:
            report.merge(await self._verify_one(one))
        return report

    async def _chains_and_count(self) -> tuple[list[str], ChainCount | None]:
        """The chains and the count as of one moment: a chain started during the scan moves the
        count, so the scan is taken again rather than report a chain that is merely new."""
        for _ in range(3):
            count = await self._count()
            ids = await self.incident_ids()
            if await self._count() == count:
                break
        return ids, count

    async def key_matches(self) -> bool:
        """Whether the log was sealed with this key so far, as far as the chain count can tell."""
        count = await self._count()
        return count is None or count.authentic(self._key)

    async def incident_ids(self) -> list[str]:
        """Every incident with records or a head (a scan: for verify and the sweep, not for the
        incident flow)."""
        ids: set[str] = set()
        params: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "FilterExpression": "begins_with(pk, :audit) AND (sk = :head OR begins_with(sk, :rec))",
            "ExpressionAttributeValues": {
                ":audit": _s("AUDIT#"),
                ":head": _s(HEAD),
                ":rec": _s(RECORD),
            },
            "ProjectionExpression": "pk",
        }
        while True:
            try:
                page = await call("list audit chains", self._client.scan, **params)
            except ClientError as exc:
                raise vendor_error("list audit chains", exc) from exc
            ids.update(item["pk"]["S"].removeprefix("AUDIT#") for item in page.get("Items", []))
            if "LastEvaluatedKey" not in page:
                return sorted(ids)
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    # -- internals -------------------------------------------------------------------------

    async def _records(
        self,
        incident_id: str,
        *,
        extra_values: dict[str, Any] | None = None,
        **params: Any,
    ) -> AsyncIterator[dict[str, Any]]:
        """The incident's record items in seq order, read with ConsistentRead."""
        query: dict[str, Any] = {
            "TableName": self._table,
            "ConsistentRead": True,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :rec)",
            "ExpressionAttributeValues": {
                ":pk": _s(_pk(incident_id)),
                ":rec": _s(RECORD),
                **(extra_values or {}),
            },
            **params,
        }
        while True:
            try:
                page = await call("read audit records", self._client.query, **query)
            except ClientError as exc:
                raise vendor_error("read audit records", exc) from exc
            for item in page.get("Items", []):
                yield item
            if "LastEvaluatedKey" not in page:
                return
            query["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    async def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        try:
            answer = await call(
                "read audit item",
                self._client.get_item,
                TableName=self._table,
                Key={"pk": _s(pk), "sk": _s(sk)},
                ConsistentRead=True,
            )
        except ClientError as exc:
            raise vendor_error("read audit item", exc) from exc
        item: dict[str, Any] | None = answer.get("Item")
        return item

    async def _by_key(self, incident_id: str, key: str) -> AuditRecord | None:
        pointer = await self._get(_pk(incident_id), f"KEY#{key}")
        if pointer is None:
            return None
        item = await self._get(_pk(incident_id), _sk(int(pointer["seq"]["N"])))
        return _record(item) if item is not None else None

    async def _head(self, incident_id: str) -> ChainHead | None:
        item = await self._get(_pk(incident_id), HEAD)
        if item is None:
            return None
        return ChainHead(incident_id, int(item["seq"]["N"]), item["hash"]["S"], item["mac"]["S"])

    async def _chain_end(self, incident_id: str, head: ChainHead | None) -> tuple[int, str]:
        """The head is the authority; the last record stands in only if the head has gone."""
        if head is not None:
            return head.seq, head.hash
        try:
            page = await call(
                "read audit chain end",
                self._client.query,
                TableName=self._table,
                ConsistentRead=True,
                KeyConditionExpression="pk = :pk AND begins_with(sk, :rec)",
                ExpressionAttributeValues={":pk": _s(_pk(incident_id)), ":rec": _s(RECORD)},
                ScanIndexForward=False,
                Limit=1,
            )
        except ClientError as exc:
            raise vendor_error("read audit chain end", exc) from exc
        items = page.get("Items", [])
        if not items:
            return 0, GENESIS_HASH
        return int(items[0]["seq"]["N"]), str(items[0]["hash"]["S"])

    async def _count(self) -> ChainCount | None:
        item = await self._get(*CHAINS)
        return ChainCount(int(item["chains"]["N"]), item["mac"]["S"]) if item else None

    async def _other_chain(self, incident_id: str) -> bool:
        """Whether any other incident has a chain: asked only when the count is missing (the
        first chain ever, or a deleted count)."""
        return any(one != incident_id for one in await self.incident_ids())

    async def _verify_one(self, incident_id: str) -> ChainReport:
        items = [item async for item in self._records(incident_id)]
        head = await self._head(incident_id)
        unreadable: list[ChainBreak] = []
        records: list[AuditRecord] = []
        for item in items:
            try:
                records.append(_record(item))
            except (ValueError, KeyError, ValidationError) as exc:
                seq = int(item.get("seq", {}).get("N", "0"))
                unreadable.append(ChainBreak(incident_id, seq, f"unreadable: {exc}"))
        report = verify_chain(incident_id, records, head, self._key)
        report.records_checked = len(items)
        report.breaks[:0] = unreadable
        return report


def _normalised(event: AuditEvent) -> AuditEvent:
    """The event as it will read back (UTC time, data as plain JSON), as the SQLite log does."""
    data = json.loads(json.dumps(event.data, ensure_ascii=False, default=str))
    return event.model_copy(update={"at": utc(event.at), "data": data})


def _record_item(record: AuditRecord) -> dict[str, Any]:
    return {
        "pk": _s(_pk(record.incident_id)),
        "sk": _s(_sk(record.seq)),
        "incident_id": _s(record.incident_id),
        "seq": _n(record.seq),
        "key": _s(record.key),
        "type": _s(record.type.value),
        "at": _s(isoformat(record.at)),
        "actor": _s(record.actor),
        "data": _s(json.dumps(record.data, ensure_ascii=False, sort_keys=True)),
        "prev_hash": _s(record.prev_hash),
        "hash": _s(record.hash),
    }


def _record(item: dict[str, Any]) -> AuditRecord:
    return AuditRecord(
        incident_id=item["incident_id"]["S"],
        seq=int(item["seq"]["N"]),
        type=AuditEventType(item["type"]["S"]),
        key=item["key"]["S"],
        at=item["at"]["S"],
        actor=item["actor"]["S"],
        data=json.loads(item["data"]["S"]),
        prev_hash=item["prev_hash"]["S"],
        hash=item["hash"]["S"],
    )
