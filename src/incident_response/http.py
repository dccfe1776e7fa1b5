"""The one outbound HTTP policy: every call to a vendor goes through here.

`OutboundHttp` owns the process's httpx client (one connection pool) and, per vendor, a circuit
breaker and an optional pacer. A `VendorClient` makes each call with:

- a timeout per attempt (`CallPolicy.timeout`);
- retries only where they are safe: an idempotent request (GET, HEAD, PUT, DELETE, OPTIONS, or a
  POST the caller marks idempotent, such as a GraphQL query) is retried on a transport error, a
  timeout, 429 and 5xx; any other request only on 429 and on a connection that never opened
  (the vendor refused it or never saw it, so nothing happened twice);
- exponential backoff with full jitter (tenacity's `wait_random_exponential`), except that a
  `Retry-After` (seconds or an HTTP date) is honoured exactly, up to `CallPolicy.max_retry_after`;
  a vendor asking for a longer wait fails the call at once rather than stalling an incident;
- a circuit breaker: after `BreakerPolicy.failures` failed calls in a row the vendor is not
  called for `BreakerPolicy.reset_after` seconds (each call fails fast with `CircuitOpen`), then
  one trial call decides whether it closes again;
- an OpenTelemetry span per call (`http <vendor> <METHOD>`), a no-op without an SDK installed.

Every failure is a `VendorError` naming the vendor, what was called and why; `transient` tells a
caller whether trying again later could help. Vendor SDKs that bring their own transport (boto3
for Bedrock) run through `VendorClient.guard`, which applies the breaker, a deadline and the span.

Retries use tenacity (a well-kept library, as the project's standards ask). The circuit breaker is
written here: the async breakers on PyPI are unmaintained (aiobreaker, last release 2021) or read
the wall clock directly (purgatory), and this one must run on the service's Clock so tests can move
time, and share its state with the retry decisions above. It is forty lines.

`scripts/check_http_clients.py` fails CI if any other module opens an HTTP client.
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from opentelemetry import trace
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception, stop_after_attempt
from tenacity.wait import wait_random_exponential

from incident_response.domain.errors import IncidentResponseError
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)
tracer = trace.get_tracer(__name__)

T = TypeVar("T")

SAFE_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# 529: Anthropic's "overloaded"
RETRYABLE_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504, 529})
# Statuspage answers an exceeded rate limit with 420 as well as 429
RATE_LIMIT_STATUSES = frozenset({420, 429})
USER_AGENT = "incident-response (+https://github.com/incident-response/incident-response)"


class VendorError(IncidentResponseError):
    """A vendor call that did not succeed: who, what, the HTTP status (0 when no answer came)
    and whether trying again later could help."""

    def __init__(
        self,
        vendor: str,
        what: str,
        reason: str,
        *,
        status: int = 0,
        transient: bool = False,
        retry_after: float | None = None,
        body: str = "",
    ) -> None:
        super().__init__(f"{vendor} {what} failed: {reason}")
        self.vendor = vendor
        self.what = what
        self.reason = reason
        self.status = status
        self._transient = transient
        self.retry_after = retry_after
        self.body = body[:2000]

    @property
    def transient(self) -> bool:
        return self._transient


class CircuitOpen(VendorError):
    """The vendor failed too often just now; it is not being called until the breaker resets."""


@dataclass(frozen=True)
class CallPolicy:
    """How one vendor is called. `attempts` counts the first try; `backoff_*` shape the full
    jitter window (attempt n waits a random time up to min(max, initial * 2**n))."""

    timeout: float = 5.0
    attempts: int = 3
    backoff_initial: float = 0.25
    backoff_max: float = 5.0
    max_retry_after: float = 30.0


@dataclass(frozen=True)
class BreakerPolicy:
    failures: int = 5
    reset_after: float = 30.0


Monotonic = Callable[[], float]


@dataclass
class CircuitBreaker:
    """Closed until `failures` calls in a row fail; then open (calls fail fast) for
    `reset_after` seconds; then half-open: one trial call closes it on success or re-opens it."""

    vendor: str
    policy: BreakerPolicy = field(default_factory=BreakerPolicy)
    monotonic: Monotonic = time.monotonic
    consecutive_failures: int = 0
    opened_at: float | None = None
    _trial_running: bool = False

    @property
    def state(self) -> str:
        if self.opened_at is None:
            return "closed"
        if self.monotonic() - self.opened_at >= self.policy.reset_after:
            return "half-open"
        return "open"

    def before_call(self, what: str) -> None:
        state = self.state
        if state == "closed":
            return
        if state == "half-open" and not self._trial_running:
            self._trial_running = True
            return
        assert self.opened_at is not None
        wait = max(0.0, self.policy.reset_after - (self.monotonic() - self.opened_at))
        raise CircuitOpen(
            self.vendor,
            what,
            f"circuit open after {self.consecutive_failures} failures in a row "
            f"(next try in {wait:.0f} s)",
            transient=True,
            retry_after=wait,
        )

    def succeeded(self) -> None:
        self.consecutive_failures = 0
        self.opened_at = None
        self._trial_running = False

    def failed(self) -> None:
        self.consecutive_failures += 1
        trial = self._trial_running
        self._trial_running = False
        if trial or self.consecutive_failures >= self.policy.failures:
            if self.opened_at is None or trial:
                log.warning("http.circuit_opened", vendor=self.vendor)
            self.opened_at = self.monotonic()


class Pacer:
    """At most `per_second` calls start per second (a vendor's published per-key limit), spread
    evenly: callers wait their turn instead of drawing 429s. One per vendor key per process;
    the vendor's 429 with Retry-After covers several processes sharing a key."""

    def __init__(
        self,
        per_second: float,
        *,
        monotonic: Monotonic = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.interval = 1.0 / per_second
        self._monotonic = monotonic
        self._sleep = sleep
        self._next = 0.0
        self._lock = asyncio.Lock()

    async def wait_turn(self) -> None:
        async with self._lock:
            now = self._monotonic()
            start = max(now, self._next)
            self._next = start + self.interval
        if start > now:
            await self._sleep(start - now)


def retry_after_seconds(headers: Mapping[str, str], *, now: datetime | None = None) -> float | None:
    """`Retry-After` as seconds (delta-seconds or an HTTP date); None when absent or unreadable."""
    raw = headers.get("retry-after")
    if raw is None:
        return None
    raw = raw.strip()
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(raw)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


class _Retryable(Exception):
    """Carries a failed attempt that the policy allows to try again."""

    def __init__(self, error: VendorError) -> None:
        super().__init__(str(error))
        self.error = error


class _BackoffOrRetryAfter:
    """tenacity wait strategy: the vendor's Retry-After when it gave one, else full jitter."""

    def __init__(self, policy: CallPolicy) -> None:
        self._jitter = wait_random_exponential(
            multiplier=policy.backoff_initial, max=policy.backoff_max
        )

    def __call__(self, state: RetryCallState) -> float:
        outcome = state.outcome
        error = outcome.exception() if outcome is not None else None
        if isinstance(error, _Retryable) and error.error.retry_after is not None:
            return error.error.retry_after
        return float(self._jitter(state))


@dataclass
class VendorClient:
    """Calls to one vendor under one policy. Build it with `OutboundHttp.vendor`."""

    name: str
    base_url: str
    http: httpx.AsyncClient
    policy: CallPolicy
    breaker: CircuitBreaker
    headers: dict[str, str]
    pacer: Pacer | None = None
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        attempt_timeout: float | None = None,
        ok_statuses: frozenset[int] = frozenset(),
        content: bytes | None = None,
    ) -> httpx.Response:
        """One logical call: the answer of the first attempt that got a 2xx (or a status in
        `ok_statuses`, such as a 404 the caller reads as "not there"). Raises VendorError.
        `content` sends these exact bytes (a body that was signed) instead of `json`."""
        method = method.upper()
        safe = method in SAFE_METHODS if idempotent is None else idempotent
        what = f"{method} {path.split('?')[0]}"
        url = self.base_url.rstrip("/") + "/" + path.lstrip("/") if path else self.base_url
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.policy.attempts),
            wait=_BackoffOrRetryAfter(self.policy),
            retry=retry_if_exception(lambda e: isinstance(e, _Retryable)),
            sleep=self.sleep,
            reraise=True,
        )
        with tracer.start_as_current_span(
            f"http {self.name} {method}",
            kind=trace.SpanKind.CLIENT,
            attributes={"http.request.method": method, "vendor": self.name, "url.path": what},
        ) as span:
            try:
                response: httpx.Response = await retrying(
                    self._attempt,
                    method,
                    url,
                    what,
                    safe=safe,
                    json=json,
                    params=params,
                    headers=headers,
                    attempt_timeout=attempt_timeout or self.policy.timeout,
                    ok_statuses=ok_statuses,
                    content=content,
                )
            except _Retryable as exc:
                span.set_attribute("error.type", exc.error.reason[:100])
                raise exc.error from None
            except VendorError as exc:
                span.set_attribute("error.type", exc.reason[:100])
                raise
            span.set_attribute("http.response.status_code", response.status_code)
            return response

    async def _attempt(
        self,
        method: str,
        url: str,
        what: str,
        *,
        safe: bool,
        json: Any,
        params: Mapping[str, Any] | None,
        headers: Mapping[str, str] | None,
        attempt_timeout: float,
        ok_statuses: frozenset[int],
        content: bytes | None = None,
    ) -> httpx.Response:
        self.breaker.before_call(what)
        if self.pacer is not None:
            await self.pacer.wait_turn()
        try:
            response = await self.http.request(
                method,
                url,
                json=json,
                content=content,
                params=params,
                headers={**self.headers, **(headers or {})},
                timeout=attempt_timeout,
            )
        except httpx.ConnectError as exc:  # never reached the vendor: safe to repeat
            raise self._failed(
                VendorError(self.name, what, f"cannot connect ({exc})", transient=True),
                retry=True,
            ) from None
        except httpx.TimeoutException:
            raise self._failed(
                VendorError(
                    self.name, what, f"no answer within {attempt_timeout:g} s", transient=True
                ),
                retry=safe,
            ) from None
        except httpx.HTTPError as exc:
            raise self._failed(
                VendorError(self.name, what, f"transport error ({exc})", transient=True),
                retry=safe,
            ) from None
        status = response.status_code
        if 200 <= status < 300 or status in ok_statuses:
            self.breaker.succeeded()
            return response
        retry_after = retry_after_seconds(response.headers)
        rate_limited = status in RATE_LIMIT_STATUSES
        transient = rate_limited or status in RETRYABLE_STATUSES
        error = VendorError(
            self.name,
            what,
            f"HTTP {status}" + (f": {_summary(response)}" if _summary(response) else ""),
            status=status,
            transient=transient,
            retry_after=retry_after,
            body=response.text,
        )
        if not transient:
            # the vendor answered and refused this request: it is up, the request is wrong
            self.breaker.succeeded()
            raise error
        if retry_after is not None and retry_after > self.policy.max_retry_after:
            self.breaker.failed()
            raise error
        return_to_retry = rate_limited or safe
        raise self._failed(error, retry=return_to_retry)

    def _failed(self, error: VendorError, *, retry: bool) -> Exception:
        # a rate limit is the vendor protecting itself, not failing: it does not open the breaker
        if error.status not in RATE_LIMIT_STATUSES:
            self.breaker.failed()
        return _Retryable(error) if retry else error

    async def guard(self, what: str, call: Callable[[], Awaitable[T]], *, deadline: float) -> T:
        """Run a call made by a vendor SDK (which brings its own transport and retries) under
        this vendor's breaker, a deadline and a span. Its exceptions become VendorError."""
        self.breaker.before_call(what)
        with tracer.start_as_current_span(
            f"call {self.name} {what}", kind=trace.SpanKind.CLIENT, attributes={"vendor": self.name}
        ):
            try:
                result = await asyncio.wait_for(call(), deadline)
            except TimeoutError:
                self.breaker.failed()
                raise VendorError(
                    self.name, what, f"no answer within {deadline:g} s", transient=True
                ) from None
            except VendorError as exc:
                # a refusal (a bad request, no access) means the vendor is up: like `request`
                if exc.transient:
                    self.breaker.failed()
                else:
                    self.breaker.succeeded()
                raise
            except Exception as exc:
                self.breaker.failed()
                raise VendorError(self.name, what, str(exc) or type(exc).__name__) from exc
            self.breaker.succeeded()
            return result


