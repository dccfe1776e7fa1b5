"""Postmortem drafts for API clients: the filed Markdown, for a personal bearer token.

Postmortems name the responders and quote the war room, so they are not public; people read
them in the console at `/console/postmortems/{name}`.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency type defined inside
# the router factory, which string annotations would hide from it.
from typing import Annotated, Protocol

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import PlainTextResponse

from incident_response.domain.people import Person
from incident_response.web.auth import PersonLookup

MARKDOWN = "text/markdown; charset=utf-8"


class PostmortemFiles(Protocol):
    """The filed postmortems' Markdown by name (None for anything that is not one)."""

    async def read(self, name: str) -> str | None: ...


def postmortems_router(tracker: PostmortemFiles, *, person: PersonLookup) -> APIRouter:
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

    return router
