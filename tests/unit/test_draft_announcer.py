"""The announcer shows a draft in its war room once per version, and never fails the draft."""

from __future__ import annotations

from typing import Any

from incident_response.domain.chat import ChatMessage
from incident_response.services.draft_announcer import DraftAnnouncer
from tests.contract.incident_samples import sample_incident


class Store:
    def __init__(self, incident: Any) -> None:
        self.incident = incident

    async def get(self, incident_id: str, *, consistent: bool = True) -> Any:
        return self.incident if incident_id == self.incident.id else None


class Chat:
    def __init__(self, *, down: bool = False) -> None:
        self.posted: list[tuple[str, ChatMessage]] = []
        self.down = down

    async def post(self, channel_id: str, message: ChatMessage) -> str:
        if self.down:
            raise ConnectionError("chat unreachable")
        self.posted.append((channel_id, message))
        return "m1"


def with_draft() -> Any:
    from datetime import UTC, datetime

    from incident_response.domain.incident import ChannelRef
    from incident_response.domain.status_update import StatusDraft

    now = datetime(2026, 12, 1, tzinfo=UTC)
    draft = StatusDraft(
        id="d1",
        body="We are investigating.",
        created_by="a@x.test",
        created_at=now,
        updated_at=now,
        content_hash="",
    ).sealed()
    return sample_incident().update(channel=ChannelRef(id="C1", name="inc-p1-x"), drafts=(draft,))


async def test_the_draft_card_is_posted_in_the_room() -> None:
    incident, chat = with_draft(), Chat()

    shown = await DraftAnnouncer(store=Store(incident), chat=chat).announce(incident.id, "d1")  # type: ignore[arg-type]

    assert shown
    [(channel, card)] = chat.posted
    assert channel == "C1"
    assert "d1" in str(card.key)  # keyed per draft version: a retried request shows it once
    assert any(b.value == "d1:1" for b in card.buttons)


async def test_no_room_or_no_draft_posts_nothing() -> None:
    incident, chat = with_draft(), Chat()
    announcer = DraftAnnouncer(store=Store(incident.update(channel=None)), chat=chat)  # type: ignore[arg-type]

    assert not await announcer.announce(incident.id, "d1")
    assert not await DraftAnnouncer(store=Store(incident), chat=chat).announce(incident.id, "nope")  # type: ignore[arg-type]
    assert chat.posted == []


async def test_a_chat_outage_never_fails_the_draft() -> None:
    incident = with_draft()

    shown = await DraftAnnouncer(store=Store(incident), chat=Chat(down=True)).announce(
        incident.id, "d1"
    )  # type: ignore[arg-type]

    assert shown is False
