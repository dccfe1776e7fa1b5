"""`unsilence`: resume the status update reminders for this incident."""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    closed_reply,
)
from incident_response.domain.authority import Action


class UnsilenceCommand:
    name = "unsilence"
    usage = "unsilence"
    summary = "Resume the status update reminders"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.SILENCE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not incident.is_open:
            return closed_reply(incident, "resuming reminders")
        if await self._services.reminders.unsilence(incident.id, actor=call.actor):
            text = "Status update reminders are on again."
        else:
            text = "Status update reminders were not silenced: they are on."
        return CommandReply(text=text, data={"silenced": False})
