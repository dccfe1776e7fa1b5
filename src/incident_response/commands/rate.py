"""`rate 1..5`: the pulse rating asked for after resolution; one rating per person."""

from __future__ import annotations

import uuid

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    refused,
)
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.authority import Action

RATINGS = range(1, 6)


class RateCommand:
    name = "rate"
    usage = "rate 1..5"
    summary = "Rate how the incident was run, once it is resolved (once per person)"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.RATE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        arg = call.args.strip()
        if not (arg.isdigit() and int(arg) in RATINGS):
            return refused("Use `rate N` with N from 1 (poorly run) to 5 (very well run).")
        if incident.is_open:
            return refused(
                f"Incident {incident.id} is still {incident.status.value}: "
                "ratings open once it is resolved."
            )
        rating = int(arg)
        services = self._services
        already = next(
            (
                r
                for r in await services.audit.find(incident.id, AuditEventType.IC_RATED)
                if r.actor.casefold() == call.actor.casefold()
            ),
            None,
        )
        if already is None:
            invocation = call.context.invocation_id or uuid.uuid4().hex
            record = await services.audit.append(
                AuditEvent(
                    incident_id=incident.id,
                    type=AuditEventType.IC_RATED,
                    key=f"ic-rated:{call.actor.casefold()}",
                    at=services.clock.now(),
                    actor=call.actor,
                    data={"rating": rating, "ic": incident.ic, "invocation": invocation},
                )
            )
            if record.data.get("invocation") == invocation:
                return CommandReply(
                    text=f"Thanks: your rating of {rating}/5 is recorded.",
                    data={"rating": rating},
                )
            already = record
        return refused(
            f"You already rated this incident {already.data.get('rating')}/5; "
            "each person's rating counts once.",
            rating=already.data.get("rating"),
        )
