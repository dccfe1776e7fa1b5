"""The MCP tools, defined once over an IncidentBackend: three that read, two that draft.

There is deliberately no tool that approves, rejects or publishes: nothing reaches the public
status page unless the incident commander (or an approver) approved that exact text, and an
agent is not them. A draft made here is an ordinary draft, audited with the token owner as its
author, waiting for that approval in Slack, the console or the API.

Arguments are checked before anything is asked of the service (ids by shape, a status update's
text as the gate checks it), and every refusal comes back as a tool error whose text says why.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError
from mcp_types import ToolAnnotations
from pydantic import Field

from incident_response import __version__
from incident_response.domain.approval import MAX_BODY_CHARS, edited_fields
from incident_response.mcp_server.backend import IncidentBackend, ToolRefused

# Incident ids are `inc-` and hex today; any id of letters, digits and `._:-` is passed on (an
# unknown one is "no incident"), nothing that could step outside a URL path segment.
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
MAX_ID_CHARS = 128
MAX_LISTED = 100

APPROVAL_RULE = (
    "Only the incident commander (or an approver) can approve and publish a status update, in "
    "Slack, the web console or the API; no MCP tool can."
)
INSTRUCTIONS = (
    "incident-response: read open incidents, one incident and its timeline; draft a status "
    "update or a postmortem for people to review. You act as the owner of the API token. "
    + APPROVAL_RULE
)

IncidentId = Annotated[
    str,
    Field(
        min_length=1,
        max_length=MAX_ID_CHARS,
        pattern=ID_PATTERN,
        description="The incident's id, as list_open_incidents gives it (e.g. inc-0123456789).",
    ),
]

BackendFor = Callable[[Context], IncidentBackend]
T = TypeVar("T")

READ = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)
DRAFT = ToolAnnotations(
    readOnlyHint=False, destructiveHint=False, idempotentHint=False, openWorldHint=False
)


def build_server(backend_for: BackendFor) -> MCPServer:
    """The MCP server whose tools ask `backend_for(ctx)`: the backend acting for the caller."""
    server: MCPServer = MCPServer(
        name="incident-response", version=__version__, instructions=INSTRUCTIONS
    )

    async def answer(call: Awaitable[T]) -> T:
        try:
            return await call
        except ToolRefused as refused:
            raise ToolError(str(refused)) from None

    @server.tool(
        title="Open incidents",
        annotations=READ,
        description="The open incidents, newest first, each as GET /api/incidents/{id} shows it "
        "(status, severity, IC, responders, checklist, drafts, timeline...).",
    )
    async def list_open_incidents(
        ctx: Context,
        limit: Annotated[
            int, Field(ge=1, le=MAX_LISTED, description="At most this many incidents.")
        ] = 20,
    ) -> dict[str, Any]:
        incidents = await answer(backend_for(ctx).open_incidents(limit=limit))
        return {"incidents": incidents}

    @server.tool(
        title="One incident",
        annotations=READ,
        description="One incident as GET /api/incidents/{id} shows it, its drafts and timeline "
        "included.",
    )
    async def get_incident(ctx: Context, incident_id: IncidentId) -> dict[str, Any]:
        return await answer(backend_for(ctx).incident(incident_id))

    @server.tool(
        title="Incident timeline",
        annotations=READ,
        description="The incident's timeline, oldest first: its key moments (opened, IC, "
        "severity and stage changes, roles, published updates, notes, follow-ups, resolution) "
        "as at, who, kind, text. get_incident's `audit` holds every audit record.",
    )
    async def get_timeline(ctx: Context, incident_id: IncidentId) -> dict[str, Any]:
        timeline = await answer(backend_for(ctx).timeline(incident_id))
        return {"incident_id": incident_id, "timeline": timeline}

    @server.tool(
        title="Draft a status update",
        annotations=DRAFT,
        description="Draft a customer-facing status update for an incident: the built-in "
        "drafter's text, or `body` (your text) as an edit of that draft. The draft waits "
        "for approval and is NOT published. " + APPROVAL_RULE + " Allowed for the "
        "incident's responders, its IC and approvers.",
    )
    async def draft_status_update(
        ctx: Context,
        incident_id: IncidentId,
        body: Annotated[
            str | None,
            Field(
                description=f"What customers would read (at most {MAX_BODY_CHARS} characters). "
                "Leave out for the drafter's text."
            ),
        ] = None,
    ) -> dict[str, Any]:
        if body is not None:
            _, problems = edited_fields(body=body)
            if problems:
                raise ToolError("the status update cannot be used: " + "; ".join(problems))
        draft = await answer(backend_for(ctx).draft_status_update(incident_id, body=body))
        return {"draft": draft, "published": False, "approval": APPROVAL_RULE}

    @server.tool(
        title="Draft a postmortem",
        annotations=READ,
        description="The incident's postmortem as Markdown: once filed at resolution, the filed "
        "one (source 'filed'); before, a draft written now from the record (source 'draft'). "
        "Files nothing: the resolution files the postmortem.",
    )
    async def draft_postmortem(ctx: Context, incident_id: IncidentId) -> dict[str, Any]:
        return await answer(backend_for(ctx).draft_postmortem(incident_id))

    return server
