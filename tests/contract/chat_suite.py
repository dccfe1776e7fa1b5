"""Conformance suite for the Chat port.

Subclass `ChatContract` in a `test_*.py` module and provide two fixtures:
- `chat`: the adapter under test, fresh for each test;
- `chat_probe`: a `ChatProbe` showing what people in the chat would see (for Slack, the fake
  Web API's records; for the console, its read methods).
"""

from __future__ import annotations

import asyncio
from typing import Protocol

import pytest

from incident_response.domain.chat import ChatButton, ChatMessage
from incident_response.domain.errors import AlreadyExists, NotFound
from incident_response.domain.people import Person
from incident_response.ports import Chat


class ChatProbe(Protocol):
    async def texts(self, channel_id: str) -> list[str]: ...
    def seen_mention(self, person: Person) -> str:
        """How people in the room see a mention of `person` made by `Chat.mention`."""
        ...

    async def members(self, channel_id: str) -> list[str]: ...
    async def pinned_texts(self, channel_id: str) -> list[str]: ...
    async def topic(self, channel_id: str) -> str: ...
    async def bookmarks(self, channel_id: str) -> list[tuple[str, str]]: ...
    async def archived(self, channel_id: str) -> bool: ...
    async def direct_texts(self, user_id: str) -> list[str]: ...


