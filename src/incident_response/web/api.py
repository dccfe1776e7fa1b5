"""The JSON API for people and scripts: incidents, commands and approvals (bearer token)."""

# No `from __future__ import annotations`: FastAPI must see the dependency types defined
# inside the router factory, which string annotations would hide from it.
import asyncio
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, HTTPException, Query

from incident_response.domain.clock import isoformat
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.messages import Schedule
from incident_response.domain.people import Person
from incident_response.ports import AuditLog, Directory, IncidentStore
from incident_response.web.auth import PersonLookup
from incident_response.web.views import incident_json


class Reminders(Protocol):
    async def reminder(self, incident_id: str) -> Schedule | None: ...


def incidents_router(
    *,
    store: IncidentStore,
    audit: AuditLog,
    directory: Directory,
    reminders: Reminders,
    person: PersonLookup,
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["incidents"])
    Caller = Annotated[Person, Depends(person)]

    async def render(incidents: list[Incident]) -> list[dict[str, Any]]:
        people = {p.email.lower(): p for p in await directory.people()}
        timelines = await asyncio.gather(*(audit.records(i.id) for i in incidents))
        schedules = await asyncio.gather(*(reminders.reminder(i.id) for i in incidents))
        return [
            incident_json(i, timeline=t, people=people, reminder=r)
            for i, t, r in zip(incidents, timelines, schedules, strict=True)
        ]

    @router.get("/incidents")
    async def list_incidents(
        caller: Caller,
        status: Annotated[list[IncidentStatus] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Incidents, open ones first, newest first within each."""
        incidents = await store.recent(statuses=status, limit=limit)
        incidents.sort(key=lambda i: (not i.is_open, -i.created_at.timestamp()))
        return {"incidents": await render(incidents)}

    @router.get("/incidents/{incident_id}")
    async def get_incident(incident_id: str, caller: Caller) -> dict[str, Any]:
        incident = await store.get(incident_id)
        if incident is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return (await render([incident]))[0]

    @router.get("/postmortems")
    async def list_postmortems(caller: Caller) -> dict[str, Any]:
        """Postmortems filed for resolved incidents, newest first."""
        resolved = await store.recent(statuses=[IncidentStatus.RESOLVED], limit=500)
        return {
            "postmortems": [
                {
                    "incident_id": i.id,
                    "title": i.title,
                    "resolved_at": isoformat(i.resolved_at) if i.resolved_at else None,
                    "id": i.postmortem.id,
                    "url": i.postmortem.url,
                }
                for i in resolved
                if i.postmortem is not None
            ]
        }

    return router
