"""The JSON API for people and scripts: incidents, commands and approvals (bearer token).

`POST /api/incidents` declares an incident by hand (services.declaration): 201 with the
incident as `GET /api/incidents/{id}` shows it, 422 naming every bad field, 403 for someone
the policy refuses. With an `Idempotency-Key` header a retried POST returns the incident the
first one opened (201 again, `Idempotency-Replayed: true`) and opens no second one.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency types defined
# inside the router factory, which string annotations would hide from it.
import asyncio
from collections.abc import Sequence
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Header, HTTPException, Query, Response
from pydantic import BaseModel, Field

from incident_response.domain.clock import isoformat
from incident_response.domain.declaration import InvalidDeclaration
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.messages import Schedule
from incident_response.domain.people import Person
from incident_response.ports import AuditLog, Directory, IncidentStore
from incident_response.services.authority import NotPermitted
from incident_response.services.declaration import Declared
from incident_response.services.incident_opener import NOT_OPENED
from incident_response.web.auth import PersonLookup
from incident_response.web.views import incident_json, story_json


class Reminders(Protocol):
    async def reminder(self, incident_id: str) -> Schedule | None: ...


class Declarer(Protocol):
    async def declare(
        self,
        *,
        declared_by: str,
        title: str,
        severity: str,
        service: str = "",
        summary: str = "",
        ic: str | None = None,
        key: str | None = None,
    ) -> Declared: ...


class DeclareRequest(BaseModel):
    """What a person declares; the service checks the values and names every bad one."""

    title: str = Field(default="", max_length=1000, description="What is wrong, in one line.")
    severity: str = Field(default="", max_length=20, description="P1, P2, P3 or P4.")
    service: str = Field(default="", max_length=1000, description="The service affected.")
    summary: str = Field(default="", max_length=20_000, description="What is known so far.")
    ic: str | None = Field(
        default=None, max_length=320, description="The IC's e-mail (default: the caller)."
    )


IDEMPOTENCY_KEY_CHARS = 200

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
    declarations: Declarer | None = None,
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

    if declarations is not None:
        declarer = declarations

        @router.post("/incidents", status_code=201)
        async def declare_incident(
            request: DeclareRequest,
            caller: Caller,
            response: Response,
            idempotency_key: Annotated[
                str | None, Header(alias="Idempotency-Key", max_length=IDEMPOTENCY_KEY_CHARS)
            ] = None,
        ) -> dict[str, Any]:
            """Declare an incident by hand, as the token's owner; it assembles like an
            alerted one. 201 with the incident, 422 naming each bad field, 403 when the
            caller may not declare."""
            try:
                declared = await declarer.declare(
                    declared_by=caller.email,
                    title=request.title,
                    severity=request.severity,
                    service=request.service,
                    summary=request.summary,
                    ic=request.ic,
                    key=idempotency_key.strip() if idempotency_key else None,
                )
            except InvalidDeclaration as exc:
                raise HTTPException(422, str(exc)) from None
            except NotPermitted as exc:
                raise HTTPException(403, str(exc)) from None
            if not declared.new:
                response.headers["Idempotency-Replayed"] = "true"
            response.headers["Location"] = f"/api/incidents/{declared.incident.id}"
            return (await views.render([declared.incident]))[0]

    @router.get("/incidents/{incident_id}")
    async def get_incident(incident_id: str, caller: Caller) -> dict[str, Any]:
        found = await views.one(incident_id)
        if found is None:
            raise HTTPException(404, f"no incident {incident_id}")
        return found

    @router.get("/alerts/not-opened")
    async def alerts_not_opened(
        caller: Caller, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> dict[str, Any]:
        """Alerts kept but not acted on (an `ignore` routing rule, or an `attach` rule with no
        open incident of the alert's service), newest first, with the rule and why."""
        records = await audit.records(NOT_OPENED)
        return {"alerts": [{"at": isoformat(r.at), **r.data} for r in reversed(records[-limit:])]}

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
