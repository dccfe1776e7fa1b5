"""HTML routes answer failures with pages a person can read, and serve the static files safely."""

from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI, HTTPException

from incident_response.web.console import assets_router
from incident_response.web.console.rendering import (
    SECURITY_HEADERS,
    PageError,
    Pages,
    Redirect,
    html_route_class,
)
from tests.support.clock import ManualClock


def app_with_failures(pages: Pages) -> FastAPI:
    router = APIRouter(route_class=html_route_class(pages))

    @router.get("/crash")
    async def crash() -> None:
        raise RuntimeError("database on fire: secret-detail")

    @router.get("/gone")
    async def gone() -> None:
        raise PageError(404, "That incident was never opened.")

    @router.get("/denied")
    async def denied() -> None:
        raise HTTPException(403, "not yours")

    @router.get("/away")
    async def away() -> None:
        raise Redirect("/console/sign-in")

    @router.get("/typed")
    async def typed(n: int) -> None:
        return None

    app = FastAPI()
    app.include_router(router)
    app.include_router(assets_router(pages))
    return app


async def get(app: FastAPI, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_a_crash_is_a_500_page_that_hides_the_details() -> None:
    response = await get(app_with_failures(Pages(clock=ManualClock())), "/crash")
    assert response.status_code == 500
    assert response.headers["content-type"].startswith("text/html")
    assert "Something went wrong on our side" in response.text
    assert "secret-detail" not in response.text
    for header, value in SECURITY_HEADERS.items():
        assert response.headers[header] == value


async def test_refusals_and_redirects_keep_their_status() -> None:
    app = app_with_failures(Pages(clock=ManualClock()))
    gone = await get(app, "/gone")
    assert (gone.status_code, "That incident was never opened." in gone.text) == (404, True)
    denied = await get(app, "/denied")
    assert (denied.status_code, "not yours" in denied.text) == (403, True)
    away = await get(app, "/away")
    assert (away.status_code, away.headers["location"]) == (303, "/console/sign-in")
    typed = await get(app, "/typed?n=many")
    assert typed.status_code == 400
    assert typed.headers["content-type"].startswith("text/html")


async def test_static_files_are_served_with_a_validator_and_nothing_else_is() -> None:
    pages = Pages(clock=ManualClock())
    app = app_with_failures(pages)
    css = await get(app, "/static/console.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert pages.static_url("console.css").endswith(css.headers["etag"].strip('"'))
    again = await get(app, "/static/console.css", **{"If-None-Match": css.headers["etag"]})
    assert again.status_code == 304
    for path in ("/static/..%2Fconsole%2F__init__.py", "/static/.hidden", "/static/nope.js"):
        assert (await get(app, path)).status_code == 404


async def test_the_favicon_browsers_ask_for_by_themselves_is_the_console_icon() -> None:
    app = app_with_failures(Pages(clock=ManualClock()))
    asked = await get(app, "/favicon.ico")
    assert asked.status_code == 308
    assert asked.headers["location"] == "/static/favicon.svg"
    icon = await get(app, asked.headers["location"])
    assert icon.status_code == 200
    assert icon.headers["content-type"] == "image/svg+xml"
    assert icon.content.lstrip().startswith(b"<svg")
