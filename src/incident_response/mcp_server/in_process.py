"""The IncidentBackend of the `serve` process itself: its services, acting as one person.

Behind the `/mcp` endpoint. Every call goes where the API's would (IncidentViews for reading,
the StatusUpdateGate for drafts, with its authority checks), as the token's owner; drafts are
audited with `via: mcp`.
"""

from __future__ import annotations

from typing import Any

from incident_response.domain.errors import IncidentResponseError
from incident_response.mcp_server.backend import ToolRefused
from incident_response.services.draft_announcer import DraftAnnouncer
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.web.api import OPEN_STATUSES, IncidentViews
from incident_response.web.postmortems import PostmortemDrafter

VIA = "mcp"


class ServiceBackend:
    def __init__(
        self,
        *,
        views: IncidentViews,
        gate: StatusUpdateGate,
        postmortems: PostmortemDrafter,
        actor: str,
        announcer: DraftAnnouncer | None = None,
    ) -> None:
        self._views = views
        self._gate = gate
        self._postmortems = postmortems
        self._actor = actor
        self._announcer = announcer

    async def open_incidents(self, *, limit: int) -> list[dict[str, Any]]:
        return await self._views.listed(statuses=OPEN_STATUSES, limit=limit)

    async def incident(self, incident_id: str) -> dict[str, Any]:
        found = await self._views.one(incident_id)
        if found is None:
            raise ToolRefused(f"no incident {incident_id}")
        return found

    async def timeline(self, incident_id: str) -> list[dict[str, Any]]:
        found = await self._views.timeline(incident_id)
        if found is None:
            raise ToolRefused(f"no incident {incident_id}")
        return found

    async def draft_status_update(self, incident_id: str, *, body: str | None) -> dict[str, Any]:
        """As POST .../drafts, then (with `body`) POST .../drafts/{id}/edit, do."""
        try:
            draft = await self._gate.create_draft(incident_id, actor=self._actor, via=VIA)
            if body is not None:
                draft = await self._gate.edit(
                    incident_id,
                    draft.id,
                    actor=self._actor,
                    expected_version=draft.version,
                    body=body,
                    via=VIA,
                )
        except IncidentResponseError as exc:
            raise ToolRefused(str(exc)) from None
        if self._announcer is not None:  # the IC sees the agent's draft in the war room
            await self._announcer.announce(incident_id, draft.id)
        return draft.model_dump(mode="json")

    async def draft_postmortem(self, incident_id: str) -> dict[str, Any]:
        try:
            draft = await self._postmortems.for_incident(incident_id)
        except IncidentResponseError as exc:
            raise ToolRefused(str(exc)) from None
        return draft.as_json()
