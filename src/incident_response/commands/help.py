"""`help`: the commands and what they do; works anywhere."""

from __future__ import annotations

from incident_response.commands.context import CommandCall, CommandReply, CommandServices
from incident_response.domain.authority import Action


class HelpCommand:
    name = "help"
    usage = "help"
    summary = "This list"
    needs_incident = False

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        return CommandReply(text=call.help_text)
