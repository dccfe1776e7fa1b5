"""ALERT_RECEIVED: open an incident (or attach to one) and assemble its war room."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.alert import Alert
from incident_response.domain.incident import Incident
from incident_response.domain.messages import EventType
from incident_response.services.war_room import needs_assembly


class Opening(Protocol):
    @property
    def incident(self) -> Incident | None: ...


class Opener(Protocol):
    async def open_or_attach(self, alert: Alert) -> Opening: ...


class Assembler(Protocol):
    async def assemble(self, incident_id: str) -> Incident: ...


class StormAnnouncer(Protocol):
    async def announce(self, incident_id: str, delivery_id: str) -> bool: ...


class AlertReceived:
    event_type = EventType.ALERT_RECEIVED.value

    def __init__(
        self,
        *,
        opener: Opener,
        assembler: Assembler | None,
        storm_room: StormAnnouncer | None = None,
    ) -> None:
        self._opener = opener
        self._assembler = assembler
        self._storm_room = storm_room

    async def handle(self, payload: Mapping[str, Any]) -> None:
        alert = Alert.model_validate(payload)
        outcome = await self._opener.open_or_attach(alert)
        incident = outcome.incident
        # Also on a redelivered (duplicate) alert: the saga resumes where a crash left it.
        if self._assembler is not None and incident is not None and needs_assembly(incident):
            await self._assembler.assemble(incident.id)
        # after assembly, so alerts that joined the storm before its room existed get a line too
        if self._storm_room is not None and incident is not None:
            await self._storm_room.announce(incident.id, alert.delivery_id)
