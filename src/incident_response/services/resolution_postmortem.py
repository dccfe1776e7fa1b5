"""The resolution's postmortem step: the draft filed once in the issue tracker, linked everywhere.

Its own module because it is the one step with a fallback of its own (a skeleton when the
drafter fails) and the one whose timing is a metric (resolve to postmortem).
"""

from __future__ import annotations

from typing import Any, Protocol

from incident_response.domain.audit import AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.context import Change
from incident_response.domain.incident import Incident, PostmortemRef
from incident_response.ports import Chat, IssueTracker
from incident_response.services.postmortem import PostmortemWriter, postmortem_title, skeleton
from incident_response.services.resolution_steps import (
    ResolutionSteps,
    Step,
    describe,
    requested_at,
)
from incident_response.telemetry.logging import get_logger

__all__ = ["POSTMORTEM_BOOKMARK", "Say", "file_postmortem"]

log = get_logger(__name__)

A = AuditEventType
POSTMORTEM_BOOKMARK = "Postmortem"


class Say(Protocol):
    """Tells the war room; never raises (the Resolver's `_say`)."""

    async def __call__(self, incident: Incident, text: str, *, key: str | None = None) -> None: ...


async def file_postmortem(
    incident: Incident,
    *,
    issues: IssueTracker,
    writer: PostmortemWriter,
    chat: Chat,
    clock: Clock,
    steps: ResolutionSteps,
    say: Say,
) -> None:
    """Find or file the postmortem draft (written by the LLM, else a skeleton of the facts),
    link it from the incident, audit it, tell the room and bookmark it there."""
    filed = await issues.find_postmortem(incident.id)
    drafted_by = "found filed"
    if filed is None:
        raw = incident.resolution_steps.get(Step.CHANGES.value, {}).get("changes", [])
        changes = [Change.model_validate(c) for c in raw]
        context = await writer.context(
            incident, changes=changes, resolved_at=requested_at(incident)
        )
        try:
            body = await writer.draft(context)
            drafted_by = "llm"
        except Exception as exc:
            log.warning("resolution.postmortem_llm_failed", incident_id=incident.id)
            body = skeleton(context, problem=describe(exc))
            drafted_by = "skeleton"
            await say(
                incident,
                f"The postmortem drafter failed ({describe(exc)}): the draft holds the facts only.",
            )
        filed = await issues.file_postmortem(
            key=incident.id,
            title=postmortem_title(incident),
            body=body,
            severity=incident.severity,
            owner_email=incident.ic,
        )
    now = clock.now()
    asked = requested_at(incident) or now
    seconds = round((now - asked).total_seconds(), 3)
    ref = PostmortemRef(id=filed.id, url=filed.url)
    await steps.mutate(
        incident.id,
        lambda i: None if i.postmortem == ref else i.update(postmortem=ref, updated_at=now),
    )
    await steps.append(
        incident.id,
        A.POSTMORTEM_CREATED,
        f"postmortem-created:{incident.id}",
        actor="system",
        data={
            "postmortem_id": filed.id,
            "url": filed.url,
            "resolve_to_postmortem_seconds": seconds,
            "drafted_by": drafted_by,
        },
    )
    await say(
        incident,
        f"Postmortem draft filed: {filed.url}",
        key=f"{incident.id}:postmortem-filed",
    )
    bookmarked = await _bookmark(incident, filed.url, chat=chat)
    await steps.record(
        incident.id,
        Step.POSTMORTEM,
        {
            "id": filed.id,
            "url": filed.url,
            "resolve_to_postmortem_seconds": seconds,
            "bookmark": bookmarked,
        },
    )


async def _bookmark(incident: Incident, url: str, *, chat: Chat) -> dict[str, Any]:
    """The draft one click away in the room (while it is still open: archiving comes
    later). Adapters add a URL once, so a resumed step does not bookmark it twice."""
    if incident.channel is None:
        return {"ok": False, "error": "no war room"}
    try:
        await chat.add_bookmark(incident.channel.id, title=POSTMORTEM_BOOKMARK, url=url)
    except Exception as exc:
        log.warning("resolution.bookmark_failed", incident_id=incident.id, exc_info=True)
        return {"ok": False, "error": describe(exc)}
    return {"ok": True}
