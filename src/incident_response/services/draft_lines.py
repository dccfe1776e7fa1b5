"""The war room's line for each thing that happens to a status draft: made, edited, rejected,
published. One line each, saying who did what, so the room shows the customer-facing story
whichever surface it happened on (Slack, the console, the API, an agent over MCP). A new
draft's line links to its approval screen and names the IC who must approve it.

Observers of the StatusUpdateGate (`draft_changed`). Lines are keyed per draft version and
change, so a change told twice (a retried request, recovery) shows once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from incident_response.domain.audit import AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.checklist import ChecklistEvent
from incident_response.domain.incident import Incident
from incident_response.domain.responder_names import SYSTEM
from incident_response.domain.status_update import DraftKind, DraftStatus, StatusDraft
from incident_response.ports import Chat, Directory, IncidentStore
from incident_response.services.checklist_ticks import ChecklistTicks

__all__ = ["DraftLines", "FirstUpdateTicks", "approval_screen"]

# (who did it, the incident, the draft, the approval screen's link, who approves it) -> the line
Line = Callable[[str, Incident, StatusDraft, str, str], str]


def approval_screen(base_url: str, incident_id: str, draft_id: str) -> str:
    """Where the draft is read, edited and approved in the console."""
    return f"{base_url.rstrip('/')}/console/incidents/{incident_id}#draft-{draft_id}"


def _what(draft: StatusDraft) -> str:
    kind = "resolved status update" if draft.kind is DraftKind.RESOLVED else "status update"
    return f"{kind} {draft.id}"


def _made(who: str, incident: Incident, draft: StatusDraft, link: str, approver: str) -> str:
    made = f"{who} drafted {_what(draft)} (version {draft.version})"
    if approver:
        return f"{made} for {approver} to approve: {link}"
    return f"{made}: review and approve it at {link}"


def _edited(who: str, incident: Incident, draft: StatusDraft, link: str, approver: str) -> str:
    return f"{who} edited {_what(draft)}: version {draft.version} waits for approval."


def _rejected(who: str, incident: Incident, draft: StatusDraft, link: str, approver: str) -> str:
    why = f": {draft.rejected_reason}" if draft.rejected_reason else " (no reason given)"
    return f"{who} rejected {_what(draft)} version {draft.version}{why}"


def _published(who: str, incident: Incident, draft: StatusDraft, link: str, approver: str) -> str:
    page = incident.status_page
    where = f" ({page.url})" if page is not None and page.url else ""
    return f"{who} approved and published {_what(draft)} version {draft.version}{where}."


LINES: Mapping[AuditEventType, tuple[str, Line]] = {
    AuditEventType.STATUSPAGE_DRAFT_CREATED: ("made", _made),
    AuditEventType.STATUSPAGE_DRAFT_REVISED: ("edited", _edited),
    AuditEventType.STATUSPAGE_APPROVAL_REJECTED: ("rejected", _rejected),
    AuditEventType.STATUSPAGE_PUBLISHED: ("published", _published),
}


class DraftLines:
    """`base_url` is the console's, for the approval screen's link."""

    def __init__(
        self, *, store: IncidentStore, chat: Chat, directory: Directory, base_url: str
    ) -> None:
        self._store = store
        self._chat = chat
        self._directory = directory
        self._base_url = base_url

    async def draft_changed(
        self, change: AuditEventType, incident_id: str, draft: StatusDraft, *, actor: str
    ) -> None:
        found = LINES.get(change)
        incident = await self._store.get(incident_id)
        if found is None or incident is None or incident.channel is None:
            return
        name, line = found
        link = approval_screen(self._base_url, incident_id, draft.id)
        made = change is AuditEventType.STATUSPAGE_DRAFT_CREATED
        approver = await self._approver(incident, actor) if made else ""
        text = line(await self._who(actor), incident, draft, link, approver)
        key = f"{incident_id}:draft-line:{name}:{draft.id}:v{draft.version}"
        await self._chat.post(incident.channel.id, ChatMessage(text=text, key=key))

    async def _approver(self, incident: Incident, actor: str) -> str:
        """The IC, mentioned so they are told a draft waits for them; empty when the IC drafted
        it (or there is none)."""
        if not incident.ic or incident.ic.casefold() == actor.casefold():
            return ""
        ic = await self._directory.person(incident.ic)
        return self._chat.mention(ic) if ic is not None else incident.ic

    async def _who(self, actor: str) -> str:
        """The actor by name (their own line need not notify them)."""
        if actor in ("", SYSTEM):
            return "incident-response"
        person = await self._directory.person(actor)
        return person.name if person is not None and person.name else actor


class FirstUpdateTicks:
    """Ticks the checklist items the first published status update asks for."""

    def __init__(self, *, store: IncidentStore, ticks: ChecklistTicks) -> None:
        self._store = store
        self._ticks = ticks

    async def draft_changed(
        self, change: AuditEventType, incident_id: str, draft: StatusDraft, *, actor: str
    ) -> None:
        if change is not AuditEventType.STATUSPAGE_PUBLISHED:
            return
        incident = await self._store.get(incident_id)
        drafts = incident.drafts if incident is not None else ()
        published = [d.id for d in drafts if d.status is DraftStatus.PUBLISHED]
        if published == [draft.id]:
            await self._ticks.happened(incident_id, ChecklistEvent.FIRST_UPDATE_PUBLISHED)
