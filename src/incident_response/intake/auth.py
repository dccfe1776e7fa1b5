"""Who may post alerts: a shared secret, as a bearer token or as an HMAC signature over the body.

Grafana OnCall cannot sign bodies, so it sends `Authorization: Bearer <secret>`. Senders that can
sign send `X-Incident-Response-Timestamp` (unix seconds) and `X-Incident-Response-Signature:
sha256=<hex HMAC-SHA256(secret, f"{timestamp}.".encode() + body)>`; a timestamp more than the
replay window away from now (either direction) is refused, so a captured request cannot be
replayed later.

The secret comes from the Secrets port. It is cached for a few seconds, so a value removed from
the store stops working within that; while a rotation is under way both the new and the previous
value are accepted. A check that fails against the cache forces a refresh before refusing, so a
sender that picked up the new secret before our cache did is never turned away. Forced
refreshes are shared (failures that arrive while one is under way wait for it instead of
fetching again), and bad requests never make a good one wait or fail: with the embedded default
a refresh is a read of the environment or a small file. A secret store that charges per call
can set `min_refresh_interval_seconds`, which spaces forced refreshes apart in real time (a good
request behind a flood then waits at most that long). With no secret configured everything is
refused: intake never runs open.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_response.domain.clock import Clock
from incident_response.domain.errors import IncidentResponseError, NotFound
from incident_response.ports import Secrets, SecretValue

WEBHOOK_SECRET = "INCIDENT_RESPONSE_WEBHOOK_SECRET"
TIMESTAMP_HEADER = "x-incident-response-timestamp"
MAX_TIMESTAMP_DIGITS = 12  # unix seconds stay under 12 digits for the next 30,000 years
SIGNATURE_HEADER = "x-incident-response-signature"
SIGNATURE_PREFIX = "sha256="

log = logging.getLogger(__name__)


class Unauthorized(IncidentResponseError):
    """The request did not prove it knows the webhook secret; the message says what was wrong."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header value a sender computes (and tests use)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


@dataclass(frozen=True)
class _Credentials:
    bearer: str | None
    timestamp: int | None
    signature: str | None

    def match(self, secrets: Sequence[str], body: bytes) -> bool:
        ok = False
        for secret in secrets:
            if self.bearer is not None:
                ok |= hmac.compare_digest(self.bearer.encode(), secret.encode())
            if self.timestamp is not None and self.signature is not None:
                expected = sign(secret, self.timestamp, body)
                ok |= hmac.compare_digest(self.signature.encode(), expected.encode())
        return ok


