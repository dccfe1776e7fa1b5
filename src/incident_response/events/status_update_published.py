"""STATUS_UPDATE_PUBLISHED: a published update fans out to the page's webhook subscribers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.services.status_subscriptions import STATUS_UPDATE_PUBLISHED


class FanOut(Protocol):
    async def fan_out(self, payload: Mapping[str, Any]) -> None: ...


class StatusUpdatePublished:
    event_type = STATUS_UPDATE_PUBLISHED

    def __init__(self, *, subscriptions: FanOut) -> None:
        self._subscriptions = subscriptions

    async def handle(self, payload: Mapping[str, Any]) -> None:
        await self._subscriptions.fan_out(payload)
