"""`status`: where the incident stands, and a fresh status update draft for the IC to approve.

Asking for the status is the moment the room thinks about customers, so the summary comes with
a draft from the StatusUpdateGate; nothing is published until the IC approves it. Anyone in the
roster may read the summary; only those who may draft (the policy) get the draft.
"""

from __future__ import annotations

from typing import Any

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    duration_text,
    utc_text,
)
from incident_response.domain.authority import Action
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import DraftStatus, StatusDraft
from incident_response.services.draft_card import public_lines


def last_published(incident: Incident) -> StatusDraft | None:
    published = [d for d in incident.drafts if d.status is DraftStatus.PUBLISHED]
    return max(published, key=lambda d: d.published_at or d.updated_at, default=None)


def draft_json(draft: StatusDraft) -> dict[str, Any]:
    return {
        "id": draft.id,
        "version": draft.version,
        "kind": draft.kind.value,
        "status": draft.status.value,
        "body": draft.body,
        "title": draft.title,
        "stage": draft.stage.value,
        "impact": draft.impact.value,
        "components": list(draft.component_names),
    }


def draft_text(draft: StatusDraft) -> str:
    quoted = "\n".join(f"> {line}" for line in draft.body.splitlines())
    return (
        f"Draft {draft.id} (version {draft.version}), waiting for the IC's approval:\n{quoted}\n"
        f"{public_lines(draft)}\n"
        f"Nothing is published until the IC approves version {draft.version} of {draft.id}."
    )


class StatusCommand:
    name = "status"
    usage = "status"
    summary = "Where the incident stands, with a status update draft to approve"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        now = self._services.clock.now()
        lines = [
            f"{incident.severity.value} {incident.title} ({incident.id})",
            f"Status: {incident.status.value}",
            f"IC: {incident.ic or 'none assigned'}",
        ]
        if incident.resolved_at is not None:
            lines.append(
                f"Resolved {utc_text(incident.resolved_at)}, "
                f"after {duration_text(incident.resolved_at - incident.created_at)}"
            )
        else:
            lines.append(
                f"Age: {duration_text(now - incident.created_at)} "
                f"(opened {utc_text(incident.created_at)})"
            )
        published = last_published(incident)
        if published is None:
            lines.append("Last published update: none yet")
        else:
            lines.append(
                f"Last published update ({utc_text(published.published_at)}): {published.body}"
            )
        open_items = [(n, item) for n, item in enumerate(incident.checklist, 1) if not item.done]
        if open_items:
            lines.append("Open checklist items:")
            lines += [f"  {n}. {item.text}" for n, item in open_items]
        elif incident.checklist:
            lines.append("Checklist: every item is done")
        if incident.postmortem is not None:
            lines.append(f"Postmortem: {incident.postmortem.url}")
        data: dict[str, Any] = {
            "incident_id": incident.id,
            "status": incident.status.value,
            "severity": incident.severity.value,
            "ic": incident.ic,
            "age_seconds": (now - incident.created_at).total_seconds(),
            "last_published": draft_json(published) if published else None,
            "open_checklist": [n for n, _ in open_items],
        }
        if not incident.is_open:
            return CommandReply(text="\n".join(lines), data=data)
        permission = await self._services.authority.decide(Action.DRAFT, incident, call.actor)
        if not permission.allowed:
            lines.append(f"No status update draft: {permission.text}.")
            data["draft"] = None
            return CommandReply(text="\n".join(lines), data=data)
        try:
            draft = await self._services.gate.create_draft(incident.id, actor=call.actor)
        except IncidentResponseError as exc:
            lines.append(f"No status update draft: drafting failed ({exc}).")
            return CommandReply(text="\n".join(lines), ok=False, data=data)
        lines.append(draft_text(draft))
        data["draft"] = draft_json(draft)
        return CommandReply(text="\n".join(lines), data=data)
