"""Unauthenticated JSON: the built-in public status page, in Statuspage's public shape.

Nothing internal belongs here: postmortems, which name responders, are in the console and the API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from incident_response.adapters.statuspage.builtin import BuiltinStatusPage


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
