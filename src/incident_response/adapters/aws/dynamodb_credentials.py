"""Token generations and console sessions in the DynamoDB incidents table: the Credentials port
when DynamoDB is selected (conformance: tests/contract/credentials_suite.py).

Two item kinds beside the incidents (docs/aws-dynamodb.md), neither on any index:
- `PERSON#<email>`: `tokens` and `sessions`, moved by one atomic `UpdateItem ... ADD`, so
  concurrent rotations from several processes each count;
- `SESSION#<key>`: one console session, written with `attribute_not_exists(pk)` (or over an
  expired one), read with ConsistentRead, and removed by DynamoDB's TTL on `expires_at`, which
  is why an expired session is also filtered on read (TTL deletes within days, not at once).
Every call is one strongly consistent key read or one (conditional) write, as the port promises.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError  # type: ignore[import-untyped]

from incident_response.adapters.aws.dynamodb_client import call, error_code, vendor_error
from incident_response.adapters.aws.tables import TTL_ATTRIBUTE
from incident_response.domain.clock import Clock, utc
from incident_response.domain.errors import AlreadyExists
from incident_response.ports import ConsoleSessionRecord, Generations

_CONDITION_FAILED = "ConditionalCheckFailedException"


def _email(email: str) -> str:
    return email.strip().lower()


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text: string order is time order, so a condition can compare it."""
    return utc(dt).isoformat(timespec="microseconds")


def _s(value: str) -> dict[str, str]:
    return {"S": value}


def _n(value: int) -> dict[str, str]:
    return {"N": str(value)}


class DynamoDbCredentials:
    """The production Credentials, in the incidents table (`table`)."""

    def __init__(self, *, client: Any, table: str, clock: Clock) -> None:
        self._client = client
        self._table = table
        self._clock = clock

    async def generations(self, email: str) -> Generations:
        found = await self._call(
            "read generations",
            self._client.get_item,
            TableName=self._table,
            Key={"pk": _s(f"PERSON#{_email(email)}")},
            ConsistentRead=True,
        )
        return _generations(email, found.get("Item"))

    async def rotate_tokens(self, email: str) -> Generations:
        return await self._bump(email, sessions=0)

    async def revoke(self, email: str) -> Generations:
        return await self._bump(email, sessions=1)

    async def _bump(self, email: str, *, sessions: int) -> Generations:
        found = await self._call(
            "move generations",
            self._client.update_item,
            TableName=self._table,
            Key={"pk": _s(f"PERSON#{_email(email)}")},
            UpdateExpression="ADD tokens :one, sessions :sessions",
            ExpressionAttributeValues={":one": _n(1), ":sessions": _n(sessions)},
            ReturnValues="ALL_NEW",
        )
        return _generations(email, found.get("Attributes"))

    async def open_session(self, session: ConsoleSessionRecord) -> None:
        item = {
            "pk": _s(f"SESSION#{session.key}"),
            "email": _s(_email(session.email)),
            "generation": _n(session.generation),
            "issued_at": _s(_ts(session.issued_at)),
            "valid_until": _s(_ts(session.expires_at)),
            TTL_ATTRIBUTE: _n(int(utc(session.expires_at).timestamp()) + 1),
        }
        try:
            await call(
                "open session",
                self._client.put_item,
                TableName=self._table,
                Item=item,
                ConditionExpression="attribute_not_exists(pk) OR valid_until <= :now",
                ExpressionAttributeValues={":now": _s(_ts(self._clock.now()))},
            )
        except ClientError as exc:
            if error_code(exc) == _CONDITION_FAILED:
                raise AlreadyExists("a console session with this key exists") from None
            raise vendor_error("open session", exc) from exc

    async def session(self, key: str) -> ConsoleSessionRecord | None:
        found = await self._call(
            "read session",
            self._client.get_item,
            TableName=self._table,
            Key={"pk": _s(f"SESSION#{key}")},
            ConsistentRead=True,
        )
        item = found.get("Item")
        if item is None or item["valid_until"]["S"] <= _ts(self._clock.now()):
            return None
        return ConsoleSessionRecord(
            key=key,
            email=item["email"]["S"],
            generation=int(item["generation"]["N"]),
            issued_at=datetime.fromisoformat(item["issued_at"]["S"]),
            expires_at=datetime.fromisoformat(item["valid_until"]["S"]),
        )

    async def end_session(self, key: str) -> None:
        await self._call(
            "end session",
            self._client.delete_item,
            TableName=self._table,
            Key={"pk": _s(f"SESSION#{key}")},
        )

    async def _call(self, what: str, fn: Any, /, **params: Any) -> dict[str, Any]:
        try:
            result: dict[str, Any] = await call(what, fn, **params)
        except ClientError as exc:
            raise vendor_error(what, exc) from exc
        return result


def _generations(email: str, item: dict[str, Any] | None) -> Generations:
    if item is None:
        return Generations(email=_email(email))
    return Generations(
        email=_email(email),
        tokens=int(item.get("tokens", {}).get("N", "0")),
        sessions=int(item.get("sessions", {}).get("N", "0")),
    )
