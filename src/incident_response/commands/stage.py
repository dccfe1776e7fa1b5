"""`stage identified`: move the incident's public stage; `stage` alone says where it stands.

Investigating, identified, monitoring: forward or back (domain.steering says why going back is
allowed). "Resolved" is refused with a pointer to `resolve`, which does what resolving needs.
The move is saved, audited (STAGE_CHANGED {"from", "to"}), shown in the room's topic and
announced; the next status draft starts at this stage, and publishing an update moves the stage
to the one the IC approved.
"""

from __future__ import annotations

from incident_response.commands.announce import announce, with_problems
from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    audit,
    closed_reply,
    refused,
    save_change,
)
from incident_response.domain.approval import public_status_for
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.context import PublicStatus
from incident_response.domain.incident import Incident
from incident_response.domain.public import parse_stage
from incident_response.domain.status_update import DraftKind
from incident_response.domain.steering import SETTABLE_STAGES, stage_refusal

STAGE_CHOICES = ", ".join(s.value for s in SETTABLE_STAGES)


class StageCommand:
    name = "stage"
    usage = "stage [<stage>]"
    summary = "Show the stage, or move it: investigating, identified, monitoring"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.CHANGE_STAGE if call.args else Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not call.args:
            shown = public_status_for(incident, DraftKind.UPDATE)
            why = " (the alert has cleared: mitigated)" if shown is not incident.stage else ""
            return CommandReply(
                text=f"The stage is {shown.value}{why}.", data={"stage": shown.value}
            )
        target = parse_stage(call.args)
        if target is None:
            return refused(
                f"The stage was not changed: unknown stage {call.args!r}; use one of "
                f"{STAGE_CHOICES}, e.g. `stage identified`.",
                stage=incident.stage.value,
            )
        refusal = stage_refusal(target)
        if refusal is not None:
            return refused(f"The stage was not changed: {refusal}.", stage=incident.stage.value)
        if not incident.is_open:
            return closed_reply(incident, "moving the stage")
        if target is incident.stage:
            return CommandReply(
                text=f"The incident is already at the {target.value} stage: nothing changed.",
                data={"stage": target.value, "changed": False},
            )
        return await self._move(call, incident, target)

    async def _move(
        self, call: CommandCall, incident: Incident, target: PublicStatus
    ) -> CommandReply:
        services = self._services
        before = incident.stage
        now = services.clock.now()
        changed = False

        def move(current: Incident) -> Incident | None:
            nonlocal before, changed
            before, changed = current.stage, current.is_open and current.stage is not target
            return current.update(stage=target, updated_at=now) if changed else None

        saved = await save_change(services.store, incident.id, move)
        if not changed:  # someone else moved it, or resolved the incident, meanwhile
            return refused(
                f"The stage was not changed: the incident is at {saved.stage.value} and "
                f"{saved.status.value} now.",
                stage=saved.stage.value,
            )
        await audit(
            services,
            saved.id,
            AuditEventType.STAGE_CHANGED,
            f"stage-changed:{before.value}-{target.value}:v{saved.version}",
            actor=call.actor,
            data={"from": before.value, "to": target.value},
        )
        who = call.context.actor.name or call.actor
        problems = await announce(
            services,
            saved,
            f"Stage moved from {before.value} to {target.value} by {who}. "
            f"The next status update starts at {target.value}.",
            key=f"{saved.id}:stage:{target.value}:v{saved.version}",
        )
        return CommandReply(
            text=with_problems(
                f"The incident is now at the {target.value} stage (was {before.value}).",
                problems,
            ),
            data={
                "stage": target.value,
                "previous": before.value,
                "changed": True,
                "problems": problems,
            },
        )
