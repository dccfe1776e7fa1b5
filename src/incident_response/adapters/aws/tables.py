"""The DynamoDB tables' definitions: the key design in one place, used by the tests and by
`aws bootstrap`. docs/aws-dynamodb.md explains the items each table holds.
"""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

TTL_ATTRIBUTE = "expires_at"

# incidents table: one hash key; GSIs for the lookups that may be eventually consistent
BY_CHANNEL = "by_channel"  # channel_id -> incident, newest first
BY_CREATED = "by_created"  # constant `feed` partition, created_at sort: recent, counts, grouping
OUTBOX = "outbox"  # sparse: alert deliveries not yet processed nor requeued, by recorded_at
FEED = "INCIDENT"
PENDING = "PENDING"


def _index(name: str, hash_key: str, range_key: str) -> dict[str, Any]:
    return {
        "IndexName": name,
        "KeySchema": [
            {"AttributeName": hash_key, "KeyType": "HASH"},
            {"AttributeName": range_key, "KeyType": "RANGE"},
        ],
        "Projection": {"ProjectionType": "ALL"},
    }


def _string(*names: str) -> list[dict[str, str]]:
    return [{"AttributeName": name, "AttributeType": "S"} for name in names]


def incidents_table(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
        "AttributeDefinitions": _string(
            "pk", "channel_id", "created_at", "feed", "outbox", "recorded_at"
        ),
        "GlobalSecondaryIndexes": [
            _index(BY_CHANNEL, "channel_id", "created_at"),
            _index(BY_CREATED, "feed", "created_at"),
            _index(OUTBOX, "outbox", "recorded_at"),
        ],
    }


def audit_table(name: str) -> dict[str, Any]:
    return {
        "TableName": name,
        "BillingMode": "PAY_PER_REQUEST",
        "KeySchema": [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": _string("pk", "sk"),
    }


def create_tables(client: Any, *, incidents: str, audit: str) -> None:
    """Create both tables and switch on the incidents table's TTL; idempotent (a table that
    exists is left as it is). The audit log has no TTL: its records are kept."""
    for definition in (incidents_table(incidents), audit_table(audit)):
        try:
            client.create_table(**definition)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceInUseException":
                raise
        client.get_waiter("table_exists").wait(
            TableName=definition["TableName"], WaiterConfig={"Delay": 1, "MaxAttempts": 30}
        )
    try:
        client.update_time_to_live(
            TableName=incidents,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
    except ClientError as exc:  # already enabled
        if "already enabled" not in str(exc).lower():
            raise
