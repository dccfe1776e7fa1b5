"""Drafts made away from the war room are shown in it.

The IC works in the room (Slack or the console). A draft asked for there gets its card from the
surface that asked; a draft made over the API or by an agent over MCP would otherwise wait
unseen. The announcer posts the same card (the text, what the public page will show, Approve &
Publish) in the room; the card is keyed per draft version, so a retried request shows it once.
"""

from __future__ import annotations

from incident_response.ports import Chat, IncidentStore
from incident_response.services.draft_card import draft_card
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


class DraftAnnouncer:
    def __init__(self, *, store: IncidentStore, chat: Chat) -> None:
        self._store = store
        self._chat = chat

    async def announce(self, incident_id: str, draft_id: str) -> bool:
        """Post the draft's card in the incident's room; False when there is no room or draft.
        Never raises: the draft exists whatever the chat does, and the room shows it on
        `status` later."""
        try:
            incident = await self._store.get(incident_id)
            draft = incident.draft(draft_id) if incident is not None else None
            if incident is None or draft is None or incident.channel is None:
                return False
            await self._chat.post(incident.channel.id, draft_card(incident, draft))
        except Exception:
            log.exception("draft.announce_failed", incident_id=incident_id, draft_id=draft_id)
            return False
        return True
