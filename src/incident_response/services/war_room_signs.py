"""The war room's signs: its topic (what it is about, who leads it) and its bookmarks (what
responders open first). Set beside the processor once the channel exists: in an alert storm
they wait behind Slack's tier-2 limits, which must hold back neither the room nor the next alert.
"""

from __future__ import annotations

from typing import Any

from incident_response.domain.incident import ChannelRef, Incident
from incident_response.ports import Chat
from incident_response.services import war_room_messages as msgs
from incident_response.services.war_room_steps import AssemblySteps, Step, together
from incident_response.telemetry.logging import get_logger

__all__ = ["topic_and_bookmarks"]

log = get_logger(__name__)


async def topic_and_bookmarks(
    incident: Incident,
    channel: ChannelRef,
    *,
    chat: Chat,
    steps: AssemblySteps,
    status_page_url: str | None,
    tell_the_room: bool = True,
) -> None:
    """Bookmarks go in order (the bar reads runbook first); the topic beside them. Each call
    failing on an outage is tried again until the step's deadline; what still failed is
    recorded (and, with `tell_the_room`, told to the room)."""
    if Step.TOPIC_AND_BOOKMARKS in incident.assembly_steps:
        return
    topic = msgs.room_topic(incident)
    bookmarks = msgs.room_bookmarks(incident, status_page_url)
    step, where = Step.TOPIC_AND_BOOKMARKS, {"incident_id": incident.id}
    outages = False

    async def add_bookmarks() -> dict[str, str]:
        nonlocal outages
        failed: dict[str, str] = {}
        for mark in bookmarks:
            added = await steps.attempt_until(
                lambda mark=mark: chat.add_bookmark(  # type: ignore[misc]
                    channel.id, title=mark.title, url=mark.url
                ),
                step=step,
                **where,
            )
            if added.error is not None:
                failed[mark.url] = added.error
                outages = outages or added.transient
        return failed

    async with together() as group:
        topic_task = group.create_task(
            steps.attempt_until(lambda: chat.set_topic(channel.id, topic), step=step, **where)
        )
        marks_task = group.create_task(add_bookmarks())
    topic_tried, failed = topic_task.result(), marks_task.result()
    topic_error = topic_tried.error
    errors = [f"topic: {topic_error}"] if topic_error else []
    errors.extend(f"bookmark {url}: {error}" for url, error in failed.items())
    result: dict[str, Any] = {
        "ok": not errors,
        "topic": topic if topic_error is None else None,
        "bookmarks": [m.url for m in bookmarks if m.url not in failed],
        "error": "; ".join(errors) or None,
        "retry": outages or topic_tried.transient,
    }
    if errors:
        log.warning("war_room.topic_or_bookmarks_failed", incident_id=incident.id, errors=errors)
    await steps.complete(incident.id, Step.TOPIC_AND_BOOKMARKS, result)
    notice = msgs.notice(incident.id, Step.TOPIC_AND_BOOKMARKS, result)
    if notice is not None and tell_the_room:
        await steps.attempt(chat.post(channel.id, notice))
