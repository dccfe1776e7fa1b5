"""Fixtures of the model clients' tests: the outbound HTTP policy with a sleep that only
records (so a Retry-After or a backoff is checked, not waited) and a clock the breaker reads."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from incident_response.http import OutboundHttp


class RecordedSleeps(list[float]):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)
        await asyncio.sleep(0)


class Ticks:
    """A monotonic clock that moves only when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeps() -> RecordedSleeps:
    return RecordedSleeps()


@pytest.fixture
def ticks() -> Ticks:
    return Ticks()


@pytest.fixture
async def outbound(sleeps: RecordedSleeps, ticks: Ticks) -> AsyncIterator[OutboundHttp]:
    http = OutboundHttp(sleep=sleeps, monotonic=ticks)
    try:
        yield http
    finally:
        await http.aclose()
