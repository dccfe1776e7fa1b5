"""The JSON API for people and scripts: incidents, commands and approvals (bearer token)."""

# No `from __future__ import annotations`: FastAPI must see the dependency types defined
# inside the router factory, which string annotations would hide from it.
import asyncio
from collections.abc import Sequence
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, HTTPException, Query

from incident_response.domain.clock import isoformat
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.messages import Schedule
from incident_response.domain.people import Person
from incident_response.ports import AuditLog, Directory, IncidentStore
from incident_response.web.auth import PersonLookup
from incident_response.web.views import incident_json, story_json


class Reminders(Protocol):
    async def reminder(self, incident_id: str) -> Schedule | None: ...


OPEN_STATUSES: tuple[IncidentStatus, ...] = tuple(s for s in IncidentStatus if s.is_open)


class IncidentViews:
    """Incidents as the API shows them (`views.incident_json`), for every surface that shows
    them the same way: this router and the MCP tools."""

    def __init__(
        self, *, store: IncidentStore, audit: AuditLog, directory: Directory, reminders: Reminders
    ) -> None:
        self._store = store
        self._audit = audit
        self._directory = directory
        self._reminders = reminders

    async def render(self, incidents: list[Incident]) -> list[dict[str, Any]]:
        people = {p.email.lower(): p for p in await self._directory.people()}
        timelines = await asyncio.gather(*(self._audit.records(i.id) for i in incidents))
        schedules = await asyncio.gather(*(self._reminders.reminder(i.id) for i in incidents))
        return [
            incident_json(i, timeline=t, people=people, reminder=r)
            for i, t, r in zip(incidents, timelines, schedules, strict=True)
        ]

    async def listed(
        self, *, statuses: Sequence[IncidentStatus] | None, limit: int
    ) -> list[dict[str, Any]]:
        """Incidents, open ones first, newest first within each."""
        incidents = await self._store.recent(statuses=statuses, limit=limit)
        incidents.sort(key=lambda i: (not i.is_open, -i.created_at.timestamp()))
        return await self.render(incidents)

    async def one(self, incident_id: str) -> dict[str, Any] | None:
        incident = await self._store.get(incident_id)
        return None if incident is None else (await self.render([incident]))[0]

    async def timeline(self, incident_id: str) -> list[dict[str, Any]] | None:
        """The incident's story as the API shows it (None for an unknown incident)."""
        incident = await self._store.get(incident_id)
        if incident is None:
            return None
        return story_json(incident, await self._audit.records(incident_id))


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
    views = IncidentViews(store=store, audit=audit, directory=directory, reminders=reminders)

    @router.get("/incidents")
    async def list_incidents(
        caller: Caller,
        status: Annotated[list[IncidentStatus] | None, Query()] = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 100,
    ) -> dict[str, Any]:
        """Incidents, open ones first, newest first within each."""
        return {"incidents": await views.listed(statuses=status, limit=limit)}

    @router.get("/incidents/{incident_id}")
    async def get_incident(incident_id: str, caller: Caller) -> dict[str, Any]:
        found = await views.one(incident_id)
        if found is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return found

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
