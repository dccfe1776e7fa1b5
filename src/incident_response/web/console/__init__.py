"""The web console: server-rendered pages for running incidents in a browser, its metrics page,
and the public status page's HTML and Atom feed.

`console_routers(container)` is all the composition root mounts. Mount it after the other
routers: its last route answers unknown `/console/...` paths with an HTML 404.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from incident_response.tokens import TokenVerifier
from incident_response.web.console.actions import actions_router
from incident_response.web.console.declare import declare_router
from incident_response.web.console.incidents import incidents_router
from incident_response.web.console.live import ChangeFeed, live_router
from incident_response.web.console.maintenance_page import maintenance_router
from incident_response.web.console.metrics_page import metrics_router
from incident_response.web.console.postmortems import postmortems_router
from incident_response.web.console.rendering import PageError, Pages, html_route_class
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.session import Sessions
from incident_response.web.console.signin import ConsoleAuth, signin_router
from incident_response.web.status_page import status_page_html_router

if TYPE_CHECKING:
    from incident_response.bootstrap import Container

__all__ = ["ConsoleServices", "console_routers", "routers_for_services", "services_from"]


def services_from(container: Container) -> ConsoleServices:
    roster = container.roster
    return ConsoleServices(
        store=container.store,
        audit=container.audit,
        chat=container.console_chat,
        directory=container.directory,
        commands=container.commands,
        gate=container.gate,
        reminders=container.nudges,
        status_page=container.status_page,
        clock=container.clock,
        base_url=container.base_url,
        token_key=container.token_key,
        credentials=container.credentials,
        authority=container.authority,
        announcements_channel=lambda: roster.announcements_channel,
        postmortems=container.issue_tracker,
        declarations=container.declarations,
        maintenance=container.maintenance,
    )


def assets_router(pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)

    @router.get("/static/{name}")
    async def asset(name: str, request: Request) -> Response:
        found = pages.asset(name)
        if found is None:
            raise PageError(404, f"There is no file {name}.")
        headers = {"ETag": f'"{found.etag}"', "Cache-Control": "public, max-age=3600"}
        if request.headers.get("if-none-match") == headers["ETag"]:
            return Response(status_code=304, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)

    @router.get("/favicon.ico")
    async def favicon() -> Response:
        """Browsers ask for /favicon.ico by themselves on documents with no `<link rel=icon>`
        (JSON, Markdown); without an answer each such visit logs a 404 in their console."""
        return RedirectResponse(
            "/static/favicon.svg",
            status_code=308,
            headers={"Cache-Control": "public, max-age=86400"},
        )

    return router


def not_found_router(pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)

    @router.get("/console/{rest:path}")
    async def unknown(rest: str) -> Response:
        raise PageError(404, "There is no console page at this address.")

    return router


def routers_for_services(
    services: ConsoleServices, *, live_poll_seconds: float = 1.0, max_stream_seconds: float = 10.0
) -> list[APIRouter]:
    pages = Pages(clock=services.clock)
    sessions = Sessions(
        key=services.token_key, clock=services.clock, secure=services.secure_cookies
    )
    auth = ConsoleAuth(
        sessions=sessions,
        directory=services.directory,
        tokens=TokenVerifier(
            key=services.token_key, credentials=services.credentials, clock=services.clock
        ),
        credentials=services.credentials,
    )
    feed = ChangeFeed(store=services.store, chat=services.chat, poll_seconds=live_poll_seconds)
    return [
        assets_router(pages),
        signin_router(auth=auth, pages=pages),
        live_router(auth=auth, feed=feed, max_stream_seconds=max_stream_seconds),
        metrics_router(services=services, auth=auth, pages=pages),
        incidents_router(services=services, auth=auth, pages=pages),
        actions_router(services=services, auth=auth, pages=pages),
        postmortems_router(services=services, auth=auth, pages=pages),
        declare_router(services=services, auth=auth, pages=pages),
        maintenance_router(services=services, auth=auth, pages=pages),
        status_page_html_router(status_page=services.status_page, pages=pages),
        not_found_router(pages),
    ]


def console_routers(container: Container) -> list[APIRouter]:
    """The console, its metrics page, postmortems and the public status page's HTML, for `serve`
    to mount."""
    return routers_for_services(services_from(container))
