"""`resolve`: resolve the incident. The Resolver queues the resolution once, however often or
however concurrently it is asked, and the war room hears when each step is done."""

from __future__ import annotations

from incident_response.commands.context import CommandCall, CommandReply, CommandServices
from incident_response.domain.authority import Action


class ResolveCommand:
    name = "resolve"
    usage = "resolve"
    summary = "Resolve: postmortem draft, resolved status draft, archive the room"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.RESOLVE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        outcome = await self._services.resolver.request(incident.id, actor=call.actor)
        return CommandReply(
            text=outcome.text,
            ok=outcome.accepted,
            data={"accepted": outcome.accepted, "state": outcome.state},
        )
