"""A war-room message pinned to the timeline: a note by the person who pinned it, quoting the
message and its author.

Keyed by the room and the message (`timeline-note:<channel>:<message>`, the key Slack's pins
and reactions use too), so pinning the same message again, or from another surface, adds
nothing: the timeline tells each message once.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.incident import Incident
from incident_response.ports import AuditLog
from incident_response.services.authority import Authority

NOTE_CHARS = 2000


def pin_key(channel_id: str, message_id: str) -> str:
    return f"timeline-note:{channel_id}:{message_id}"


@dataclass(frozen=True)
class RoomMessage:
    """What is quoted: the message as the room shows it, and who wrote it ("system" for the
    service's own posts)."""

    channel_id: str
    message_id: str
    text: str
    author: str
    at: datetime


async def pin_to_timeline(
    incident: Incident,
    message: RoomMessage,
    *,
    by: str,
    source: str,
    audit: AuditLog,
    authority: Authority,
) -> bool:
    """Note `message` on the incident's timeline for `by`; False when it already was.
    Raises NotPermitted for someone who may not add notes (nothing is recorded)."""
    await authority.require(Action.NOTE, incident, by)
    key = pin_key(message.channel_id, message.message_id)
    if any(r.key == key for r in await audit.find(incident.id, AuditEventType.TIMELINE_NOTE_ADDED)):
        return False
    await audit.append(
        AuditEvent(
            incident_id=incident.id,
            type=AuditEventType.TIMELINE_NOTE_ADDED,
            key=key,
            at=message.at,
            actor=by,
            data={
                "text": message.text[:NOTE_CHARS],
                "author": message.author,
                "source": source,
                "noted_by": by,
                "message_id": message.message_id,
            },
        )
    )
    return True
