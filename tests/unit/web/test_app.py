"""The HTTP application's own behaviour, whatever routers it is given."""

from __future__ import annotations

import httpx
from fastapi import APIRouter

from incident_response.web.app import create_app


def client() -> httpx.AsyncClient:
    router = APIRouter()

    @router.get("/api/thing")
    async def thing() -> dict[str, str]:
        return {"a": "b"}

    app = create_app(routers=[router])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://app.test")


async def test_json_answers_are_never_sniffed() -> None:
    async with client() as http:
        ok = await http.get("/api/thing")
        missing = await http.get("/api/nothing-here")

    assert ok.headers["x-content-type-options"] == "nosniff"
    assert missing.headers["x-content-type-options"] == "nosniff"


async def test_no_page_loads_scripts_from_another_origin() -> None:
    async with client() as http:
        docs = await http.get("/docs")
        redoc = await http.get("/redoc")
        schema = await http.get("/openapi.json")

    assert docs.status_code == 404
    assert redoc.status_code == 404
    assert "cdn" not in docs.text.lower() + redoc.text.lower()
    assert schema.status_code == 200
