"""ALERT_RESOLVED: the alert source says the problem is gone; mark the incident mitigated and ask
the IC whether to resolve it (resolution stays a human decision)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.alert import Alert
from incident_response.domain.messages import EventType


class Mitigator(Protocol):
    async def mitigate(self, alert: Alert) -> object: ...


class AlertResolved:
    event_type = EventType.ALERT_RESOLVED.value

    def __init__(self, *, opener: Mitigator) -> None:
        self._opener = opener

    async def handle(self, payload: Mapping[str, Any]) -> None:
        await self._opener.mitigate(Alert.model_validate(payload))
