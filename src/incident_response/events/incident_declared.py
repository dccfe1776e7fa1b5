"""INCIDENT_DECLARED: assemble the war room of an incident a person declared, with the same
WarRoomAssembler as an alert's (services.declaration stored and audited it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident
from incident_response.domain.messages import EventType
from incident_response.ports import IncidentStore
from incident_response.services.war_room import needs_assembly


class Assembler(Protocol):
    async def assemble(self, incident_id: str) -> Incident: ...


class IncidentDeclared:
    event_type = EventType.INCIDENT_DECLARED.value

    def __init__(self, *, store: IncidentStore, assembler: Assembler) -> None:
        self._store = store
        self._assembler = assembler

    async def handle(self, payload: Mapping[str, Any]) -> None:
        incident_id = str(payload.get("incident_id", ""))
        incident = await self._store.get(incident_id)
        if incident is None:  # stored before its message was sent: never expected
            raise NotFound(f"declared incident {incident_id!r}")
        # also on a redelivery: the saga resumes where a crash left it
        if needs_assembly(incident):
            await self._assembler.assemble(incident.id)
