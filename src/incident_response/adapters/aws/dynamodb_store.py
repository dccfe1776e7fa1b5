"""Incidents and alert deliveries in DynamoDB (key design: docs/aws-dynamodb.md).

One table, one hash key `pk`:
- `INCIDENT#<id>`: the incident's JSON document (the truth) and the attributes its indexes need;
  every save is a compare-and-set on `version`.
- `DELIVERY#<id>` and `GROUP#<key>`: alert claims, written in the same TransactWriteItems as the
  incident, each with a condition that no other incident holds it; the lookups that decide where
  an alert goes read them by key with ConsistentRead.
- `ALERT#<delivery id>`: a recorded alert delivery (intake's outbox); the sparse `outbox` index
  holds it while it is neither processed nor requeued.
The GSIs (channel, creation feed, outbox) are eventually consistent: they serve lookups that
decide nothing irrevocable, and the services re-check on the incident item itself.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from incident_response.adapters.aws.dynamodb_client import call, error_code, vendor_error
from incident_response.adapters.aws.tables import (
    BY_CHANNEL,
    BY_CREATED,
    FEED,
    OUTBOX,
    PENDING,
    TTL_ATTRIBUTE,
)
from incident_response.domain.alert import Alert, AlertEventKind
from incident_response.domain.clock import Clock, utc
from incident_response.domain.errors import AlertClaimed, AlreadyExists, ConcurrentUpdate, NotFound
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.ports import AlertClaim

RETENTION = timedelta(days=366)
_PAGE = 100
_CONFLICT_ATTEMPTS = 5


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string order is time order in the sort keys."""
    return utc(dt).isoformat(timespec="microseconds")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


def _expiry(at: datetime) -> dict[str, str]:
    return _n(int((utc(at) + RETENTION).timestamp()))


def incident_expiry(incident: Incident) -> datetime:
    """When the item may go: 366 days after resolution, or after creation while unresolved."""
    return (incident.resolved_at or incident.created_at) + RETENTION


