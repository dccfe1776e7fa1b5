"""SLA_CHECK: at a mark after opening, check the first public update went out in time."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.messages import EventType


class SlaChecker(Protocol):
    async def check(self, incident_id: str, mark_minutes: int) -> object: ...


class SlaCheck:
    event_type = EventType.SLA_CHECK.value

    def __init__(self, *, sla: SlaChecker) -> None:
        self._sla = sla

    async def handle(self, payload: Mapping[str, Any]) -> None:
        await self._sla.check(str(payload["incident_id"]), int(payload["mark_minutes"]))
