"""The rate-limit-aware sender: Slack calls wait their turn instead of running into a 429.

Slack limits each Web API method per workspace by tier, and `chat.postMessage` per channel
(about one message a second, short bursts allowed). The `SlackPacer` keeps a token bucket per
method (per channel for `chat.postMessage`); a call takes a token first, queueing in arrival
order when there is none, so an alert storm drains at the tier's rate rather than in 429s.
If Slack still answers 429 (another process shares the limit), that bucket pauses for the
`Retry-After` seconds and the call is sent again. Updates of one message are coalesced: while an
update waits for its turn, a newer one replaces it and only the latest text is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from incident_response.adapters.slack.client import SlackCallFailed
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


@dataclass(frozen=True)
class Rate:
    """`per_minute` sustained, up to `burst` at once after a quiet spell."""

    per_minute: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_minute <= 0 or self.burst < 1:
            raise ValueError("a rate needs a positive per-minute figure and a burst of at least 1")


# Slack's published tiers. The burst is what a quiet workspace may send at once; a bucket
# never sends more than burst + per_minute in any minute, which the tiers' "N+ per minute"
# allow. Tier 1 is kept strict.
TIERS: Mapping[int, Rate] = {
    1: Rate(per_minute=1, burst=1),
    2: Rate(per_minute=20, burst=20),
    3: Rate(per_minute=50, burst=50),
    4: Rate(per_minute=100, burst=100),
}

METHOD_TIERS: Mapping[str, int] = {
    "auth.test": 4,
    "bookmarks.add": 2,
    "bookmarks.edit": 2,
    "bookmarks.list": 3,
    "chat.getPermalink": 4,
    "chat.postEphemeral": 4,
    "chat.update": 3,
    "conversations.archive": 2,
    "conversations.create": 2,
    "conversations.history": 3,
    "conversations.info": 3,
    "conversations.invite": 3,
    "conversations.join": 3,
    "conversations.list": 2,
    "conversations.members": 4,
    "conversations.open": 3,
    "conversations.setPurpose": 2,
    "conversations.setTopic": 2,
    "pins.add": 2,
    "users.info": 4,
    "users.lookupByEmail": 3,
    "views.open": 4,
}
DEFAULT_TIER = 3
POST_MESSAGE = "chat.postMessage"
CHAT_UPDATE = "chat.update"
PER_CHANNEL_POSTS = Rate(per_minute=60, burst=3)
EPSILON = 1e-9


@dataclass(frozen=True)
class RateTable:
    """Which rate each method gets. The defaults are Slack's; tests and benchmarks may pass the
    limits a fake enforces."""

    tiers: Mapping[int, Rate] = field(default_factory=lambda: dict(TIERS))
    method_tiers: Mapping[str, int] = field(default_factory=lambda: dict(METHOD_TIERS))
    per_channel_posts: Rate = PER_CHANNEL_POSTS
    default_tier: int = DEFAULT_TIER

    def for_method(self, method: str) -> Rate:
        return self.tiers[self.method_tiers.get(method, self.default_tier)]

    def scaled(self, time_scale: float) -> RateTable:
        """The same limits with every minute shrunk to `time_scale` minutes (a fake's clock)."""
        return RateTable(
            tiers={t: _scale(r, time_scale) for t, r in self.tiers.items()},
            method_tiers=self.method_tiers,
            per_channel_posts=_scale(self.per_channel_posts, time_scale),
            default_tier=self.default_tier,
        )


def _scale(rate: Rate, time_scale: float) -> Rate:
    return Rate(per_minute=rate.per_minute / time_scale, burst=rate.burst)


class Timer(Protocol):
    """Monotonic seconds and sleeping, injected so tests drive time by hand."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class LoopTimer:
    def now(self) -> float:
        return asyncio.get_running_loop().time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class WebApi(Protocol):
    async def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """The method's response, or SlackCallFailed."""
        ...


class Bucket:
    """A token bucket whose waiters are served first come, first served (asyncio.Lock is FIFO).

    `pause` is what a 429 does: nothing leaves before `Retry-After` has passed, then one call
    may go at once and the rest follow at the sustained rate.
    """

    def __init__(self, rate: Rate, timer: Timer) -> None:
        self._per_second = rate.per_minute / 60.0
        self._capacity = float(rate.burst)
        self._timer = timer
        self._tokens = self._capacity
        self._stamp = timer.now()
        self._paused_until = float("-inf")
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        if now > self._stamp:
            self._tokens = min(
                self._capacity, self._tokens + (now - self._stamp) * self._per_second
            )
            self._stamp = now

    @property
    def idle(self) -> bool:
        """Full and nobody waiting: forgetting it loses nothing."""
        now = self._timer.now()
        self._refill(now)
        return (
            not self._lock.locked() and self._tokens >= self._capacity and now >= self._paused_until
        )

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = self._timer.now()
                if now < self._paused_until:
                    await self._timer.sleep(self._paused_until - now)
                    continue
                self._refill(now)
                if self._tokens >= 1 - EPSILON:  # float error must not leave a token unusable
                    self._tokens = max(self._tokens - 1, 0.0)
                    return
                await self._timer.sleep((1 - self._tokens) / self._per_second)

    def pause(self, seconds: float) -> None:
        now = self._timer.now()
        until = now + max(seconds, 0.0)
        if until > self._paused_until:
            self._paused_until = until
            self._tokens = 1.0
            self._stamp = until


@dataclass
class _MessageUpdates:
    """Pending updates of one message: the newest params and who waits for which version."""

    latest: dict[str, Any]
    version: int = 1
    sent: int = 0
    waiters: list[tuple[int, asyncio.Future[dict[str, Any]]]] = field(default_factory=list)
    worker: asyncio.Task[None] | None = None


class SlackPacer:
    """Sends Web API calls at the pace Slack allows. One per workspace and process."""

    MAX_CHANNEL_BUCKETS = 2000

    def __init__(
        self,
        api: WebApi,
        *,
        rates: RateTable | None = None,
        timer: Timer | None = None,
        max_rate_limited_retries: int = 8,
        default_retry_after: float = 1.0,
    ) -> None:
        self._api = api
        self._rates = rates or RateTable()
        self._timer = timer or LoopTimer()
        self._max_retries = max_rate_limited_retries
        self._default_retry_after = default_retry_after
        self._methods: dict[str, Bucket] = {}
        self._channels: dict[str, Bucket] = {}
        self._updates: dict[tuple[str, str], _MessageUpdates] = {}
        self.rate_limited = 0  # 429s seen (each was waited out and retried)
        self.calls = 0

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        """Send `method` when its bucket allows; a 429 is waited out and sent again."""
        return await self._send(method, lambda: params)

    async def update_message(self, *, channel: str, ts: str, **params: Any) -> dict[str, Any]:
        """`chat.update` of one message, coalesced with the updates queued behind it.

        Returns when a `chat.update` carrying this content or newer content has been sent.
        Updates of one message go out one at a time and in order, so an older text never
        overwrites a newer one.
        """
        key = (channel, ts)
        body = {**params, "channel": channel, "ts": ts}
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        state = self._updates.get(key)
        if state is None:
            state = _MessageUpdates(latest=body)
            self._updates[key] = state
        else:
            state.latest = body
            state.version += 1
        state.waiters.append((state.version, future))
        if state.worker is None:
            state.worker = asyncio.create_task(self._drain_updates(key, state))
        return await asyncio.shield(future)

    async def _drain_updates(self, key: tuple[str, str], state: _MessageUpdates) -> None:
        try:
            while state.sent < state.version:
                picked = state.version

                def newest() -> Mapping[str, Any]:
                    nonlocal picked
                    picked = state.version  # read after the token: the newest text goes out
                    return state.latest

                try:
                    result = await self._send(CHAT_UPDATE, newest)
                except Exception as exc:
                    self._settle(state, picked, error=exc)
                    continue
                self._settle(state, picked, result=result)
        finally:
            state.worker = None
            if self._updates.get(key) is state and state.sent >= state.version:
                del self._updates[key]

    @staticmethod
    def _settle(
        state: _MessageUpdates,
        version: int,
        *,
        result: dict[str, Any] | None = None,
        error: BaseException | None = None,
    ) -> None:
        state.sent = max(state.sent, version)
        still: list[tuple[int, asyncio.Future[dict[str, Any]]]] = []
        for wanted, future in state.waiters:
            if wanted > version:
                still.append((wanted, future))
            elif future.done():
                continue
            elif error is not None:
                future.set_exception(error)
                future.add_done_callback(_retrieve)
            else:
                future.set_result(result or {})
        state.waiters = still

    async def _send(self, method: str, params: Callable[[], Mapping[str, Any]]) -> dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            bucket = await self._take(method, params)
            body = dict(params())
            try:
                self.calls += 1
                return await self._api.call(method, body)
            except SlackCallFailed as exc:
                if not exc.rate_limited or attempt > self._max_retries:
                    raise
                self.rate_limited += 1
                wait = exc.retry_after if exc.retry_after is not None else self._default_retry_after
                bucket.pause(wait)
                log.warning("slack.rate_limited", method=method, retry_after=wait, attempt=attempt)

    async def _take(self, method: str, params: Callable[[], Mapping[str, Any]]) -> Bucket:
        if method == POST_MESSAGE:
            bucket = self._channel_bucket(str(params().get("channel", "")))
        elif method in self._methods:
            bucket = self._methods[method]
        else:
            bucket = self._methods[method] = Bucket(self._rates.for_method(method), self._timer)
        await bucket.take()
        return bucket

    def _channel_bucket(self, channel: str) -> Bucket:
        bucket = self._channels.get(channel)
        if bucket is None:
            if len(self._channels) >= self.MAX_CHANNEL_BUCKETS:
                for name in [n for n, b in self._channels.items() if b.idle]:
                    del self._channels[name]
            bucket = self._channels[channel] = Bucket(self._rates.per_channel_posts, self._timer)
        return bucket

    async def aclose(self) -> None:
        """Stop coalescing workers; their waiters see the cancellation."""
        workers = [s.worker for s in self._updates.values() if s.worker is not None]
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker


def _retrieve(future: asyncio.Future[dict[str, Any]]) -> None:
    """Mark a failed update's error as seen, for waiters that gave up (timed out) meanwhile."""
    if not future.cancelled():
        future.exception()
