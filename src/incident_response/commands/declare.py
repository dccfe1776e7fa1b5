"""`declare <P1-P4> [<service>:] <title>`: open an incident by hand; works anywhere.

The same declaration service as the console form, the API and Slack's modal (which is what
`declare` opens in Slack): the declarer becomes the IC, and the war room assembles as for an
alert. Typed, the severity is required, so nobody opens a P2 by leaving it out.
"""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    refused,
)
from incident_response.domain.authority import Action
from incident_response.domain.declaration import read_declare_text

EXAMPLE = "`declare P2 checkout: Checkout is slow for EU customers`"


class DeclareCommand:
    name = "declare"
    usage = "declare <P1-P4> [service:] <title>"
    summary = "Declare a new incident (in Slack, opens the form)"
    needs_incident = False

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.DECLARE

    async def run(self, call: CommandCall) -> CommandReply:
        declarations = self._services.declarations
        if declarations is None:
            return refused("Declaring incidents is not set up here; nothing was declared.")
        said = read_declare_text(call.args)
        if not said.title and not said.severity:
            return refused(f"Say what is wrong and how bad, e.g. {EXAMPLE}. Nothing was declared.")
        declared = await declarations.declare(
            declared_by=call.context.actor.email,
            title=said.title,
            severity=said.severity,
            service=said.service,
            key=f"command:{call.context.invocation_id}" if call.context.invocation_id else None,
        )
        incident = declared.incident
        return CommandReply(
            text=f"Declared {incident.severity.value} incident {incident.id}: {incident.title}. "
            f"IC: {incident.ic}. Its war room is being assembled.",
            data={"incident": {"id": incident.id, "severity": incident.severity.value}},
        )
