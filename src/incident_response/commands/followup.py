"""`followup <text> [@owner]`: record an action item during the incident; `followup` alone lists
them.

The owner (optional, the last word) is an e-mail or a chat mention the directory knows, so an
action item never lands on nobody by a typo. Each follow-up is kept on the incident
(`Incident.followups`), audited (FOLLOWUP_ADDED) and told on the timeline; on resolve each one is
filed in the tracker and linked from the postmortem. Its id derives from the invocation, so a
command delivered twice records it once.
"""

from __future__ import annotations

import hashlib
import uuid

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    audit,
    closed_reply,
    find_person,
    refused,
    save_change,
)
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.incident import FollowUp, Incident
from incident_response.services.resolution_steps import Step

FOLLOWUP_CHARS = 500


def followup_id(invocation: str) -> str:
    return "fu-" + hashlib.sha256(invocation.encode()).hexdigest()[:8]


def owner_word(args: str) -> tuple[str, str | None]:
    """(the text, the owner's word) when the last word names a person: `@someone` or an
    e-mail."""
    text, _, last = args.rstrip().rpartition(" ")
    if text.strip() and (last.startswith("@") or ("@" in last and "." in last)):
        return text.strip(), last
    return args.strip(), None


def listed(incident: Incident) -> str:
    """The follow-ups, numbered, with their owners and filed issues."""
    if not incident.followups:
        return f"No follow-ups on {incident.id} yet: add one with `followup <text> [@owner]`."
    lines = [f"Follow-ups of {incident.id}:"]
    for n, item in enumerate(incident.followups, start=1):
        line = f"{n}. {item.text}"
        if item.owner:
            line += f" (owner: {item.owner})"
        if item.issue is not None:
            line += f" \u2014 filed: {item.issue.url or item.issue.id}"
        lines.append(line)
    return "\n".join(lines)


class FollowUpCommand:
    name = "followup"
    usage = "followup [<text> [@owner]]"
    summary = "Record an action item (filed in the tracker on resolve), or list them"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.FOLLOW_UP if call.args.strip() else Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not call.args.strip():
            return CommandReply(
                text=listed(incident),
                data={"followups": [f.model_dump(mode="json") for f in incident.followups]},
            )
        if not incident.is_open:
            return closed_reply(incident, "adding a follow-up")
        if Step.FOLLOWUPS.value in incident.resolution_steps:
            return refused(
                "The resolution has already filed this incident's follow-ups: file this one in "
                "the tracker directly."
            )
        text, word = owner_word(call.args)
        if len(text) > FOLLOWUP_CHARS:
            return refused(
                f"A follow-up has at most {FOLLOWUP_CHARS} characters; this one has {len(text)}."
            )
        owner = None
        if word is not None:
            found = await find_person(self._services.directory, word)
            if found.person is None:
                return refused(f"No follow-up was recorded: {found.problem}.")
            owner = found.person.email
        now = self._services.clock.now()
        item = FollowUp(
            id=followup_id(call.context.invocation_id or uuid.uuid4().hex),
            text=text,
            owner=owner,
            created_by=call.actor,
            created_at=now,
        )

        def add(current: Incident) -> Incident | None:
            if any(f.id == item.id for f in current.followups):
                return None
            return current.update(followups=(*current.followups, item), updated_at=now)

        await save_change(self._services.store, incident.id, add)
        await audit(
            self._services,
            incident.id,
            AuditEventType.FOLLOWUP_ADDED,
            f"followup-added:{item.id}",
            actor=call.actor,
            data={"id": item.id, "text": item.text, "owner": item.owner},
        )
        owned = f" (owner: {owner})" if owner else ""
        return CommandReply(
            text=f"Follow-up recorded{owned}: {text}. It is filed in the tracker when the "
            "incident is resolved.",
            data={"followup": item.model_dump(mode="json")},
        )
