"""Bringing one person into an incident's war room as a responder, after assembly.

`invite`, a role assignment and a severity raise all add people the same way: look up their
chat account, invite them to the room, and list them among the incident's responders (the
policy reads that list, so a person added here may work on the incident).
"""

from __future__ import annotations

from datetime import datetime

from incident_response.domain.incident import Incident, Responder
from incident_response.domain.people import Person
from incident_response.ports import Chat, IncidentStore
from incident_response.services.compare_and_set import save_change

__all__ = ["add_responder", "invite_to_room", "is_responder", "with_responder"]


def is_responder(incident: Incident, email: str) -> bool:
    wanted = email.strip().casefold()
    return any(r.email.strip().casefold() == wanted for r in incident.responders)


async def invite_to_room(chat: Chat, channel_id: str, person: Person) -> tuple[str | None, str]:
    """(their chat id, why inviting them failed or ""). Never raises: the caller decides
    whether a person who could not be invited still counts."""
    try:
        chat_id = await chat.user_id_for(person)
        if chat_id is None:
            return None, "they have no chat account"
        result = await chat.invite(channel_id, [chat_id])
    except Exception as exc:
        return None, f"the chat service failed ({type(exc).__name__}: {exc})"
    return chat_id, result.failed.get(chat_id, "")


def with_responder(
    incident: Incident, person: Person, *, chat_id: str | None, role: str, now: datetime
) -> Incident | None:
    """`incident` listing `person` among its responders, or None when they already are."""
    if is_responder(incident, person.email):
        return None
    responder = Responder(email=person.email, name=person.name, chat_id=chat_id or "", role=role)
    return incident.update(responders=(*incident.responders, responder), updated_at=now)


async def add_responder(
    store: IncidentStore,
    incident_id: str,
    person: Person,
    *,
    chat_id: str | None,
    role: str,
    now: datetime,
) -> tuple[Incident, bool]:
    """(the incident saved, whether `person` was added rather than already there)."""
    added = False

    def join(current: Incident) -> Incident | None:
        nonlocal added
        joined = with_responder(current, person, chat_id=chat_id, role=role, now=now)
        added = joined is not None
        return joined

    return await save_change(store, incident_id, join), added
