"""ALERT_RESOLVED: the alert source says the problem is gone; mark the incident mitigated and ask
the IC whether to resolve it (resolution stays a human decision)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.alert import Alert
from incident_response.domain.incident import Incident
from incident_response.domain.messages import EventType


class Mitigation(Protocol):
    @property
    def incident(self) -> Incident | None: ...

    @property
    def action(self) -> str: ...


class Mitigator(Protocol):
    async def mitigate(self, alert: Alert) -> Mitigation: ...


class ResolutionAsker(Protocol):
    async def ask_to_resolve(self, incident_id: str) -> bool: ...


class AlertResolved:
    event_type = EventType.ALERT_RESOLVED.value

    def __init__(self, *, opener: Mitigator, resolver: ResolutionAsker) -> None:
        self._opener = opener
        self._resolver = resolver

    async def handle(self, payload: Mapping[str, Any]) -> None:
        outcome = await self._opener.mitigate(Alert.model_validate(payload))
        if outcome.action == "mitigated" and outcome.incident is not None:
            await self._resolver.ask_to_resolve(outcome.incident.id)
