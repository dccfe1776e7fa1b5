"""A GraphQL client for Linear over the one outbound HTTP policy (`incident_response.http`).

Linear answers a request it refuses (a bad key, a document or input it cannot take) with HTTP
400 and a GraphQL `errors` list, and some failures (an entity not found, a lock timeout) with
HTTP 200 and `errors`. Both are read here, so every failure reaches the caller as one
`VendorError` carrying Linear's own words and, where it helps, the setting to check.
A read (`query`) is retried by the HTTP policy on 5xx and timeouts; a write (`mutate`) is not,
because a lost answer may hide a write that happened: the caller decides (the tracker looks
its issue up first).
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from incident_response.http import CircuitOpen, VendorClient, VendorError, retry_after_seconds

VENDOR = "linear"
# statuses whose body is a GraphQL answer to read rather than a transport failure
ANSWERED = frozenset({400, 401, 403})
# Linear's error types (extensions.type) and codes (extensions.code) that a later try may clear
TRANSIENT_KINDS = frozenset(
    {
        "ratelimited",
        "RATELIMITED",
        "internal error",
        "INTERNAL_ERROR",
        "INTERNAL_SERVER_ERROR",
        "lock timeout",
        "LOCK_TIMEOUT",
        "network error",
        "NETWORK_ERROR",
    }
)
AUTHENTICATION_KINDS = frozenset({"authentication error", "AUTHENTICATION_ERROR"})
FORBIDDEN_KINDS = frozenset({"forbidden", "FORBIDDEN"})
RATE_LIMIT_KINDS = frozenset({"ratelimited", "RATELIMITED"})


@dataclass(frozen=True)
class Problem:
    """One entry of a GraphQL `errors` list, as Linear shapes it."""

    message: str
    code: str = ""
    type: str = ""
    path: tuple[str, ...] = ()

    @classmethod
    def read(cls, raw: Any) -> Problem:
        if not isinstance(raw, Mapping):
            return cls(message=str(raw))
        extensions = raw.get("extensions")
        extensions = extensions if isinstance(extensions, Mapping) else {}
        message = str(raw.get("message") or "")
        friendly = extensions.get("userPresentableMessage")
        if isinstance(friendly, str) and friendly and friendly not in message:
            message = f"{message} ({friendly})" if message else friendly
        path = raw.get("path")
        return cls(
            message=message or "unknown error",
            code=str(extensions.get("code") or ""),
            type=str(extensions.get("type") or ""),
            path=tuple(str(p) for p in path) if isinstance(path, list) else (),
        )

    def kind(self, kinds: frozenset[str]) -> bool:
        return self.code in kinds or self.type in kinds


class LinearError(VendorError):
    """Linear answered with GraphQL errors; `problems` keeps each one (message, code, path).
    `refusal` says whose it is: "credentials" (the key), "rate limit", "outage" (try again) or
    "input" (what was asked: an id that does not exist, a value Linear does not take)."""

    def __init__(
        self,
        what: str,
        reason: str,
        *,
        problems: tuple[Problem, ...],
        refusal: str,
        status: int,
        transient: bool,
        retry_after: float | None = None,
        body: str = "",
    ) -> None:
        super().__init__(
            VENDOR,
            what,
            reason,
            status=status,
            transient=transient,
            retry_after=retry_after,
            body=body,
        )
        self.problems = problems
        self.refusal = refusal

    def at(self, field: str) -> bool:
        """Whether one of the errors is about the top-level field `field` (e.g. "team")."""
        return any(p.path[:1] == (field,) for p in self.problems)


class LinearGraphQL:
    """Sends one named operation at a time to Linear's GraphQL endpoint (the client's base URL)."""

    def __init__(self, client: VendorClient) -> None:
        self._client = client

    async def query(self, document: str, variables: Mapping[str, Any], *, what: str) -> Any:
        """A read: safe to repeat, so the HTTP policy retries it on 5xx and timeouts."""
        return await self._send(document, variables, what=what, idempotent=True)

    async def mutate(self, document: str, variables: Mapping[str, Any], *, what: str) -> Any:
        """A write: retried only where the request surely did nothing (429, no connection)."""
        return await self._send(document, variables, what=what, idempotent=False)

    async def _send(
        self, document: str, variables: Mapping[str, Any], *, what: str, idempotent: bool
    ) -> dict[str, Any]:
        try:
            response = await self._client.request(
                "POST",
                "",
                json={"query": document, "variables": dict(variables)},
                idempotent=idempotent,
                ok_statuses=ANSWERED,
            )
        except VendorError as exc:
            # the policy names the call by its path, which for GraphQL says nothing
            kind = CircuitOpen if isinstance(exc, CircuitOpen) else VendorError
            raise kind(
                exc.vendor,
                what,
                exc.reason,
                status=exc.status,
                transient=exc.transient,
                retry_after=exc.retry_after,
                body=exc.body,
            ) from exc
        return _data(response, what=what)


def _data(response: httpx.Response, *, what: str) -> dict[str, Any]:
    """The `data` of a GraphQL answer, or a LinearError built from its `errors`."""
    status = response.status_code
    try:
        payload = response.json()
    except ValueError:
        payload = None
    answer = payload if isinstance(payload, Mapping) else {}
    errors = answer.get("errors")
    if errors:
        raw = errors if isinstance(errors, list) else [errors]
        raise _refusal(what, tuple(Problem.read(e) for e in raw), response)
    if status in (401, 403):  # refused in words other than GraphQL's (a proxy, say)
        raise _refusal(what, (Problem(f"HTTP {status}"),), response)
    data = answer.get("data")
    if status != 200 or not isinstance(data, Mapping):
        raise VendorError(
            VENDOR,
            what,
            f"HTTP {status} without a GraphQL answer (no data, no errors)",
            status=status,
            body=response.text,
        )
    return dict(data)


def _refusal(what: str, problems: tuple[Problem, ...], response: httpx.Response) -> LinearError:
    status = response.status_code
    said = "; ".join(p.message for p in problems[:3])
    transient = False
    retry_after = None
    if status == 401 or any(p.kind(AUTHENTICATION_KINDS) for p in problems):
        refusal = "credentials"
        reason = (
            f"Linear refused the API key ({said}): check LINEAR_API_KEY, a personal API key "
            "sent as is (no 'Bearer')"
        )
    elif status == 403 or any(p.kind(FORBIDDEN_KINDS) for p in problems):
        refusal = "credentials"
        reason = f"the API key may not do this ({said}): check the key's scopes and team access"
    elif any(p.kind(RATE_LIMIT_KINDS) for p in problems):
        refusal, transient = "rate limit", True
        retry_after = _rate_limit_reset(response.headers)
        reason = f"rate limited by Linear ({said})"
    elif any(p.kind(TRANSIENT_KINDS) for p in problems):
        refusal, transient = "outage", True
        reason = said
    else:
        refusal, reason = "input", said
    return LinearError(
        what,
        reason,
        problems=problems,
        refusal=refusal,
        status=status,
        transient=transient,
        retry_after=retry_after,
        body=response.text,
    )


def _rate_limit_reset(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds until Linear lets requests in again: Retry-After, else the requests bucket's
    reset time (`X-RateLimit-Requests-Reset`, UTC epoch milliseconds)."""
    after = retry_after_seconds(headers)
    if after is not None:
        return after
    raw = headers.get("x-ratelimit-requests-reset")
    if raw is None:
        return None
    try:
        reset_ms = float(raw)
    except ValueError:
        return None
    return max(0.0, reset_ms / 1000 - (time.time() if now is None else now))
