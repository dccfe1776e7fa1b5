"""INCIDENT_RESOLUTION: run (or resume) the resolution saga the `resolve` command queued."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.messages import EventType


class Resolving(Protocol):
    async def resolve(self, incident_id: str, actor: str = "system") -> object: ...


class IncidentResolution:
    event_type = EventType.INCIDENT_RESOLUTION.value

    def __init__(self, *, resolver: Resolving) -> None:
        self._resolver = resolver

    async def handle(self, payload: Mapping[str, Any]) -> None:
        await self._resolver.resolve(
            str(payload["incident_id"]), str(payload.get("actor") or "system")
        )
