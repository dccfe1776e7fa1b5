"""What the MCP tools need from the service, whichever side of the network it is on."""

from __future__ import annotations

from typing import Any, Protocol

from incident_response.domain.errors import IncidentResponseError


class ToolRefused(IncidentResponseError):
    """The service refused or could not answer a tool call; the message says why, for the
    agent to read (never a traceback)."""


class IncidentBackend(Protocol):
    """The service as one person (the token's owner) sees it. Every method raises ToolRefused
    with a clear message for an unknown incident, a refusal or an unreachable service."""

    async def open_incidents(self, *, limit: int) -> list[dict[str, Any]]:
        """Open incidents as the API shows them, newest first."""
        ...

    async def incident(self, incident_id: str) -> dict[str, Any]: ...

    async def timeline(self, incident_id: str) -> list[dict[str, Any]]: ...

    async def draft_status_update(self, incident_id: str, *, body: str | None) -> dict[str, Any]:
        """A status update draft (the drafter's, or `body` as an edit of it), pending approval."""
        ...

    async def draft_postmortem(self, incident_id: str) -> dict[str, Any]:
        """The postmortem as a draft (the filed one once there is one); files nothing."""
        ...
