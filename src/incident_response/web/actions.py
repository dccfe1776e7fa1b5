"""Acting on incidents over HTTP: commands (same text as in Slack) and the draft approval flow.

The approval endpoint is the HTTP face of the StatusUpdateGate; the gate decides, this module only
translates its refusals into status codes: 403 not allowed, 409 stale version, 404 unknown draft,
422 invalid text or public field, 409 also for a draft superseded by a newer published one, 502 the status page failed (the approval is kept and recovered).
"""

# No `from __future__ import annotations`: FastAPI must see the dependency types defined
# inside the router factory, which string annotations would hide from it.
from collections.abc import Awaitable, Mapping
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException
from pydantic import BaseModel, Field

from incident_response.commands.context import CommandContext
from incident_response.commands.registry import CommandRegistry
from incident_response.domain.clock import isoformat
from incident_response.domain.errors import ConcurrentUpdate, IncidentResponseError, NotFound
from incident_response.domain.people import Person
from incident_response.services.authority import NotPermitted
from incident_response.services.draft_announcer import DraftAnnouncer
from incident_response.services.status_update_gate import (
    DraftSuperseded,
    InvalidDraft,
    PublishFailed,
    PublishNotPermitted,
    StaleDraftVersion,
    StatusUpdateGate,
)
from incident_response.web.auth import PersonLookup

T = TypeVar("T")

ERROR_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NotPermitted, 403),  # ApprovalRefused among them
    (StaleDraftVersion, 409),
    (DraftSuperseded, 409),
    (PublishNotPermitted, 409),
    (ConcurrentUpdate, 409),
    (NotFound, 404),
    (InvalidDraft, 422),
    (PublishFailed, 502),
)


def http_error(exc: IncidentResponseError) -> HTTPException:
    code = next((code for kind, code in ERROR_STATUS if isinstance(exc, kind)), 400)
    return HTTPException(code, str(exc))


async def answered(call: Awaitable[T]) -> T:
    """The gate's answer, or its refusal as the HTTP error ERROR_STATUS maps it to."""
    try:
        return await call
    except IncidentResponseError as exc:
        raise http_error(exc) from None


# The surfaces a client may name in `Incident-Response-Via` (the MCP stdio server does): noted in
# the draft's audit record as the client's own word; the acting person is the token's owner.
VIA_SURFACES = frozenset({"mcp"})
Via = Annotated[str | None, Header(alias="Incident-Response-Via", include_in_schema=False)]


def declared_via(value: str | None) -> str | None:
    return value if value in VIA_SURFACES else None


class CommandRequest(BaseModel):
    text: str = Field(max_length=2000, description="What follows `/incident-response`.")


class ApproveRequest(BaseModel):
    version: int = Field(ge=1, description="The draft version the approver read.")


class EditRequest(BaseModel):
    body: str = Field(description="What customers will read.")
    version: int = Field(ge=1, description="The version the edit is based on.")
    title: str | None = Field(default=None, description="The public incident name.")
    stage: str | None = Field(
        default=None, description="investigating, identified, monitoring or resolved."
    )
    impact: str | None = Field(default=None, description="none, minor, major or critical.")
    components: list[str] | None = Field(
        default=None, description="The public status-page component names the update affects."
    )
    component_statuses: dict[str, str] | None = Field(
        default=None,
        max_length=10,
        description="Component name -> degraded_performance, partial_outage, major_outage or "
        "operational: what the page shows for it (unnamed ones follow the impact).",
    )


class RejectRequest(BaseModel):
    reason: str = ""


def actions_router(
    *,
    commands: CommandRegistry,
    gate: StatusUpdateGate,
    person: PersonLookup,
    announcer: DraftAnnouncer | None = None,
) -> APIRouter:
    """`announcer` shows every draft made here (a command's or a direct one) in the war room,
    where the IC works."""

    async def show(incident_id: str, draft: Any) -> None:
        if announcer is not None and isinstance(draft, Mapping) and draft.get("id"):
            await announcer.announce(incident_id, str(draft["id"]))

    router = APIRouter(prefix="/api/incidents/{incident_id}", tags=["actions"])
    Caller = Annotated[Person, Depends(person)]

    @router.post("/commands")
    async def run_command(incident_id: str, request: CommandRequest, caller: Caller) -> Any:
        """Run a command as the token's owner; 200 when it did its job, 403 when the caller may
        not do it (the text says who may), 400 with the reason otherwise."""
        reply = await commands.handle(
            request.text, CommandContext(actor=caller, surface="api", incident_id=incident_id)
        )
        body = {"ok": reply.ok, "text": reply.text, "data": reply.data}
        if not reply.ok:
            raise HTTPException(403 if reply.data.get("not_permitted") else 400, body)
        await show(incident_id, reply.data.get("draft"))
        return body

    @router.post("/drafts")
    async def create_draft(incident_id: str, caller: Caller, via: Via = None) -> dict[str, Any]:
        """A new draft, or the newest pending one when it was never edited and says the same."""
        draft = await answered(
            gate.create_draft(incident_id, actor=caller.email, via=declared_via(via))
        )
        await show(incident_id, {"id": draft.id})
        return draft.model_dump(mode="json")

    @router.post("/drafts/{draft_id}/edit")
    async def edit_draft(
        incident_id: str, draft_id: str, request: EditRequest, caller: Caller, via: Via = None
    ) -> dict[str, Any]:
        draft = await answered(
            gate.edit(
                incident_id,
                draft_id,
                body=request.body,
                title=request.title,
                stage=request.stage,
                impact=request.impact,
                components=request.components,
                component_statuses=request.component_statuses,
                actor=caller.email,
                expected_version=request.version,
                via=declared_via(via),
            )
        )
        await show(incident_id, {"id": draft.id})  # the new version's card
        return draft.model_dump(mode="json")

    @router.post("/drafts/{draft_id}/reject")
    async def reject_draft(
        incident_id: str, draft_id: str, request: RejectRequest, caller: Caller
    ) -> dict[str, Any]:
        draft = await answered(
            gate.reject(incident_id, draft_id, actor=caller.email, reason=request.reason)
        )
        return draft.model_dump(mode="json")

    @router.post("/drafts/{draft_id}/approve")
    async def approve_draft(
        incident_id: str, draft_id: str, request: ApproveRequest, caller: Caller
    ) -> dict[str, Any]:
        """Approve & Publish: only the IC or an approver, exactly the version they read."""
        outcome = await answered(
            gate.approve_and_publish(
                incident_id, draft_id, version=request.version, actor=caller.email
            )
        )
        return {
            "incident_id": outcome.incident_id,
            "draft_id": outcome.draft_id,
            "version": outcome.version,
            "status": outcome.status.value,
            "published_now": outcome.published_now,
            "published_at": isoformat(outcome.published_at) if outcome.published_at else None,
            "status_page": outcome.status_page.model_dump() if outcome.status_page else None,
        }

    return router
