"""`silence`: stop the status update reminders for this incident (they can be resumed)."""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    closed_reply,
)
from incident_response.domain.authority import Action


class SilenceCommand:
    name = "silence"
    usage = "silence"
    summary = "Stop the status update reminders"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.SILENCE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not incident.is_open:
            return closed_reply(incident, "silencing reminders")
        if await self._services.reminders.silence(incident.id, actor=call.actor):
            text = "Status update reminders are silenced. `unsilence` resumes them."
        else:
            text = "Status update reminders were already silenced. `unsilence` resumes them."
        return CommandReply(text=text, data={"silenced": True})
