"""FallbackDrafter: a model's draft when it comes in time and passes its checks, else the built-in's.

An incident never waits on a model: whatever goes wrong with the primary (a vendor error, an open
circuit, a refused draft, a timeout, a bug), the fallback (the built-in drafter, which needs no
network) answers instead, and one structured log line says which task fell back and why.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any, Protocol, TypeVar

from incident_response.adapters.llm.drafter import DraftRejected
from incident_response.http import VendorError
from incident_response.ports import LLM, PostmortemContext, StatusContext
from incident_response.telemetry.logging import get_logger

T = TypeVar("T")


class WarningLog(Protocol):
    """Where the fallback says why (a structlog logger by default)."""

    def warning(self, event: str, **fields: Any) -> Any: ...


class FallbackDrafter:
    """LLM port: `primary` within `timeout_seconds`, else `fallback`.

    `last_drafted_by` says which one produced the latest answer ("primary" or "fallback"), for
    logs and tests; the port's answer itself is plain text.
    """

    def __init__(
        self,
        primary: LLM,
        fallback: LLM,
        *,
        timeout_seconds: float,
        logger: WarningLog | None = None,
    ) -> None:
        if timeout_seconds <= 0:
            raise ValueError("timeout_seconds must be positive")
        self._primary = primary
        self._fallback = fallback
        self._timeout = timeout_seconds
        self._log: WarningLog = logger or get_logger(__name__)
        self.last_drafted_by = ""

    async def draft_status_update(self, context: StatusContext) -> str:
        return await self._either(
            "status_update",
            lambda: self._primary.draft_status_update(context),
            lambda: self._fallback.draft_status_update(context),
        )

    async def draft_postmortem(self, context: PostmortemContext) -> str:
        return await self._either(
            "postmortem",
            lambda: self._primary.draft_postmortem(context),
            lambda: self._fallback.draft_postmortem(context),
        )

    async def is_status_update(self, text: str) -> bool:
        return await self._either(
            "classify",
            lambda: self._primary.is_status_update(text),
            lambda: self._fallback.is_status_update(text),
        )

    async def _either(
        self,
        task: str,
        primary: Callable[[], Awaitable[T]],
        fallback: Callable[[], Awaitable[T]],
    ) -> T:
        try:
            async with asyncio.timeout(self._timeout):
                answer = await primary()
        except Exception as exc:  # any failure of the model is the fallback's cue, never the room's
            self._log.warning(
                "llm.fallback",
                task=task,
                reason=_reason(exc, self._timeout),
                error=type(exc).__name__,
                problems=list(exc.problems) if isinstance(exc, DraftRejected) else None,
            )
            answer = await fallback()
            self.last_drafted_by = "fallback"
            return answer
        self.last_drafted_by = "primary"
        return answer


def _reason(exc: Exception, timeout: float) -> str:
    if isinstance(exc, TimeoutError):
        return f"no answer within {timeout:g} s"
    if isinstance(exc, DraftRejected):
        return "the draft failed its checks"
    if isinstance(exc, VendorError):
        return f"the vendor call failed: {exc}"
    return f"unexpected error: {exc}"