def _summary(response: httpx.Response) -> str:
    """A short, single-line reason from an error body (vendors put it in different keys)."""
    try:
        doc = response.json()
    except ValueError:
        return response.text.strip().splitlines()[0][:200] if response.text.strip() else ""
    if isinstance(doc, dict):
        for key in ("error", "message", "errors", "error_description", "detail"):
            value = doc.get(key)
            if isinstance(value, str) and value:
                return value[:200]
            if isinstance(value, dict) and isinstance(value.get("message"), str):
                return str(value["message"])[:200]
            if isinstance(value, list) and value and isinstance(value[0], dict):
                return str(value[0].get("message", ""))[:200]
    return ""


class OutboundHttp:
    """The process's outbound HTTP: one httpx client (connection pool) and one breaker per
    vendor. Built once by the composition root and closed at shutdown. `transport` lets a test
    route calls elsewhere; `sleep` and `monotonic` let it move time."""

    def __init__(
        self,
        *,
        default_timeout: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        monotonic: Monotonic = time.monotonic,
    ) -> None:
        self._client = httpx.AsyncClient(
            transport=transport,
            timeout=default_timeout,
            follow_redirects=False,
            headers={"User-Agent": USER_AGENT},
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )
        self._sleep = sleep
        self._monotonic = monotonic
        self.default_timeout = default_timeout
        self.breakers: dict[str, CircuitBreaker] = {}

    def vendor(
        self,
        name: str,
        *,
        base_url: str,
        headers: Mapping[str, str] | None = None,
        policy: CallPolicy | None = None,
        breaker: BreakerPolicy | None = None,
        per_second: float | None = None,
    ) -> VendorClient:
        """A client for one vendor. Clients of the same `name` share its breaker."""
        policy = policy or CallPolicy(timeout=self.default_timeout)
        shared = self.breakers.get(name)
        if shared is None:
            shared = CircuitBreaker(
                name, policy=breaker or BreakerPolicy(), monotonic=self._monotonic
            )
            self.breakers[name] = shared
        return VendorClient(
            name=name,
            base_url=base_url,
            http=self._client,
            policy=policy,
            breaker=shared,
            headers=dict(headers or {}),
            pacer=(
                Pacer(per_second, monotonic=self._monotonic, sleep=self._sleep)
                if per_second
                else None
            ),
            sleep=self._sleep,
        )

    async def aclose(self) -> None:
        await self._client.aclose()


def own_service_client(*, timeout: float = 10.0) -> httpx.AsyncClient:
    """A plain client for talking to this service itself (the demo and the drill walk a running
    `serve`): not a vendor, so no retries or breaker, which would hide the very failures those
    commands exist to show. Close it (`async with`)."""
    return httpx.AsyncClient(timeout=timeout, headers={"User-Agent": USER_AGENT})
