"""The streamable HTTP MCP endpoint `serve` mounts at `/mcp`, for the personal bearer token.

Each request is authenticated exactly as the REST API authenticates it (the same dependency:
signature, expiry, the person's token generation, so a rotated or revoked token is refused at
once, and the roster), and its tools act as that person through the process's own services.

The endpoint is stateless (every POST carries one JSON-RPC message and gets a JSON answer, no
MCP session kept in memory), so any replica of the webhook role can answer any request.
Host/Origin checks against DNS rebinding are off: a browser page cannot add the bearer token.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, HTTPException
from mcp.server.mcpserver import Context
from mcp.server.streamable_http_manager import StreamableHTTPSessionManager
from mcp.server.transport_security import TransportSecuritySettings
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from incident_response.domain.people import Person
from incident_response.mcp_server.backend import IncidentBackend
from incident_response.mcp_server.in_process import ServiceBackend
from incident_response.mcp_server.tools import build_server
from incident_response.services.draft_announcer import DraftAnnouncer
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.web.api import IncidentViews
from incident_response.web.auth import PersonLookup
from incident_response.web.postmortems import PostmortemDrafter

PATH = "/mcp"
MAX_REQUEST_BYTES = 1024 * 1024


class McpEndpoint:
    """ASGI: refuse without a valid personal token (401, as the API does), else hand the request
    to the MCP session manager with the caller in `request.state.person`."""

    def __init__(self, *, manager: StreamableHTTPSessionManager, person: PersonLookup) -> None:
        self._manager = manager
        self._person = person

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await self._person(Request(scope, receive))  # sets request.state.person
        except HTTPException as refused:
            response = JSONResponse(
                {"error": refused.detail},
                status_code=refused.status_code,
                headers=refused.headers,
            )
            await response(scope, receive, send)
            return
        await self._manager.handle_request(scope, receive, send)


def caller(ctx: Context) -> Person:
    """The person the endpoint authenticated for the request carrying this tool call."""
    request = ctx.request_context.request
    person = getattr(getattr(request, "state", None), "person", None)
    if not isinstance(person, Person):  # never: McpEndpoint refused the request otherwise
        raise PermissionError("no authenticated caller")
    return person


def mcp_router(
    *,
    views: IncidentViews,
    gate: StatusUpdateGate,
    postmortems: PostmortemDrafter,
    person: PersonLookup,
    announcer: DraftAnnouncer | None = None,
) -> APIRouter:
    """The `/mcp` route, and its session manager run for the app's lifetime (router lifespan)."""

    def backend_for(ctx: Context) -> IncidentBackend:
        return ServiceBackend(
            views=views,
            gate=gate,
            postmortems=postmortems,
            actor=caller(ctx).email,
            announcer=announcer,
        )

    server = build_server(backend_for)
    server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        max_request_body_size=MAX_REQUEST_BYTES,
        transport_security=TransportSecuritySettings(enable_dns_rebinding_protection=False),
    )
    manager = server.session_manager

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        async with manager.run():
            yield

    router = APIRouter(lifespan=lifespan)
    router.routes.append(
        Route(
            PATH,
            McpEndpoint(manager=manager, person=person),
            # stateless: no stream for the server to push on (GET) and no session to end
            # (DELETE), both of which the protocol lets a server answer with 405
            methods=["POST"],
            include_in_schema=False,
        )
    )
    return router