class DynamoDbIncidentStore:
    """The production IncidentStore (conformance: tests/contract/incident_store_suite.py)."""

    def __init__(self, *, client: Any, table: str, clock: Clock) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    async def probe(self) -> str:
        try:
            answer = await call(
                "describe table", self._client.describe_table, TableName=self._table
            )
        except ClientError as exc:
            raise vendor_error(f"describe table {self._table}", exc) from exc
        return f"DynamoDB table {self._table} ({answer['Table']['TableStatus']}) reachable"

    # -- incidents -----------------------------------------------------------------------

    async def create(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        stored = incident.model_copy(update={"version": 1})
        put = {
            "Put": {
                "TableName": self._table,
                "Item": self._incident_item(stored),
                "ConditionExpression": "attribute_not_exists(pk)",
            }
        }
        reasons = await self._transact([put, *self._claim_writes(claim, stored)], "create")
        if reasons is None:
            return stored
        if reasons[0] == "ConditionalCheckFailed":
            raise AlreadyExists(f"incident {incident.id} already exists")
        raise self._claimed(claim, stored.id, reasons)

    async def save(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        stored = incident.model_copy(update={"version": incident.version + 1})
        put = {
            "Put": {
                "TableName": self._table,
                "Item": self._incident_item(stored),
                "ConditionExpression": "version = :expected",
                "ExpressionAttributeValues": {":expected": _n(incident.version)},
            }
        }
        reasons = await self._transact([put, *self._claim_writes(claim, stored)], "save")
        if reasons is None:
            return stored
        if reasons[0] == "ConditionalCheckFailed":
            current = await self.get(incident.id)
            if current is None:
                raise NotFound(f"incident {incident.id} does not exist: create it first")
            raise ConcurrentUpdate(
                f"incident {incident.id}: saving version {incident.version},"
                f" but version {current.version} is stored"
            )
        raise self._claimed(claim, stored.id, reasons)

    async def get(self, incident_id: str, *, consistent: bool = True) -> Incident | None:
        item = await self._item(f"INCIDENT#{incident_id}", consistent=consistent)
        return _incident(item)

    def _incident_item(self, incident: Incident) -> dict[str, Any]:
        item: dict[str, Any] = {
            "pk": _s(f"INCIDENT#{incident.id}"),
            "id": _s(incident.id),
            "version": _n(incident.version),
            "status": _s(incident.status.value),
            "grouping_key": _s(incident.grouping_key),
            "created_at": _s(_ts(incident.created_at)),
            "feed": _s(FEED),
            "doc": _s(incident.model_dump_json()),
            TTL_ATTRIBUTE: _n(int(utc(incident_expiry(incident)).timestamp())),
        }
        if incident.channel is not None:
            item["channel_id"] = _s(incident.channel.id)
        return item

    # -- claims --------------------------------------------------------------------------

    def _claim_writes(self, claim: AlertClaim | None, incident: Incident) -> list[dict[str, Any]]:
        """The claim's two conditional updates. A delivery claim, once written, keeps its group
        and reason (a redelivery changes nothing); a group claim moves only from `moves_from`."""
        if claim is None:
            return []
        expiry = {":expires": _n(int(utc(incident_expiry(incident)).timestamp()))}
        me = _s(incident.id)
        delivery = {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": _s(f"DELIVERY#{claim.delivery_id}")},
                "UpdateExpression": "SET incident_id = :me,"
                " alert_group_key = if_not_exists(alert_group_key, :group),"
                " reason = if_not_exists(reason, :reason), #ttl = :expires",
                "ConditionExpression": "attribute_not_exists(pk) OR incident_id = :me",
                "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
                "ExpressionAttributeValues": {
                    ":me": me,
                    ":group": _s(claim.alert_group_key),
                    ":reason": _s(claim.reason),
                    **expiry,
                },
            }
        }
        holders = [":me"]
        values: dict[str, Any] = {":me": me, **expiry}
        if claim.moves_from is not None and claim.moves_from != incident.id:
            holders.append(":from")
            values[":from"] = _s(claim.moves_from)
        group = {
            "Update": {
                "TableName": self._table,
                "Key": {"pk": _s(f"GROUP#{claim.alert_group_key}")},
                "UpdateExpression": "SET incident_id = :me, #ttl = :expires",
                "ConditionExpression": "attribute_not_exists(pk) OR incident_id IN"
                f" ({', '.join(holders)})",
                "ExpressionAttributeNames": {"#ttl": TTL_ATTRIBUTE},
                "ExpressionAttributeValues": values,
            }
        }
        return [delivery, group]

    def _claimed(
        self, claim: AlertClaim | None, incident_id: str, reasons: list[str]
    ) -> ConcurrentUpdate:
        if claim is None:
            return ConcurrentUpdate(f"incident {incident_id}: write refused ({reasons})")
        what = (
            f"delivery {claim.delivery_id}"
            if reasons[1] == "ConditionalCheckFailed"
            else f"alert group {claim.alert_group_key}"
        )
        return AlertClaimed(f"{what} belongs to another incident, not {incident_id}")

    async def _transact(self, items: list[dict[str, Any]], what: str) -> list[str] | None:
        """Write `items` atomically: None when written, else each item's cancellation code.

        A TransactionConflict (another transaction on the same items in flight) wrote nothing:
        the write is tried again, so the loser of a race learns why it lost (the claim or the
        version the winner took) from a condition, not from the timing."""
        for attempt in range(_CONFLICT_ATTEMPTS):
            try:
                await call(what, self._client.transact_write_items, TransactItems=items)
            except ClientError as exc:
                if error_code(exc) != "TransactionCanceledException":
                    raise vendor_error(f"{what} incident", exc) from exc
                codes = [
                    str(r.get("Code", "None")) for r in exc.response.get("CancellationReasons", [])
                ]
                if "ConditionalCheckFailed" in codes:
                    return codes + ["None"] * (len(items) - len(codes))
                if "TransactionConflict" not in codes:
                    raise vendor_error(f"{what} incident", exc) from exc
                await asyncio.sleep(random.uniform(0, 0.02 * (attempt + 1)))
            else:
                return None
        raise ConcurrentUpdate(f"{what}: other writes to the same items kept conflicting")

    async def find_by_delivery(self, delivery_id: str) -> tuple[Incident, AlertClaim] | None:
        item = await self._item(f"DELIVERY#{delivery_id}", consistent=True)
        if item is None:
            return None
        incident = await self.get(item["incident_id"]["S"])
        if incident is None:
            return None
        claim = AlertClaim(
            delivery_id=delivery_id,
            alert_group_key=item["alert_group_key"]["S"],
            reason=item.get("reason", {}).get("S", ""),
        )
        return incident, claim

    async def find_by_alert_group(self, alert_group_key: str) -> Incident | None:
        item = await self._item(f"GROUP#{alert_group_key}", consistent=True)
        return None if item is None else await self.get(item["incident_id"]["S"])

    # -- index lookups (eventually consistent) ------------------------------------------

    async def find_by_channel(self, channel_id: str) -> Incident | None:
        async for item in self._query(
            "find by channel",
            IndexName=BY_CHANNEL,
            KeyConditionExpression="channel_id = :c",
            ExpressionAttributeValues={":c": _s(channel_id)},
            ScanIndexForward=False,
        ):
            return _incident(item)
        return None

    async def find_open_by_grouping_key(
        self, grouping_key: str, since: datetime
    ) -> Incident | None:
        if not grouping_key:
            return None  # an empty key means the alert had none of the grouping labels
        async for item in self._query(
            "find by grouping key",
            IndexName=BY_CREATED,
            KeyConditionExpression="feed = :feed AND created_at >= :since",
            FilterExpression="grouping_key = :g AND #status <> :resolved",
            ExpressionAttributeNames={"#status": "status"},
            ExpressionAttributeValues={
                ":feed": _s(FEED),
                ":since": _s(_ts(since)),
                ":g": _s(grouping_key),
                ":resolved": _s(IncidentStatus.RESOLVED.value),
            },
            ScanIndexForward=False,
        ):
            return _incident(item)
        return None

    async def count_created_since(self, since: datetime) -> int:
        count = 0
        async for _ in self._query(
            "count incidents",
            IndexName=BY_CREATED,
            KeyConditionExpression="feed = :feed AND created_at >= :since",
            ExpressionAttributeValues={":feed": _s(FEED), ":since": _s(_ts(since))},
            ProjectionExpression="pk",
        ):
            count += 1
        return count

    async def recent(
        self, *, statuses: Sequence[IncidentStatus] | None = None, limit: int = 100
    ) -> list[Incident]:
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        params: dict[str, Any] = {
            "IndexName": BY_CREATED,
            "KeyConditionExpression": "feed = :feed",
            "ExpressionAttributeValues": {":feed": _s(FEED)},
            "ScanIndexForward": False,
        }
        if statuses is not None:
            wanted = sorted({IncidentStatus(s).value for s in statuses})
            if not wanted:
                return []
            names = [f":s{n}" for n in range(len(wanted))]
            params["FilterExpression"] = f"#status IN ({', '.join(names)})"
            params["ExpressionAttributeNames"] = {"#status": "status"}
            params["ExpressionAttributeValues"].update(
                {name: _s(value) for name, value in zip(names, wanted, strict=True)}
            )
        found: list[Incident] = []
        if limit == 0:
            return found
        async for item in self._query("recent incidents", **params):
            found.append(Incident.model_validate_json(item["doc"]["S"]))
            if len(found) >= limit:
                break
        return found

    async def incident_ids(self) -> list[str]:
        ids = [
            item["id"]["S"]
            async for item in self._query(
                "list incidents",
                IndexName=BY_CREATED,
                KeyConditionExpression="feed = :feed",
                ExpressionAttributeValues={":feed": _s(FEED)},
                ProjectionExpression="id",
            )
        ]
        return sorted(ids)

    async def created_between(
        self, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Incident]:
        if end < start:
            raise ValueError(f"the range ends ({end}) before it starts ({start})")
        if limit < 0:
            raise ValueError(f"limit must not be negative, got {limit}")
        found: list[Incident] = []
        if limit == 0 or end == start:
            return found
        # BETWEEN includes its upper bound: an incident created exactly at `end` is skipped here
        async for item in self._query(
            "incidents created in a range",
            IndexName=BY_CREATED,
            KeyConditionExpression="feed = :feed AND created_at BETWEEN :start AND :end",
            ExpressionAttributeValues={
                ":feed": _s(FEED),
                ":start": _s(_ts(start)),
                ":end": _s(_ts(end)),
            },
            ScanIndexForward=True,
        ):
            if item["created_at"]["S"] >= _ts(end):
                break
            found.append(Incident.model_validate_json(item["doc"]["S"]))
            if len(found) >= limit:
                break
        return found

    # -- alert deliveries (intake's outbox) ---------------------------------------------

    async def record_alert(self, alert: Alert) -> bool:
        now = self._clock.now()
        try:
            await call(
                "record alert",
                self._client.put_item,
                TableName=self._table,
                Item={
                    "pk": _s(f"ALERT#{alert.delivery_id}"),
                    "recorded_at": _s(_ts(now)),
                    "kind": _s(alert.kind.value),
                    "outbox": _s(PENDING),
                    "doc": _s(alert.model_dump_json()),
                    TTL_ATTRIBUTE: _expiry(now),
                },
                ConditionExpression="attribute_not_exists(pk)",
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise vendor_error("record alert", exc) from exc
        return True

    async def alert_processed(self, delivery_id: str) -> bool:
        item = await self._item(f"ALERT#{delivery_id}", consistent=True)
        return item is not None and "processed_at" in item

    async def mark_alert_processed(self, delivery_id: str, incident_id: str) -> None:
        if not await self._mark(
            delivery_id,
            "SET incident_id = :i, processed_at = if_not_exists(processed_at, :now) REMOVE outbox",
            {":i": _s(incident_id)},
        ):
            raise NotFound(f"alert delivery {delivery_id} was never recorded")

    async def mark_alert_requeued(self, delivery_id: str) -> None:
        await self._mark(
            delivery_id, "SET requeued_at = if_not_exists(requeued_at, :now) REMOVE outbox", {}
        )

    async def _mark(self, delivery_id: str, update: str, values: dict[str, Any]) -> bool:
        try:
            await call(
                "mark alert",
                self._client.update_item,
                TableName=self._table,
                Key={"pk": _s(f"ALERT#{delivery_id}")},
                UpdateExpression=update,
                ConditionExpression="attribute_exists(pk)",
                ExpressionAttributeValues={":now": _s(_ts(self._clock.now())), **values},
            )
        except ClientError as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                return False
            raise vendor_error("mark alert", exc) from exc
        return True

    async def unprocessed_alerts(
        self,
        *,
        kinds: Collection[AlertEventKind],
        recorded_after: datetime,
        recorded_before: datetime,
        limit: int = 100,
    ) -> list[Alert]:
        wanted = sorted(AlertEventKind(k).value for k in kinds)
        if not wanted or limit <= 0:
            return []
        after = _ts(recorded_after)
        names = [f":k{n}" for n in range(len(wanted))]
        found: list[Alert] = []
        async for item in self._query(
            "unprocessed alerts",
            IndexName=OUTBOX,
            KeyConditionExpression="outbox = :p AND recorded_at BETWEEN :a AND :b",
            FilterExpression=f"kind IN ({', '.join(names)})",
            ExpressionAttributeValues={
                ":p": _s(PENDING),
                ":a": _s(after),
                ":b": _s(_ts(recorded_before)),
                **{name: _s(value) for name, value in zip(names, wanted, strict=True)},
            },
        ):
            if item["recorded_at"]["S"] == after:
                continue  # the window is open at its start
            found.append(Alert.model_validate_json(item["doc"]["S"]))
            if len(found) >= limit:
                break
        return found

    # -- plumbing ------------------------------------------------------------------------

    async def _item(self, pk: str, *, consistent: bool) -> dict[str, Any] | None:
        try:
            answer = await call(
                "get item",
                self._client.get_item,
                TableName=self._table,
                Key={"pk": _s(pk)},
                ConsistentRead=consistent,
            )
        except ClientError as exc:
            raise vendor_error(f"read {pk}", exc) from exc
        item: dict[str, Any] | None = answer.get("Item")
        return item

    async def _query(self, what: str, **params: Any) -> AsyncIterator[dict[str, Any]]:
        """Every item a query yields, page by page (an async iterator)."""
        params = {"TableName": self._table, "Limit": _PAGE, **params}
        while True:
            try:
                page = await call(what, self._client.query, **params)
            except ClientError as exc:
                raise vendor_error(what, exc) from exc
            for item in page.get("Items", []):
                yield item
            if "LastEvaluatedKey" not in page:
                return
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _incident(item: dict[str, Any] | None) -> Incident | None:
    return Incident.model_validate_json(item["doc"]["S"]) if item is not None else None
