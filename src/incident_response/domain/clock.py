"""Time as a dependency, so rules about minutes can be tested without waiting for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """The current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


def utc(dt: datetime) -> datetime:
    """Normalise to aware UTC; naive datetimes are taken to be UTC already."""
    if dt.tzinfo is None:
        return dt.replace(tzinfo=UTC)
    return dt.astimezone(UTC)


def isoformat(dt: datetime) -> str:
    """ISO 8601 in UTC with a trailing Z, the one time format the API speaks."""
    return utc(dt).isoformat().replace("+00:00", "Z")