class WebhookVerifier:
    def __init__(
        self,
        *,
        secrets: Secrets,
        clock: Clock,
        secret_name: str = WEBHOOK_SECRET,
        cache_ttl_seconds: float = 5,
        replay_window_seconds: float = 300,
        min_refresh_interval_seconds: float = 0.0,
    ) -> None:
        self._secrets = secrets
        self._clock = clock
        self._name = secret_name
        self._ttl = timedelta(seconds=cache_ttl_seconds)
        self._window = replay_window_seconds
        self._min_refresh = min_refresh_interval_seconds
        self._cached: SecretValue | None = None
        self._fetched_at: datetime | None = None
        self._refreshes = 0  # forced refreshes completed, so a waiter can tell one happened
        self._refreshed_at = float("-inf")  # loop time of the last forced refresh
        self._lock = asyncio.Lock()

    async def verify(self, headers: Mapping[str, str], body: bytes) -> None:
        """Return when the request carries valid credentials; raise Unauthorized otherwise."""
        credentials = self._credentials({k.lower(): v for k, v in headers.items()})
        seen = self._refreshes
        if credentials.match(await self._values(), body):
            return
        if credentials.match(await self._refreshed(since=seen), body):
            return
        raise Unauthorized("invalid credentials")

    def _credentials(self, headers: Mapping[str, str]) -> _Credentials:
        bearer: str | None = None
        scheme, _, token = headers.get("authorization", "").strip().partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            bearer = token.strip()
        raw_ts, raw_sig = headers.get(TIMESTAMP_HEADER), headers.get(SIGNATURE_HEADER)
        timestamp: int | None = None
        signature: str | None = None
        problem = ""
        if raw_ts is not None or raw_sig is not None:
            timestamp, signature, problem = self._signature(raw_ts, raw_sig)
        if bearer is None and signature is None:
            raise Unauthorized(
                problem or "missing credentials: send Authorization: Bearer <secret> or a signature"
            )
        return _Credentials(bearer, timestamp, signature)

    def _signature(
        self, raw_ts: str | None, raw_sig: str | None
    ) -> tuple[int | None, str | None, str]:
        if raw_ts is None or raw_sig is None:
            return None, None, f"signature needs both {TIMESTAMP_HEADER} and {SIGNATURE_HEADER}"
        timestamp = unix_seconds(raw_ts)
        if timestamp is None:
            return None, None, f"{TIMESTAMP_HEADER}: expected unix seconds"
        now = self._clock.now().timestamp()
        if abs(now - timestamp) > self._window:
            return None, None, f"{TIMESTAMP_HEADER}: outside the {self._window:g} s replay window"
        signature = raw_sig.strip().lower()
        if not signature.startswith(SIGNATURE_PREFIX):
            return None, None, f"{SIGNATURE_HEADER}: expected {SIGNATURE_PREFIX}<hex>"
        return timestamp, signature, ""

    async def _values(self) -> list[str]:
        """The accepted values (current, then previous) from the cache, fetched when stale."""
        async with self._lock:
            if self._fresh(self._clock.now()):
                return _accepted(self._cached)
            return await self._fetch(refresh=False)

    async def _refreshed(self, *, since: int) -> list[str]:
        """The accepted values after a forced refresh that began after this request's first
        check (`since` refreshes had completed then): one that another request ran meanwhile
        counts, so a burst of failures shares a fetch."""
        async with self._lock:
            if self._refreshes > since:
                return _accepted(self._cached)
            loop = asyncio.get_running_loop()
            wait = self._refreshed_at + self._min_refresh - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                return await self._fetch(refresh=True)
            finally:
                self._refreshes += 1
                self._refreshed_at = loop.time()

    async def _fetch(self, *, refresh: bool) -> list[str]:
        """Read the secret store (under the lock); keep what we knew if it is down."""
        now = self._clock.now()
        try:
            secret = await self._secrets.get(self._name, refresh=refresh)
        except NotFound:
            log.error("webhook secret %s is not configured: refusing every webhook", self._name)
            self._cached, self._fetched_at = None, now
            return []
        except Exception:
            if self._cached is None:
                raise
            # the secret store is down: keep accepting what we knew rather than drop alerts
            log.warning("webhook secret %s: fetch failed, using cached value", self._name)
            self._fetched_at = now
            return _accepted(self._cached)
        if self._cached is not None and self._cached.version != secret.version:
            log.info("webhook secret %s rotated to version %s", self._name, secret.version)
        self._cached, self._fetched_at = secret, now
        return _accepted(secret)

    def _fresh(self, now: datetime) -> bool:
        return self._fetched_at is not None and now - self._fetched_at < self._ttl


def unix_seconds(text: str) -> int | None:
    """ASCII digits of a plausible unix time, or None. `str.isdigit` alone would take `²` or
    Arabic-Indic digits, which `int` then refuses or reads, and thousands of digits."""
    text = text.strip()
    if not (0 < len(text) <= MAX_TIMESTAMP_DIGITS and text.isascii() and text.isdigit()):
        return None
    return int(text)


def _accepted(secret: SecretValue | None) -> list[str]:
    if secret is None:
        return []
    return [v for v in (secret.value, secret.previous) if v]
