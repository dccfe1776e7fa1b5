"""`ic @person`: hand the incident commander role over; `ic` alone says who holds it.

The new IC must be in the directory (approvals are bound to the IC's identity, so a typo must
not hand the gate to nobody). The handover is audited, announced in the war room and shown in
its topic.
"""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    audit,
    closed_reply,
    find_person,
    not_permitted,
    refused,
    save_change,
)
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.chat import ChatMessage
from incident_response.domain.incident import Incident, Responder
from incident_response.domain.people import Person
from incident_response.services.war_room_topic import refresh_topic
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


def same_email(a: str | None, b: str) -> bool:
    return a is not None and a.strip().casefold() == b.strip().casefold()


class IcCommand:
    name = "ic"
    usage = "ic [@person]"
    summary = "Show the incident commander, or hand the role to @person"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.HAND_OVER_IC if call.args else Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not call.args:
            return CommandReply(
                text=f"The incident commander is {incident.ic or 'not assigned yet'}.",
                data={"ic": incident.ic},
            )
        if not incident.is_open:
            return closed_reply(incident, "handing over the IC role")
        found = await find_person(self._services.directory, call.args)
        if found.person is None:
            return refused(f"Nobody was made IC: {found.problem}.", ic=incident.ic)
        person = found.person
        # the target-specific rule: with no IC, a responder may take the role for themselves
        permission = await self._services.authority.decide(
            Action.HAND_OVER_IC, incident, call.actor, target=person.email
        )
        if not permission.allowed:
            return not_permitted(self.name, permission, ic=incident.ic)
        if same_email(incident.ic, person.email):
            return CommandReply(
                text=f"{person.name} ({person.email}) is already the incident commander.",
                data={"ic": incident.ic},
            )
        return await self._hand_over(call, incident, person)

    async def _hand_over(
        self, call: CommandCall, incident: Incident, person: Person
    ) -> CommandReply:
        services = self._services
        now = services.clock.now()
        previous = incident.ic
        chat_id = await self._chat_id(person)

        def assign(current: Incident) -> Incident:
            responders = current.responders
            if not any(same_email(r.email, person.email) for r in responders):
                joined = Responder(
                    email=person.email, name=person.name, chat_id=chat_id or "", role="ic"
                )
                responders = (*responders, joined)
            return current.update(ic=person.email, responders=responders, updated_at=now)

        saved = await save_change(services.store, incident.id, assign)
        key = f"ic-assigned:{person.email}:v{saved.version}"
        await audit(
            services,
            saved.id,
            AuditEventType.IC_ASSIGNED,
            key,
            actor=call.actor,
            data={"ic": person.email, "previous": previous, "by": "command"},
        )
        problems = await self._announce(saved, person, previous, chat_id, key)
        text = f"{person.name} ({person.email}) is now the incident commander."
        if problems:
            text += " But " + "; ".join(problems) + "."
        return CommandReply(
            text=text, data={"ic": person.email, "previous": previous, "problems": problems}
        )

    async def _chat_id(self, person: Person) -> str | None:
        try:
            return await self._services.chat.user_id_for(person)
        except Exception:
            log.warning("ic.chat_lookup_failed", email=person.email, exc_info=True)
            return None

    async def _announce(
        self,
        incident: Incident,
        person: Person,
        previous: str | None,
        chat_id: str | None,
        key: str,
    ) -> list[str]:
        """Bring the new IC into the room and tell the room; failures are reported, not raised."""
        if incident.channel is None:
            return ["the incident has no war room to announce it in"]
        chat = self._services.chat
        problems: list[str] = []
        if chat_id is None:
            problems.append(f"{person.email} has no chat account to invite to the room")
        else:
            try:
                result = await chat.invite(incident.channel.id, [chat_id])
                if result.failed:
                    problems.append(f"inviting them to the room failed ({result.failed[chat_id]})")
            except Exception as exc:
                problems.append(f"inviting them to the room failed ({type(exc).__name__})")
        who = chat.mention(person.model_copy(update={"chat_id": chat_id or ""}))
        handover = f", taking over from {previous}" if previous else ""
        try:
            await chat.post(
                incident.channel.id,
                ChatMessage(
                    text=f"{who} ({person.email}) is now the incident commander{handover}. "
                    "Status updates need their approval.",
                    key=key,
                ),
            )
        except Exception as exc:
            log.warning("ic.announce_failed", incident_id=incident.id, exc_info=True)
            problems.append(f"announcing it in the room failed ({type(exc).__name__})")
        topic_problem = await refresh_topic(chat, incident)
        if topic_problem:
            problems.append(topic_problem)
        return problems
