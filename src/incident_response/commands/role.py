"""`role comms @person`: give a role beside the IC (comms, scribe, ops); `role` alone lists them.

The holder must be in the directory (a typo must not give the role to nobody). They become a
responder (invited to the room if they are not in it yet, through the same path as `invite`),
so the policy lets them work on the incident. The assignment is audited (ROLE_ASSIGNED
{"role", "email", "previous"}), announced in the room and shown in its topic. Naming the
communications lead ticks the checklist's "comms" item, as the system, when it is there and
open (`domain.checklist.NAMING`), and the pinned checklist shows it.
"""

from __future__ import annotations

from incident_response.commands.announce import announce, with_problems
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
from incident_response.commands.ic import same_email
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.checklist import NAMING
from incident_response.domain.incident import Incident, IncidentRole
from incident_response.domain.people import Person
from incident_response.domain.steering import parse_role, role_problem
from incident_response.services.checklist_ticks import ChecklistTicks
from incident_response.services.war_room_invites import (
    invite_to_room,
    is_responder,
    with_responder,
)

USAGE = "Use `role comms @person` (roles: comms, scribe, ops; a person by e-mail, mention or name)."


def roles_text(incident: Incident, name_of: dict[str, str]) -> str:
    def who(email: str | None) -> str:
        if not email:
            return "nobody"
        name = name_of.get(email.casefold())
        return f"{name} ({email})" if name else email

    lines = [f"Incident commander: {who(incident.ic)}"]
    lines += [
        f"{role.label.capitalize()}: {who(incident.roles.get(role))}" for role in IncidentRole
    ]
    return "\n".join(lines)


class RoleCommand:
    name = "role"
    usage = "role [<role> @person]"
    summary = "List the roles, or give comms, scribe or ops to @person (a responder then)"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services
        self._ticks = ChecklistTicks(
            store=services.store, audit=services.audit, chat=services.chat, clock=services.clock
        )

    def action(self, call: CommandCall) -> Action:
        return Action.ASSIGN_ROLE if call.args else Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not call.args:
            names = {r.email.casefold(): r.name for r in incident.responders if r.name}
            return CommandReply(
                text=roles_text(incident, names),
                data={"ic": incident.ic, "roles": {r.value: e for r, e in incident.roles.items()}},
            )
        word, _, who = call.args.partition(" ")
        role = parse_role(word)
        if role is None:
            return refused(f"Nobody was given a role: {role_problem(word)}. {USAGE}")
        if not who.strip():
            return refused(f"Name the {role.label}. {USAGE}")
        if not incident.is_open:
            return closed_reply(incident, f"naming the {role.label}")
        found = await find_person(self._services.directory, who)
        if found.person is None:
            return refused(f"Nobody was made {role.label}: {found.problem}.")
        person = found.person
        if same_email(incident.roles.get(role), person.email):
            return CommandReply(
                text=f"{person.name} ({person.email}) is already the {role.label}: nothing changed.",
                data={"role": role.value, "email": person.email, "changed": False},
            )
        return await self._assign(call, incident, role, person)

    async def _assign(
        self, call: CommandCall, incident: Incident, role: IncidentRole, person: Person
    ) -> CommandReply:
        services = self._services
        problems: list[str] = []
        chat_id: str | None = None
        if incident.channel is None:
            problems.append("the incident has no war room to invite them to")
        elif not is_responder(incident, person.email):
            chat_id, error = await invite_to_room(services.chat, incident.channel.id, person)
            if error:
                problems.append(f"inviting them to the room failed: {error}")
        now = services.clock.now()
        previous: str | None = None
        joined = False

        def assign(current: Incident) -> Incident:
            nonlocal previous, joined
            previous = current.roles.get(role)
            added = with_responder(current, person, chat_id=chat_id, role=role.value, now=now)
            joined = added is not None
            base = added or current
            return base.update(roles={**base.roles, role: person.email}, updated_at=now)

        saved = await save_change(services.store, incident.id, assign)
        await audit(
            services,
            saved.id,
            AuditEventType.ROLE_ASSIGNED,
            f"role-assigned:{role.value}:{person.email}:v{saved.version}",
            actor=call.actor,
            data={"role": role.value, "email": person.email, "previous": previous},
        )
        if joined:
            await audit(
                services,
                saved.id,
                AuditEventType.RESPONDER_INVITED,
                f"responder-invited:{person.email}:role:v{saved.version}",
                actor=call.actor,
                data={"email": person.email, "chat_id": chat_id, "role": role.value, "by": "role"},
            )
        event = NAMING.get(role)
        if event is not None:  # e.g. "Name a communications lead", if the checklist has it
            ticks = await self._ticks.happened(saved.id, event)
            problems += [
                f"the pinned checklist could not be updated ({t.board_error})"
                for t in ticks
                if t.board_error
            ]
        mention = services.chat.mention(
            person.model_copy(update={"chat_id": chat_id or person.chat_id})
        )
        taking = f", taking over from {previous}" if previous else ""
        by = call.context.actor.name or call.actor
        problems += await announce(
            services,
            saved,
            f"{mention} ({person.email}) is now the {role.label}{taking}, named by {by}.",
            key=f"{saved.id}:role:{role.value}:v{saved.version}",
        )
        return CommandReply(
            text=with_problems(
                f"{person.name} ({person.email}) is now the {role.label}"
                + (" and a responder" if joined else "")
                + ".",
                problems,
            ),
            data={
                "role": role.value,
                "email": person.email,
                "previous": previous,
                "changed": True,
                "problems": problems,
            },
        )
