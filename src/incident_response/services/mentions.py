"""Naming someone on an incident in its room so that the chat notifies them.

The words are the chat adapter's (`Chat.mention`): Slack spells a mention of the account, the
console the person's name. Here is only who they are as the incident knows them.
"""

from __future__ import annotations

from incident_response.domain.incident import Incident
from incident_response.domain.people import Person
from incident_response.ports import Chat


def incident_person(incident: Incident, email: str) -> Person:
    """Someone on the incident with the name and chat id its responders hold (the e-mail as the
    name for someone who is not among them)."""
    for responder in incident.responders:
        if responder.email == email:
            return Person(email=email, name=responder.name or email, chat_id=responder.chat_id)
    return Person(email=email, name=email)


async def mention_on(chat: Chat, incident: Incident, email: str) -> str:
    """A mention of someone on the incident; a chat id the responders lack is looked up by
    e-mail, so someone who joined the chat late is still notified."""
    person = incident_person(incident, email)
    if not person.chat_id:
        chat_id = await chat.user_id_for(person)
        person = person.model_copy(update={"chat_id": chat_id or ""})
    return chat.mention(person)
