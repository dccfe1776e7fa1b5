"""`draft`: a new customer-facing status update draft for the IC to review and approve."""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    closed_reply,
)
from incident_response.commands.status import draft_json, draft_text
from incident_response.domain.authority import Action


class DraftCommand:
    name = "draft"
    usage = "draft"
    summary = "Draft a status page update for the IC to approve"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.DRAFT

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not incident.is_open:
            return closed_reply(incident, "a new update draft (the resolution has its own)")
        draft = await self._services.gate.create_draft(incident.id, actor=call.actor)
        return CommandReply(text=draft_text(draft), data={"draft": draft_json(draft)})
