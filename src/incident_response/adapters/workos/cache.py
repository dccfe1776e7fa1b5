"""Answers from a vendor kept for a while, and kept longer when the vendor fails.

The directory changes slowly and is read on every assembly, so a read is reused for `ttl`. When
a refresh fails (the vendor answers 5xx, times out, or its circuit is open) the last good answer
is served, with a warning: a war room staffed from a five-minute-old directory is better than one
staffed from nothing. Only with no answer at all does the error reach the caller. Concurrent
readers of one key share one refresh, so a burst of assemblies costs the vendor one read.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Generic, TypeVar

from incident_response.domain.clock import Clock
from incident_response.http import VendorError
from incident_response.telemetry.logging import get_logger

__all__ = ["StaleCache"]

T = TypeVar("T")

log = get_logger(__name__)


@dataclass(frozen=True)
class _Kept(Generic[T]):
    value: T
    read_at: datetime


class StaleCache(Generic[T]):
    def __init__(self, *, vendor: str, clock: Clock, ttl: timedelta) -> None:
        self._vendor = vendor
        self._clock = clock
        self._ttl = ttl
        self._kept: dict[str, _Kept[T]] = {}
        self._refreshing: dict[str, asyncio.Lock] = {}

    def _fresh(self, key: str) -> _Kept[T] | None:
        kept = self._kept.get(key)
        if kept is not None and self._clock.now() - kept.read_at < self._ttl:
            return kept
        return None

    async def get(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        """The answer for `key`: kept while fresh, else read again; the last good one if that
        read fails. Raises the read's VendorError only when nothing was ever read."""
        fresh = self._fresh(key)
        if fresh is not None:
            return fresh.value
        lock = self._refreshing.setdefault(key, asyncio.Lock())
        async with lock:
            fresh = self._fresh(key)  # another reader refreshed it while this one waited
            if fresh is not None:
                return fresh.value
            kept = self._kept.get(key)
            try:
                value = await read()
            except VendorError as exc:
                if kept is None:
                    raise type(exc)(  # the same kind (CircuitOpen stays CircuitOpen)
                        exc.vendor,
                        exc.what,
                        f"{exc.reason}; no earlier answer to fall back on",
                        status=exc.status,
                        transient=exc.transient,
                        retry_after=exc.retry_after,
                    ) from exc
                age = (self._clock.now() - kept.read_at).total_seconds()
                log.warning(
                    "directory.stale_answer_served",
                    vendor=self._vendor,
                    what=key,
                    age_seconds=round(age),
                    error=str(exc),
                )
                return kept.value
            self._kept[key] = _Kept(value, self._clock.now())
            return value
