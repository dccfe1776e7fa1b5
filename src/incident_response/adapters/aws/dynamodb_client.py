"""The one way this package builds a DynamoDB client and turns its failures into ours.

Retries are botocore's `standard` mode, bounded: a throttle or a 5xx is retried a few times with
backoff, and what still fails surfaces as a transient VendorError, so the caller (the queue's
redelivery) tries the whole step again later instead of losing it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from incident_response.http import VendorError

T = TypeVar("T")

# Codes that say "not now", as opposed to "never": retrying later may succeed.
TRANSIENT_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "RequestLimitExceeded",
        "InternalServerError",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)

RETRY_ATTEMPTS = 3


def dynamodb_client(
    *,
    region: str,
    endpoint_url: str | None = None,
    attempts: int = RETRY_ATTEMPTS,
    timeout: float = 5.0,
) -> Any:
    """A client with bounded standard-mode retries and short timeouts. `endpoint_url` None means
    the standard AWS_ENDPOINT_URL(_DYNAMODB) lookup, then AWS itself."""
    config = Config(
        retries={"mode": "standard", "total_max_attempts": attempts},
        connect_timeout=timeout,
        read_timeout=timeout,
        tcp_keepalive=True,
    )
    session = boto3.session.Session(region_name=region)
    return session.client("dynamodb", endpoint_url=endpoint_url, config=config)


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def vendor_error(what: str, exc: Exception) -> VendorError:
    """A DynamoDB failure as the VendorError every adapter raises."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
        transient = code in TRANSIENT_CODES or status >= 500
        return VendorError("dynamodb", what, f"{code}: {exc}", status=status, transient=transient)
    return VendorError("dynamodb", what, str(exc) or type(exc).__name__, transient=True)


async def call(what: str, fn: Callable[..., T], /, **params: Any) -> T:
    """`fn(**params)` in a worker thread; errors other than ClientError become VendorError.

    A ClientError is re-raised as is: the adapter decides what a ConditionalCheckFailed means.
    """
    try:
        return await asyncio.to_thread(fn, **params)
    except ClientError:
        raise
    except BotoCoreError as exc:
        raise vendor_error(what, exc) from exc
