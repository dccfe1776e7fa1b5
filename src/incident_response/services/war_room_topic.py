"""Keeping the war room's topic true: severity, stage, IC and roles, as they change.

The topic is a sign, not a record: the change it shows is saved and audited first, so a chat
failure here is logged and reported to the caller (who tells the person and the room when it
can), and never undoes or blocks the change.
"""

from __future__ import annotations

from incident_response.domain.incident import Incident
from incident_response.ports import Chat
from incident_response.services.war_room_messages import room_topic
from incident_response.telemetry.logging import get_logger

__all__ = ["refresh_topic"]

log = get_logger(__name__)


async def refresh_topic(chat: Chat, incident: Incident) -> str | None:
    """Set the room's topic to what `incident` says now; why it could not be, or None."""
    if incident.channel is None:
        return None
    try:
        await chat.set_topic(incident.channel.id, room_topic(incident))
    except Exception as exc:
        log.warning("war_room.topic_failed", incident_id=incident.id, exc_info=True)
        return f"updating the room's topic failed ({type(exc).__name__})"
    return None
