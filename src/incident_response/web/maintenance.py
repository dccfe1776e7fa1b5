"""Scheduled maintenance over HTTP (bearer token): approvers schedule, edit and approve.

`POST /api/status/maintenances` `{"title", "body", "scheduled_for", "scheduled_until",
"components"}` makes draft version 1 (nothing public); `.../{id}/drafts/{draft_id}/edit` (the
same fields and `version`) makes the next; `.../{id}/drafts/{draft_id}/approve` `{"version"}`
approves that exact version and the StatusUpdateGate publishes it. `GET` lists them.
Refusals: 403 not an approver, 409 stale version, 422 invalid, 404 unknown, 502 the page failed.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency types.
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from incident_response.domain.maintenance import Maintenance
from incident_response.domain.people import Person
from incident_response.services.maintenance import MaintenanceDesk
from incident_response.web.actions import ApproveRequest, answered
from incident_response.web.auth import PersonLookup


class MaintenanceRequest(BaseModel):
    title: str = Field(max_length=200, description="The public name of the maintenance.")
    body: str = Field(max_length=6000, description="What customers will read.")
    scheduled_for: str = Field(max_length=40, description="Start, ISO 8601 with a zone.")
    scheduled_until: str = Field(max_length=40, description="End, ISO 8601 with a zone.")
    components: list[str] = Field(max_length=10, description="Public component names.")


class MaintenanceEdit(MaintenanceRequest):
    version: int = Field(ge=1, description="The draft version the edit is based on.")


def _doc(maintenance: Maintenance) -> dict[str, Any]:
    return maintenance.model_dump(mode="json")


def maintenance_router(*, desk: MaintenanceDesk, person: PersonLookup) -> APIRouter:
    router = APIRouter(prefix="/api/status/maintenances", tags=["status page"])
    Caller = Annotated[Person, Depends(person)]

    @router.post("", status_code=201)
    async def schedule(request: MaintenanceRequest, caller: Caller) -> dict[str, Any]:
        made = await answered(desk.schedule(actor=caller.email, **request.model_dump()))
        return _doc(made)

    @router.get("")
    async def listing(caller: Caller) -> dict[str, Any]:
        found = await answered(desk.recent(actor=caller.email))
        return {"maintenances": [_doc(m) for m in found]}

    @router.post("/{maintenance_id}/drafts/{draft_id}/edit")
    async def edit(
        maintenance_id: str, draft_id: str, request: MaintenanceEdit, caller: Caller
    ) -> dict[str, Any]:
        fields = request.model_dump(exclude={"version"})
        draft = await answered(
            desk.edit(
                maintenance_id,
                draft_id,
                actor=caller.email,
                expected_version=request.version,
                **fields,
            )
        )
        return draft.model_dump(mode="json")

    @router.post("/{maintenance_id}/drafts/{draft_id}/approve")
    async def approve(
        maintenance_id: str, draft_id: str, request: ApproveRequest, caller: Caller
    ) -> dict[str, Any]:
        done = await answered(
            desk.approve(maintenance_id, draft_id, actor=caller.email, version=request.version)
        )
        return _doc(done)

    return router
