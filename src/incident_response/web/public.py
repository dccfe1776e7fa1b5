"""Unauthenticated pages: the built-in public status page (Statuspage's public JSON shape) and
the Markdown postmortems the embedded issue tracker files."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse

from incident_response.adapters.embedded.postmortems import MarkdownIssueTracker
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.domain.errors import NotFound


def status_page_router(page: BuiltinStatusPage) -> APIRouter:
    router = APIRouter(prefix="/status", tags=["status page"])

    @router.get("/api/v2/summary.json")
    async def summary() -> dict[str, Any]:
        return await page.summary()

    @router.get("/api/v2/incidents.json")
    async def incidents() -> dict[str, Any]:
        return await page.incidents()

    @router.get("/api/v2/status.json")
    async def status() -> dict[str, Any]:
        return await page.status()

    @router.get("/api/v2/incidents/unresolved.json")
    async def unresolved() -> dict[str, Any]:
        return await page.unresolved()

    @router.get("/api/v2/components.json")
    async def components() -> dict[str, Any]:
        return await page.components()

    return router


def postmortems_router(tracker: MarkdownIssueTracker) -> APIRouter:
    router = APIRouter(prefix="/postmortems", tags=["postmortems"])

    @router.get("/{name}", response_class=PlainTextResponse)
    async def postmortem(name: str) -> PlainTextResponse:
        try:
            text = await tracker.read(name)
        except (NotFound, ValueError):
            text = None
        if text is None:
            raise HTTPException(404, f"no postmortem {name}")
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    return router
