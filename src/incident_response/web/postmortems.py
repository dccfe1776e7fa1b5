"""Postmortem drafts for API clients: the filed Markdown, and a draft written on request (filed
nowhere), for a personal bearer token.

Postmortems name the responders and quote the war room, so they are not public; people read
them in the console at `/console/postmortems/{name}`.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency type defined inside
# the router factory, which string annotations would hide from it.
from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import PlainTextResponse

from incident_response.domain.errors import NotFound
from incident_response.domain.people import Person
from incident_response.services.postmortem_drafts import PostmortemDraft
from incident_response.web.auth import PersonLookup

MARKDOWN = "text/markdown; charset=utf-8"


class PostmortemFiles(Protocol):
    """The filed postmortems' Markdown by name (None for anything that is not one)."""

    async def read(self, name: str) -> str | None: ...


class PostmortemDrafter(Protocol):
    """Raises NotFound for an unknown incident."""

    async def for_incident(self, incident_id: str) -> PostmortemDraft: ...


def postmortems_router(
    tracker: PostmortemFiles, *, drafts: PostmortemDrafter, person: PersonLookup
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["postmortems"])
    Caller = Annotated[Person, Depends(person)]

    @router.get(
        "/postmortems/{name}",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/markdown": {}}, "description": "The Markdown"}},
    )
    async def postmortem(name: str, caller: Caller) -> PlainTextResponse:
        """A filed postmortem draft as Markdown (its `id` in the incident's `postmortem`)."""
        text = await tracker.read(name)
        if text is None:
            raise HTTPException(404, f"no postmortem {name}")
        return PlainTextResponse(
            text, media_type=MARKDOWN, headers={"Cache-Control": "private, no-store"}
        )

    @router.get("/incidents/{incident_id}/postmortem-draft")
    async def postmortem_draft(incident_id: str, caller: Caller) -> dict[str, Any]:
        """The incident's postmortem as a draft: the filed one once there is one (`source`
        "filed"), otherwise written now from the record like the one filed at resolution
        (`source` "draft"), and filed nowhere."""
        try:
            draft = await drafts.for_incident(incident_id)
        except NotFound as exc:
            raise HTTPException(404, str(exc)) from None
        return draft.as_json()

    return router
