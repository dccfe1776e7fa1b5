"""STATUS_UPDATE_NUDGE: a recurring reminder to the IC to update customers."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.messages import EventType


class Nudger(Protocol):
    async def nudge(self, incident_id: str) -> object: ...


class StatusUpdateNudge:
    event_type = EventType.STATUS_UPDATE_NUDGE.value

    def __init__(self, *, nudges: Nudger) -> None:
        self._nudges = nudges

    async def handle(self, payload: Mapping[str, Any]) -> None:
        await self._nudges.nudge(str(payload["incident_id"]))