class ChatContract:
    async def test_adapter_implements_the_port(self, chat: Chat) -> None:
        assert isinstance(chat, Chat)

    async def test_create_channel_gives_the_channel_its_name(self, chat: Chat) -> None:
        ref = await chat.create_channel(name="inc-101-checkout", incident_id="inc-101")
        assert ref.id
        assert ref.name == "inc-101-checkout"

    async def test_retried_create_for_the_same_incident_returns_the_same_channel(
        self, chat: Chat
    ) -> None:
        first = await chat.create_channel(name="inc-102-api", incident_id="inc-102")
        again = await chat.create_channel(name="inc-102-api", incident_id="inc-102")
        assert again.id == first.id

    async def test_concurrent_creates_for_one_incident_make_one_channel(self, chat: Chat) -> None:
        refs = await asyncio.gather(
            *(chat.create_channel(name="inc-103-api", incident_id="inc-103") for _ in range(4))
        )
        assert len({r.id for r in refs}) == 1

    async def test_a_name_held_by_another_incident_is_refused(self, chat: Chat) -> None:
        await chat.create_channel(name="inc-104-api", incident_id="inc-104")
        with pytest.raises(AlreadyExists):
            await chat.create_channel(name="inc-104-api", incident_id="inc-999")

    async def test_distinct_names_make_distinct_channels(self, chat: Chat) -> None:
        a = await chat.create_channel(name="inc-105-a", incident_id="inc-105")
        b = await chat.create_channel(name="inc-106-b", incident_id="inc-106")
        assert a.id != b.id

    async def test_posted_message_is_seen_in_the_channel(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-107", incident_id="inc-107")
        message_id = await chat.post(ref.id, ChatMessage(text="War room open for checkout"))
        assert message_id
        assert "War room open for checkout" in await chat_probe.texts(ref.id)

    async def test_posting_the_same_key_twice_posts_once(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-108", incident_id="inc-108")
        message = ChatMessage(text="Checklist", key="checklist")
        first = await chat.post(ref.id, message)
        second = await chat.post(ref.id, message)
        assert second == first
        assert (await chat_probe.texts(ref.id)).count("Checklist") == 1

    async def test_concurrent_posts_with_one_key_post_once(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-109", incident_id="inc-109")
        message = ChatMessage(text="Context snapshot", key="snapshot")
        ids = await asyncio.gather(*(chat.post(ref.id, message) for _ in range(4)))
        assert len(set(ids)) == 1
        assert (await chat_probe.texts(ref.id)).count("Context snapshot") == 1

    async def test_a_key_is_scoped_to_its_channel(self, chat: Chat, chat_probe: ChatProbe) -> None:
        a = await chat.create_channel(name="inc-110-a", incident_id="inc-110")
        b = await chat.create_channel(name="inc-111-b", incident_id="inc-111")
        message = ChatMessage(text="Welcome", key="welcome")
        assert await chat.post(a.id, message) != await chat.post(b.id, message)
        assert await chat_probe.texts(a.id) == ["Welcome"]
        assert await chat_probe.texts(b.id) == ["Welcome"]

    async def test_messages_without_a_key_are_all_posted_in_order(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-112", incident_id="inc-112")
        for text in ("one", "two", "two"):
            await chat.post(ref.id, ChatMessage(text=text))
        assert await chat_probe.texts(ref.id) == ["one", "two", "two"]

    async def test_update_replaces_the_text_of_the_same_message(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-113", incident_id="inc-113")
        button = ChatButton(action="approve_draft", label="Approve & Publish", value="d1:1")
        message_id = await chat.post(ref.id, ChatMessage(text="Draft v1", buttons=(button,)))
        await chat.update(ref.id, message_id, ChatMessage(text="Draft v1 (published)"))
        assert await chat_probe.texts(ref.id) == ["Draft v1 (published)"]

    async def test_a_pinned_message_updated_stays_pinned_and_shows_the_new_text(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        """The war room's checklist is pinned once and edited on every tick."""
        ref = await chat.create_channel(name="inc-113b", incident_id="inc-113b")
        checklist = ChatMessage(text="P2 checklist: 0/2 done", key="inc-113b:checklist")
        message_id = await chat.post(ref.id, checklist)
        await chat.pin(ref.id, message_id)
        ticked = checklist.model_copy(update={"text": "P2 checklist: 1/2 done"})
        await chat.update(ref.id, message_id, ticked)
        assert await chat_probe.pinned_texts(ref.id) == ["P2 checklist: 1/2 done"]
        assert await chat.post(ref.id, checklist) == message_id  # still found by its key

    async def test_invited_people_become_members(self, chat: Chat, chat_probe: ChatProbe) -> None:
        ref = await chat.create_channel(name="inc-114", incident_id="inc-114")
        alice = await chat.user_id_for(
            Person(email="alice@example.com", name="Alice", chat_id="U0ALICE")
        )
        assert alice is not None
        result = await chat.invite(ref.id, [alice])
        assert alice in result.invited
        assert not result.failed
        assert alice in await chat_probe.members(ref.id)

    async def test_inviting_a_member_again_is_not_a_failure(self, chat: Chat) -> None:
        ref = await chat.create_channel(name="inc-115", incident_id="inc-115")
        alice = await chat.user_id_for(
            Person(email="alice@example.com", name="Alice", chat_id="U0ALICE")
        )
        assert alice is not None
        await chat.invite(ref.id, [alice])
        again = await chat.invite(ref.id, [alice])
        assert not again.failed

    async def test_pin_topic_and_bookmark_are_visible(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-116", incident_id="inc-116")
        message_id = await chat.post(ref.id, ChatMessage(text="Checklist", key="checklist"))
        await chat.pin(ref.id, message_id)
        await chat.set_topic(ref.id, "P1 checkout: IC alice")
        await chat.add_bookmark(ref.id, title="Runbook", url="https://runbooks.example.com/c")
        assert await chat_probe.pinned_texts(ref.id) == ["Checklist"]
        assert await chat_probe.topic(ref.id) == "P1 checkout: IC alice"
        assert ("Runbook", "https://runbooks.example.com/c") in await chat_probe.bookmarks(ref.id)

    async def test_a_bookmark_is_added_once_per_url(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-120", incident_id="inc-120")
        runbook, dashboard = "https://runbooks.example.com/c", "https://grafana.example.com/d/c"
        await chat.add_bookmark(ref.id, title="Runbook", url=runbook)
        await chat.add_bookmark(ref.id, title="Dashboard", url=dashboard)
        await chat.add_bookmark(ref.id, title="Runbook", url=runbook)
        await asyncio.gather(
            *(chat.add_bookmark(ref.id, title="Dashboard", url=dashboard) for _ in range(3))
        )
        assert await chat_probe.bookmarks(ref.id) == [
            ("Runbook", runbook),
            ("Dashboard", dashboard),
        ]

    async def test_a_bookmarked_url_added_under_a_new_title_is_renamed(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-121", incident_id="inc-121")
        await chat.add_bookmark(ref.id, title="Postmortem", url="https://pm.example.com/1")
        await chat.add_bookmark(ref.id, title="Postmortem draft", url="https://pm.example.com/1")
        assert await chat_probe.bookmarks(ref.id) == [
            ("Postmortem draft", "https://pm.example.com/1")
        ]

    async def test_pinning_twice_pins_once(self, chat: Chat, chat_probe: ChatProbe) -> None:
        ref = await chat.create_channel(name="inc-117", incident_id="inc-117")
        message_id = await chat.post(ref.id, ChatMessage(text="Checklist"))
        await chat.pin(ref.id, message_id)
        await chat.pin(ref.id, message_id)
        assert await chat_probe.pinned_texts(ref.id) == ["Checklist"]

    async def test_archive_archives_and_is_idempotent(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-118", incident_id="inc-118")
        assert not await chat_probe.archived(ref.id)
        await chat.archive(ref.id)
        await chat.archive(ref.id)
        assert await chat_probe.archived(ref.id)

    async def test_direct_message_reaches_the_person(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        bob = await chat.user_id_for(Person(email="bob@example.com", name="Bob", chat_id="U0BOB"))
        assert bob is not None
        await chat.send_direct(bob, ChatMessage(text="You are paged for inc-119"))
        assert "You are paged for inc-119" in await chat_probe.direct_texts(bob)

    async def test_user_id_prefers_the_roster_chat_id(self, chat: Chat) -> None:
        person = Person(email="carol@example.com", name="Carol", chat_id="U0CAROL")
        assert await chat.user_id_for(person) == "U0CAROL"

    async def test_user_id_is_stable_for_a_person(self, chat: Chat) -> None:
        person = Person(email="dan@example.com", name="Dan", chat_id="U0DAN")
        assert await chat.user_id_for(person) == await chat.user_id_for(person)

    async def test_someone_without_a_chat_account_is_mentioned_by_name(self, chat: Chat) -> None:
        erin = Person(email="erin@example.com", name="Erin Silva")
        assert chat.mention(erin) == "Erin Silva"

    async def test_a_mention_in_a_message_reaches_the_room(
        self, chat: Chat, chat_probe: ChatProbe
    ) -> None:
        ref = await chat.create_channel(name="inc-140", incident_id="inc-140")
        carol = Person(email="carol@example.com", name="Carol Nguyen", chat_id="U0CAROL")
        await chat.post(
            ref.id, ChatMessage(text=f"{chat.mention(carol)}, please publish an update.")
        )
        seen = f"{chat_probe.seen_mention(carol)}, please publish an update."
        assert seen in await chat_probe.texts(ref.id)

    async def test_posting_to_an_unknown_channel_is_not_found(self, chat: Chat) -> None:
        with pytest.raises(NotFound):
            await chat.post("C0NOSUCHCHANNEL", ChatMessage(text="hello"))
