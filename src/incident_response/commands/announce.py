"""Telling the war room that a person steered the incident, and keeping its topic true.

The `severity`, `stage` and `role` commands change the incident first (saved and audited), then
come here: the topic is set again and one line is posted. A chat failure is logged and returned
to the command, which tells the person who asked; when only the topic failed, the room's line
says so too. Neither ever undoes the change.
"""

from __future__ import annotations

from incident_response.commands.context import CommandServices
from incident_response.domain.chat import ChatMessage
from incident_response.domain.incident import Incident
from incident_response.services.war_room_topic import refresh_topic
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


async def announce(
    services: CommandServices, incident: Incident, text: str, *, key: str
) -> list[str]:
    """Set the topic and post `text` in the incident's room; what went wrong, if anything."""
    if incident.channel is None:
        return ["the incident has no war room to announce it in"]
    problems: list[str] = []
    topic_problem = await refresh_topic(services.chat, incident)
    if topic_problem:
        problems.append(topic_problem)
        text += " (The room's topic could not be updated.)"
    try:
        await services.chat.post(incident.channel.id, ChatMessage(text=text, key=key))
    except Exception as exc:
        log.warning("command.announce_failed", incident_id=incident.id, exc_info=True)
        problems.append(f"announcing it in the room failed ({type(exc).__name__})")
    return problems


def with_problems(text: str, problems: list[str]) -> str:
    return text + (" But " + "; ".join(problems) + "." if problems else "")
