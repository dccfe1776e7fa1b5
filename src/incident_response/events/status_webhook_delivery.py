"""STATUS_WEBHOOK_DELIVERY: one signed POST of a published update to one subscriber; a failure
raises, so the processor retries the message with backoff until the delivery gives up."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.services.status_subscriptions import STATUS_WEBHOOK_DELIVERY


class Deliverer(Protocol):
    async def deliver(self, payload: Mapping[str, Any]) -> None: ...


class StatusWebhookDelivery:
    event_type = STATUS_WEBHOOK_DELIVERY

    def __init__(self, *, subscriptions: Deliverer) -> None:
        self._subscriptions = subscriptions

    async def handle(self, payload: Mapping[str, Any]) -> None:
        await self._subscriptions.deliver(payload)
