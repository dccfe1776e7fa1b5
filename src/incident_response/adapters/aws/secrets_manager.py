"""The Secrets port on AWS Secrets Manager (conformance: tests/contract/secrets_suite.py).

A secret `NAME` is the Secrets Manager secret `incident-response/<env>/NAME`; its SecretString
(whitespace stripped) is the value, the AWSCURRENT VersionId the version, and the AWSPREVIOUS
version's value `previous`, accepted by the webhook verifier while senders move to the new one.

A version's value never changes in Secrets Manager, so values are cached by VersionId for good;
only which version holds which stage is cached, for `ttl_seconds` (5 minutes). A stale or
`refresh=True` read costs one DescribeSecret, plus one GetSecretValue per version not seen
before: a rotation is seen at once on refresh (the verifier refreshes on a failed check), and
steady state is one cheap call per TTL. boto3 runs in a worker thread.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from incident_response.domain.clock import Clock
from incident_response.domain.errors import NotFound
from incident_response.http import VendorError
from incident_response.ports import SecretValue

VENDOR = "secretsmanager"
PREFIX = "incident-response"
CURRENT, PREVIOUS = "AWSCURRENT", "AWSPREVIOUS"
_TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "InternalServiceError", "InternalServiceErrorException"}
)


def secrets_manager_client(*, region: str, timeout: float = 5) -> Any:
    """A `secretsmanager` client of its own boto3 Session. botocore honours
    AWS_ENDPOINT_URL_SECRETS_MANAGER and AWS_ENDPOINT_URL. Blocking: call it in a thread."""
    config = Config(
        region_name=region,
        connect_timeout=timeout,
        read_timeout=timeout,
        retries={"total_max_attempts": 3, "mode": "standard"},
    )
    return boto3.session.Session().client("secretsmanager", config=config)


@dataclass(frozen=True)
class _Stages:
    current: str
    previous: str | None
    read_at: datetime


class SecretsManagerSecrets:
    """Secrets of one environment (`env`: staging, production) from one region's Secrets
    Manager, through `client` (a boto3 `secretsmanager` client of its own Session)."""

    def __init__(self, client: Any, *, env: str, clock: Clock, ttl_seconds: float = 300) -> None:
        if not env or "/" in env:
            raise ValueError(f"env must be a name without '/', got {env!r}")
        self._sm = client
        self._env = env
        self._clock = clock
        self._ttl = timedelta(seconds=ttl_seconds)
        self._stages: dict[str, _Stages] = {}  # secret id -> its stages, read at
        self._values: dict[tuple[str, str], str] = {}  # (secret id, VersionId) -> value
        self._lock = asyncio.Lock()

    def secret_id(self, name: str) -> str:
        return f"{PREFIX}/{self._env}/{name}"

    async def probe(self) -> str:
        found = await self._call("ListSecrets", MaxResults=1)
        return f"Secrets Manager reachable ({len(found.get('SecretList', []))} secret listed)"

    async def get(self, name: str, *, refresh: bool = False) -> SecretValue:
        """The current value and version, and the previous value; `refresh` re-reads the
        stages at once instead of trusting the TTL."""
        if not name:
            raise ValueError("a secret needs a name")
        secret_id = self.secret_id(name)
        async with self._lock:
            stages = self._stages.get(secret_id)
            now = self._clock.now()
            if refresh or stages is None or now - stages.read_at >= self._ttl:
                stages = await self._read_stages(secret_id, now)
                self._stages[secret_id] = stages
            value = await self._value(secret_id, stages.current)
            previous = await self._value(secret_id, stages.previous) if stages.previous else None
        if not value:
            raise NotFound(f"secret {secret_id} is empty in Secrets Manager")
        return SecretValue(value=value, version=stages.current, previous=previous or None)

    async def _read_stages(self, secret_id: str, now: datetime) -> _Stages:
        described = await self._call("DescribeSecret", SecretId=secret_id)
        current: str | None = None
        previous: str | None = None
        for version, labels in described.get("VersionIdsToStages", {}).items():
            if CURRENT in labels:
                current = str(version)
            if PREVIOUS in labels:
                previous = str(version)
        if current is None:
            raise NotFound(f"secret {secret_id} has no {CURRENT} version in Secrets Manager")
        return _Stages(current=current, previous=previous, read_at=now)

    async def _value(self, secret_id: str, version: str) -> str:
        key = (secret_id, version)
        if key not in self._values:
            found = await self._call("GetSecretValue", SecretId=secret_id, VersionId=version)
            if "SecretString" not in found:
                raise VendorError(VENDOR, "GetSecretValue", f"{secret_id} has no SecretString")
            self._values[key] = str(found["SecretString"]).strip()
        return self._values[key]

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self._sm, _snake(operation))
        try:
            result: dict[str, Any] = await asyncio.to_thread(method, **params)
        except Exception as exc:
            response = getattr(exc, "response", None)
            if not isinstance(response, dict):  # no answer: a connection or SDK failure
                raise VendorError(VENDOR, operation, str(exc), transient=True) from exc
            error = response.get("Error", {})
            code = str(error.get("Code", ""))
            secret_id = str(params.get("SecretId", ""))
            if code == "ResourceNotFoundException":
                raise NotFound(f"secret {secret_id} not found in Secrets Manager") from exc
            raise VendorError(
                VENDOR,
                operation,
                f"{code}: {error.get('Message', exc)} ({secret_id})",
                status=int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0)),
                transient=code in _TRANSIENT_CODES,
            ) from exc
        return result


def _snake(operation: str) -> str:
    return "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
