"""Slack's rate limits as token buckets, so a client that ignores the tiers meets 429s in tests.

Slack documents limits per method and workspace in tiers ("20+ per minute" for Tier 2) and allows
occasional bursts; chat.postMessage is limited to about one message per second per channel. The
fake models each as a bucket that refills at the tier's rate and holds one window's worth plus a
burst allowance, so a quiet client can fire a full minute's quota at once but not sustain more.
`time_scale` shrinks every window (0.01 turns a minute into 0.6 s) and keeps the tier ratios, so a
storm test meets the same limits in a fraction of the time.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

TIER_PER_MINUTE: dict[int, int] = {1: 1, 2: 20, 3: 50, 4: 100}

METHOD_TIERS: dict[str, int] = {
    "apps.connections.open": 1,
    "conversations.create": 2,
    "conversations.archive": 2,
    "conversations.setTopic": 2,
    "conversations.list": 2,
    "pins.add": 2,
    "bookmarks.add": 2,
    "bookmarks.edit": 2,
    "bookmarks.list": 3,
    "conversations.invite": 3,
    "conversations.info": 3,
    "conversations.history": 3,
    "conversations.open": 3,
    "users.lookupByEmail": 3,
    "chat.update": 3,
    "views.open": 4,
    "users.info": 4,
    "auth.test": 4,
    "chat.postEphemeral": 4,
}
"""Tier of every Web API method the fake implements, from Slack's method reference."""

POST_MESSAGE = "chat.postMessage"


@dataclass(frozen=True)
class Rule:
    """`per_window` calls per `window` seconds sustained, `per_window + burst` at once."""

    per_window: int
    window: float
    burst: int

    @property
    def capacity(self) -> int:
        return self.per_window + self.burst

    @property
    def refill_per_second(self) -> float:
        return self.per_window / self.window


@dataclass(frozen=True)
class Decision:
    allowed: bool
    retry_after: float = 0.0
    """Seconds until the next call under this rule would be allowed (0 when allowed)."""

    @property
    def retry_after_header(self) -> str:
        """Slack sends whole seconds; round up so a client that obeys never comes back early."""
        return str(max(1, math.ceil(self.retry_after)))


@dataclass
class _Bucket:
    rule: Rule
    tokens: float
    updated: float


@dataclass
class RateLimits:
    """Per-method (per-workspace) tiers and per-channel chat.postMessage pacing."""

    clock: Callable[[], float]
    enabled: bool = True
    time_scale: float = 1.0
    burst_ratio: float = 0.2
    post_message_per_second: float = 1.0
    post_message_burst: int = 2
    _buckets: dict[tuple[str, str], _Bucket] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.time_scale <= 0:
            raise ValueError("time_scale must be positive")

    def rule_for(self, method: str) -> Rule | None:
        """The workspace-wide rule for `method`, or None for a method without a tier."""
        tier = METHOD_TIERS.get(method)
        if tier is None:
            return None
        per_minute = TIER_PER_MINUTE[tier]
        return Rule(
            per_window=per_minute,
            window=60.0 * self.time_scale,
            burst=max(1, math.floor(per_minute * self.burst_ratio)),
        )

    def channel_rule(self) -> Rule:
        """chat.postMessage: about one per second per channel, with a small burst."""
        return Rule(
            per_window=1,
            window=self.time_scale / self.post_message_per_second,
            burst=self.post_message_burst,
        )

    def acquire(self, method: str, channel: str | None = None) -> Decision:
        """Take one call from every bucket that applies, or none of them if any is empty."""
        if not self.enabled:
            return Decision(allowed=True)
        keys: list[tuple[tuple[str, str], Rule]] = []
        rule = self.rule_for(method)
        if rule is not None:
            keys.append(((method, ""), rule))
        if method == POST_MESSAGE and channel:
            keys.append(((method, channel), self.channel_rule()))
        now = self.clock()
        buckets = [self._bucket(key, rule, now) for key, rule in keys]
        waits = [self._wait(bucket) for bucket in buckets]
        if any(wait > 0 for wait in waits):
            return Decision(allowed=False, retry_after=max(waits))
        for bucket in buckets:
            bucket.tokens -= 1.0
        return Decision(allowed=True)

    def _bucket(self, key: tuple[str, str], rule: Rule, now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = _Bucket(rule, float(rule.capacity), now)
        elapsed = max(0.0, now - bucket.updated)
        bucket.tokens = min(float(rule.capacity), bucket.tokens + elapsed * rule.refill_per_second)
        bucket.updated = now
        return bucket

    @staticmethod
    def _wait(bucket: _Bucket) -> float:
        """A client that waited exactly the advertised time must get in, float rounding or not."""
        if bucket.tokens >= 1.0 - 1e-9:
            return 0.0
        return (1.0 - bucket.tokens) / bucket.rule.refill_per_second
