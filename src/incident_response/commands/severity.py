"""`severity P1`: change how severe the incident is; `severity` alone says what it is.

The change is saved, audited (SEVERITY_CHANGED {"from", "to"}), shown in the room's topic and
announced in the room. A raise (P3 -> P1) calls the responders again: the on-call are paged and
whoever the incident calls for is brought into the room (services.severity_escalation), and
the worse severity's checklist items the incident lacks are added, in the same save, and shown in
the pinned checklist (services.checklist_on_raise); a lowering calls nobody and removes no item. Asking for the severity it already has changes nothing.
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
from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.incident import ChecklistItem, Incident
from incident_response.domain.steering import is_raise, parse_severity, severity_problem


class SeverityCommand:
    name = "severity"
    usage = "severity [P1-P4]"
    summary = "Show the severity, or change it (a raise pages the on-call again)"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.CHANGE_SEVERITY if call.args else Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not call.args:
            return CommandReply(
                text=f"The severity is {incident.severity.value}.",
                data={"severity": incident.severity.value},
            )
        target = parse_severity(call.args)
        if target is None or len(call.words) != 1:
            return refused(
                f"The severity was not changed: {severity_problem(call.args)}, e.g. `severity P1`.",
                severity=incident.severity.value,
            )
        if not incident.is_open:
            return closed_reply(incident, "changing the severity")
        if target is incident.severity:
            return CommandReply(
                text=f"The incident is already {target.value}: nothing changed.",
                data={"severity": target.value, "changed": False},
            )
        return await self._change(call, incident, target)

    async def _change(
        self, call: CommandCall, incident: Incident, target: Severity
    ) -> CommandReply:
        services = self._services
        before = incident.severity
        now = services.clock.now()
        changed = False
        added: tuple[ChecklistItem, ...] = ()
        grow = services.checklist_on_raise

        def change(current: Incident) -> Incident | None:
            nonlocal before, changed, added
            before, changed = current.severity, current.is_open and current.severity is not target
            if not changed:
                return None
            checklist = current.checklist
            if grow is not None and is_raise(before, target):  # in the same save: never lost
                checklist = grow.grown(current.checklist, target)
            added = checklist[len(current.checklist) :]
            return current.update(severity=target, checklist=checklist, updated_at=now)

        saved = await save_change(services.store, incident.id, change)
        if not changed:  # someone else changed it, or resolved the incident, meanwhile
            return refused(
                f"The severity was not changed: the incident is {saved.severity.value} and "
                f"{saved.status.value} now.",
                severity=saved.severity.value,
            )
        await audit(
            services,
            saved.id,
            AuditEventType.SEVERITY_CHANGED,
            f"severity-changed:{before.value}-{target.value}:v{saved.version}",
            actor=call.actor,
            data={"from": before.value, "to": target.value},
        )
        raised = is_raise(before, target)
        verb = "raised" if raised else "lowered"
        problems: list[str] = []
        called = ""
        if raised and services.escalation is not None:
            outcome = await services.escalation.escalate(saved, before=before, actor=call.actor)
            problems.extend(outcome.problems)
            if outcome.paged:
                called += f" Paged again: {', '.join(outcome.paged)}."
            if outcome.invited:
                called += f" Invited: {', '.join(outcome.invited)}."
        elif raised:
            problems.append("nobody was paged again: no escalation is configured")
        board_error = None
        if added and grow is not None:
            board_error = await grow.record(saved, added, before=before, actor=call.actor)
            called += f" {_items(len(added))} of the {target.value} checklist added."
        who = call.context.actor.name or call.actor
        line = f"Severity {verb} from {before.value} to {target.value} by {who}.{called}"
        if problems:  # the room should know who was not reached, and why
            line += f" Not everyone could be called: {'; '.join(problems)}."
        if board_error:
            problems.append(f"the pinned checklist could not be updated ({board_error})")
        problems += await announce(
            services, saved, line, key=f"{saved.id}:severity:{target.value}:v{saved.version}"
        )
        return CommandReply(
            text=with_problems(
                f"The incident is now {target.value} (was {before.value}).{called}", problems
            ),
            data={
                "severity": target.value,
                "previous": before.value,
                "changed": True,
                "raised": raised,
                "checklist_added": [item.id for item in added],
                "problems": problems,
            },
        )


def _items(count: int) -> str:
    return f"{count} item" if count == 1 else f"{count} items"
