"""A severity raise calls the responders again.

Raising P3 to P1 means the incident now calls for people a P3 did not wake: the escalation asks
the OnCall port who is on call for the service now (its alert group's chain where it has one),
sends them a direct message (the on-call are paged again even when they are in the room), and
brings into the room everyone the incident calls for who is not there yet: the primary and
secondary on call and the service's team, chosen exactly as assembly chooses them
(`war_room_responders.responders_from`). Each step degrades: what failed is returned, recorded
and said in the room; the raise itself stands.
"""

from __future__ import annotations

from dataclasses import dataclass

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.clock import Clock
from incident_response.domain.incident import Incident, Responder
from incident_response.domain.people import OnCallShift, Person
from incident_response.domain.text import shortened
from incident_response.ports import AuditLog, Chat, Directory, IncidentStore, OnCall
from incident_response.services.on_call import shift_for
from incident_response.services.war_room_invites import (
    add_responder,
    invite_to_room,
    is_responder,
)
from incident_response.services.war_room_responders import responders_from, team_for
from incident_response.services.war_room_steps import person_of
from incident_response.telemetry.logging import get_logger

__all__ = ["Escalated", "SeverityEscalation"]

log = get_logger(__name__)


@dataclass(frozen=True)
class Escalated:
    """Who a raise reached: `paged` were told directly, `invited` newly brought into the room."""

    paged: tuple[str, ...] = ()
    invited: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()


class SeverityEscalation:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        chat: Chat,
        directory: Directory,
        oncall: OnCall,
        clock: Clock,
    ) -> None:
        self._store = store
        self._audit = audit
        self._chat = chat
        self._directory = directory
        self._oncall = oncall
        self._clock = clock

    async def escalate(self, incident: Incident, *, before: Severity, actor: str) -> Escalated:
        """Call the responders of `incident` (already raised from `before`) again; never raises
        for a vendor's failure."""
        problems: list[str] = []
        shift = await self._shift(incident, problems)
        team = await self._team(incident, problems)
        wanted = responders_from(shift, team)
        invited = [
            r.name or r.email
            for r in wanted
            if not is_responder(incident, r.email)
            and await self._bring_in(incident, r, before=before, actor=actor, problems=problems)
        ]
        on_call = [p for p in (shift.primary, shift.secondary) if p is not None] if shift else []
        paged = [
            p.name or p.email
            for p in _distinct(on_call)
            if await self._page(incident, p, before=before, problems=problems)
        ]
        if not wanted:
            problems.append(f"nobody is on call for {incident.service} and no team owns it")
        escalated = Escalated(paged=tuple(paged), invited=tuple(invited), problems=tuple(problems))
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType.RESPONDERS_ESCALATED,
                key=f"responders-escalated:{before.value}-{incident.severity.value}:"
                f"v{incident.version}",
                at=self._clock.now(),
                actor=actor,
                data={
                    "from": before.value,
                    "to": incident.severity.value,
                    "paged": list(escalated.paged),
                    "invited": list(escalated.invited),
                    "problems": list(escalated.problems),
                },
            )
        )
        return escalated

    async def _shift(self, incident: Incident, problems: list[str]) -> OnCallShift | None:
        try:
            return await shift_for(self._oncall, incident, at=self._clock.now())
        except Exception as exc:
            log.warning("escalation.oncall_failed", incident_id=incident.id, exc_info=True)
            problems.append(f"asking who is on call failed ({type(exc).__name__})")
            return None

    async def _team(self, incident: Incident, problems: list[str]) -> list[Person]:
        try:
            return await team_for(self._directory, incident.service)
        except Exception as exc:
            log.warning("escalation.team_failed", incident_id=incident.id, exc_info=True)
            problems.append(f"looking up the {incident.service} team failed ({type(exc).__name__})")
            return []

    async def _bring_in(
        self,
        incident: Incident,
        responder: Responder,
        *,
        before: Severity,
        actor: str,
        problems: list[str],
    ) -> bool:
        """Invite one person the raise calls for; True when they joined the responders."""
        person = person_of(responder)
        if incident.channel is None:
            problems.append(f"{person.name} could not be invited: the incident has no war room")
            return False
        chat_id, error = await invite_to_room(self._chat, incident.channel.id, person)
        after = incident.severity.value
        if error:
            await self._record(
                incident,
                AuditEventType.RESPONDER_INVITE_FAILED,
                f"responder-invite-failed:{person.email}:severity:{before.value}-{after}:"
                f"v{incident.version}",
                actor=actor,
                data={"email": person.email, "error": error, "by": "severity"},
            )
            problems.append(f"{person.name} could not be invited: {error}")
            return False
        saved, added = await add_responder(
            self._store,
            incident.id,
            person,
            chat_id=chat_id,
            role=responder.role,
            now=self._clock.now(),
        )
        if added:
            await self._record(
                incident,
                AuditEventType.RESPONDER_INVITED,
                f"responder-invited:{person.email}:severity:{before.value}-{after}:"
                f"v{saved.version}",
                actor=actor,
                data={
                    "email": person.email,
                    "chat_id": chat_id,
                    "role": responder.role,
                    "by": "severity",
                },
            )
        return added

    async def _page(
        self, incident: Incident, person: Person, *, before: Severity, problems: list[str]
    ) -> bool:
        """A direct message to one person on call; True when it was sent."""
        try:
            chat_id = await self._chat.user_id_for(person)
            if chat_id is None:
                problems.append(f"{person.name} (on call) has no chat account to page")
                return False
            room = (
                f" Join {incident.channel.url or incident.channel.name}."
                if incident.channel
                else ""
            )
            await self._chat.send_direct(
                chat_id,
                ChatMessage(
                    text=f"Incident {incident.id} on {incident.service} was raised from "
                    f"{before.value} to {incident.severity.value}: "
                    f"{shortened(incident.title)}. You are on call.{room}",
                    key=f"{incident.id}:severity-page:{before.value}-"
                    f"{incident.severity.value}:v{incident.version}:{person.email.lower()}",
                ),
            )
        except Exception as exc:
            log.warning("escalation.page_failed", incident_id=incident.id, exc_info=True)
            problems.append(f"paging {person.name} failed ({type(exc).__name__})")
            return False
        return True

    async def _record(
        self,
        incident: Incident,
        type_: AuditEventType,
        key: str,
        *,
        actor: str,
        data: dict[str, object],
    ) -> None:
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=type_,
                key=key,
                at=self._clock.now(),
                actor=actor,
                data=data,
            )
        )


def _distinct(people: list[Person]) -> list[Person]:
    seen: set[str] = set()
    unique = []
    for person in people:
        if person.email.lower() not in seen:
            seen.add(person.email.lower())
            unique.append(person)
    return unique
