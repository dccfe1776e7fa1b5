"""`note <text>`: put a line on the incident's timeline, the way a pinned Slack message does.

If the drafter reads the note as a status update ("told support and the status page: checkout
is degraded"), it counts as one: the reminders to update customers wait a full interval again,
and the room is told so.
"""

from __future__ import annotations

import uuid

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    audit,
    refused,
)
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action

NOTE_CHARS = 2000


class NoteCommand:
    name = "note"
    usage = "note <text>"
    summary = "Add a note to the timeline (a note that tells customers counts as a status update)"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.NOTE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        text = call.args.strip()
        if not text:
            return refused("Use `note <text>`: the note cannot be empty.")
        if len(text) > NOTE_CHARS:
            return refused(f"A note has at most {NOTE_CHARS} characters; this one has {len(text)}.")
        key = f"timeline-note:command:{call.context.invocation_id or uuid.uuid4().hex}"
        await audit(
            self._services,
            incident.id,
            AuditEventType.TIMELINE_NOTE_ADDED,
            key,
            actor=call.actor,
            data={"text": text, "source": f"{call.context.surface} command"},
        )
        notes = self._services.status_notes
        counted = notes is not None and await notes.consider(
            incident.id, note_key=key, text=text, actor=call.actor
        )
        reply = "Noted on the timeline."
        if counted:
            reply += " It reads as a status update, so it counts as one for the reminders."
        return CommandReply(text=reply, data={"status_update": counted})
