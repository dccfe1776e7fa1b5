"""`invite @person`: bring someone into the war room as a responder."""

from __future__ import annotations

import uuid

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    audit,
    closed_reply,
    find_person,
    refused,
)
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.services.war_room_invites import add_responder, invite_to_room


class InviteCommand:
    name = "invite"
    usage = "invite @person"
    summary = "Invite @person to the war room as a responder"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.INVITE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not call.args:
            return refused("Use `invite @person` (an e-mail, a chat mention or a name).")
        if not incident.is_open:
            return closed_reply(incident, "inviting responders")
        if incident.channel is None:
            return refused(f"Incident {incident.id} has no war room yet: nobody was invited.")
        found = await find_person(self._services.directory, call.args)
        if found.person is None:
            return refused(f"Nobody was invited: {found.problem}.")
        person = found.person
        services = self._services
        chat_id, error = await invite_to_room(services.chat, incident.channel.id, person)
        if error:
            await audit(
                services,
                incident.id,
                AuditEventType.RESPONDER_INVITE_FAILED,
                f"responder-invite-failed:{person.email}:{uuid.uuid4().hex}",
                actor=call.actor,
                data={"email": person.email, "error": error, "by": "command"},
            )
            return refused(f"{person.name} ({person.email}) could not be invited: {error}.")
        saved, added = await add_responder(
            services.store,
            incident.id,
            person,
            chat_id=chat_id,
            role="invited",
            now=services.clock.now(),
        )
        if added:
            await audit(
                services,
                saved.id,
                AuditEventType.RESPONDER_INVITED,
                f"responder-invited:{person.email}:command:v{saved.version}",
                actor=call.actor,
                data={
                    "email": person.email,
                    "chat_id": chat_id,
                    "role": "invited",
                    "by": "command",
                },
            )
            text = f"{person.name} ({person.email}) is invited to the war room as a responder."
        else:
            text = f"{person.name} ({person.email}) was already a responder; they are in the room."
        return CommandReply(text=text, data={"email": person.email, "added": added})
