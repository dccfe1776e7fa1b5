"""The console chat against the Chat suite, plus what only the console promises."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from incident_response.adapters.console import ConsoleChat, derived_user_id
from incident_response.adapters.embedded.db import Database
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.people import Person
from tests.contract.chat_suite import ChatContract
from tests.support.clock import ManualClock

BASE_URL = "http://127.0.0.1:8080/"


class ConsoleProbe:
    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def texts(self, channel_id: str) -> list[str]:
        return [m.text for m in await self.chat.messages(channel_id)]

    def seen_mention(self, person: Person) -> str:
        return person.name

    async def members(self, channel_id: str) -> list[str]:
        return await self.chat.members(channel_id)

    async def pinned_texts(self, channel_id: str) -> list[str]:
        by_id = {m.id: m.text for m in await self.chat.messages(channel_id)}
        return [by_id[i] for i in await self.chat.pins(channel_id)]

    async def topic(self, channel_id: str) -> str:
        channel = await self.chat.channel(channel_id)
        assert channel is not None
        return channel.topic

    async def bookmarks(self, channel_id: str) -> list[tuple[str, str]]:
        return [(b.title, b.url) for b in await self.chat.bookmarks(channel_id)]

    async def archived(self, channel_id: str) -> bool:
        channel = await self.chat.channel(channel_id)
        assert channel is not None
        return channel.archived

    async def direct_texts(self, user_id: str) -> list[str]:
        return [m.text for m in await self.chat.direct_messages(user_id)]


@pytest.fixture
def console(db: Database, clock: ManualClock) -> ConsoleChat:
    return ConsoleChat(db, base_url=BASE_URL, clock=clock)


class TestConsoleChat(ChatContract):
    @pytest.fixture
    def chat(self, console: ConsoleChat) -> ConsoleChat:
        return console

    @pytest.fixture
    def chat_probe(self, console: ConsoleChat) -> ConsoleProbe:
        return ConsoleProbe(console)


async def test_channel_url_points_at_the_incident_in_the_console(console: ConsoleChat) -> None:
    ref = await console.create_channel(name="inc-abc-checkout", incident_id="inc-abc")
    assert ref.url == "http://127.0.0.1:8080/console/incidents/inc-abc"


async def test_everything_survives_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    path = tmp_path / "ir.sqlite3"
    first = await Database(path).open()
    try:
        chat = ConsoleChat(first, base_url=BASE_URL, clock=clock)
        ref = await chat.create_channel(name="inc-1", incident_id="inc-1")
        button = ChatButton(
            action="approve_draft",
            label="Approve & Publish",
            value="d1:1",
            style=ButtonStyle.PRIMARY,
            confirm="Publish this text to the public status page?",
        )
        message = ChatMessage(
            text="Draft v1",
            sections=("*Draft*", "We are investigating."),
            buttons=(button,),
            key="draft-d1",
        )
        message_id = await chat.post(ref.id, message)
        await chat.pin(ref.id, message_id)
        await chat.invite(ref.id, ["U1", "U2"])
        await chat.set_topic(ref.id, "P1 checkout")
        await chat.add_bookmark(ref.id, title="Runbook", url="https://runbooks.example.com/c")
        await chat.archive(ref.id)
    finally:
        await first.close()

    second = await Database(path).open()
    try:
        chat = ConsoleChat(second, base_url=BASE_URL, clock=clock)
        again = await chat.create_channel(name="inc-1", incident_id="inc-1")
        assert again == ref
        [stored] = await chat.messages(ref.id)
        assert (stored.id, stored.text, stored.sections, stored.buttons, stored.key) == (
            message_id,
            "Draft v1",
            ("*Draft*", "We are investigating."),
            (button,),
            "draft-d1",
        )
        assert stored.created_at == clock.now()
        assert await chat.post(ref.id, message) == message_id
        assert await chat.pins(ref.id) == [message_id]
        assert await chat.members(ref.id) == ["U1", "U2"]
        channel = await chat.channel(ref.id)
        assert channel is not None
        assert (channel.topic, channel.archived, channel.incident_id) == (
            "P1 checkout",
            True,
            "inc-1",
        )
    finally:
        await second.close()


async def test_update_keeps_the_key_so_a_retried_post_finds_the_message(
    console: ConsoleChat, clock: ManualClock
) -> None:
    ref = await console.create_channel(name="inc-2", incident_id="inc-2")
    message_id = await console.post(ref.id, ChatMessage(text="Draft v1", key="draft"))
    clock.advance(minutes=3)
    await console.update(ref.id, message_id, ChatMessage(text="Draft v1: published"))
    assert await console.post(ref.id, ChatMessage(text="Draft v1", key="draft")) == message_id
    [stored] = await console.messages(ref.id)
    assert stored.text == "Draft v1: published"
    assert stored.updated_at > stored.created_at


async def test_people_without_a_chat_id_get_a_stable_derived_id(console: ConsoleChat) -> None:
    erin = Person(email="Erin@Example.com", name="Erin")
    user_id = await console.user_id_for(erin)
    assert user_id == derived_user_id("erin@example.com")
    assert user_id == await console.user_id_for(Person(email="erin@example.com", name="Erin S"))
    assert user_id != await console.user_id_for(Person(email="frank@example.com", name="Frank"))
    assert await console.user_email(user_id) == "erin@example.com"


async def test_a_mention_is_the_persons_name(console: ConsoleChat) -> None:
    """The console notifies nobody, so a mention reads as the name, chat id or not."""
    carol = Person(email="carol@example.com", name="Carol Nguyen", chat_id="U0CAROL")
    assert console.mention(carol) == "Carol Nguyen"


@pytest.mark.parametrize("name", ["Inc-1", "inc 1", "inc.1", "", "x" * 81])
async def test_channel_names_follow_slack_rules(console: ConsoleChat, name: str) -> None:
    with pytest.raises(ValueError, match="channel name"):
        await console.create_channel(name=name, incident_id="inc-3")
    assert await console.channels() == []


async def test_a_channel_without_an_incident_for_announcements(console: ConsoleChat) -> None:
    ref = await console.create_channel(name="incidents", incident_id="")
    assert ref.url.endswith(f"/console/channels/{ref.id}")
    assert await console.create_channel(name="incidents", incident_id="") == ref
    found = await console.channel_by_name("incidents")
    assert found is not None
    assert found.id == ref.id


async def test_subscribers_hear_about_new_messages(console: ConsoleChat) -> None:
    queue = console.subscribe()
    ref = await console.create_channel(name="inc-4", incident_id="inc-4")
    message_id = await console.post(ref.id, ChatMessage(text="hello", key="k"))
    await console.post(ref.id, ChatMessage(text="hello", key="k"))
    changes = [queue.get_nowait() for _ in range(queue.qsize())]
    assert [(c.kind, c.message_id) for c in changes] == [
        ("channel_created", None),
        ("message", message_id),
    ]
    console.unsubscribe(queue)
    await console.post(ref.id, ChatMessage(text="later"))
    assert queue.empty()


async def test_a_slow_subscriber_never_blocks_posting(console: ConsoleChat) -> None:
    queue = console.subscribe()
    ref = await console.create_channel(name="inc-5", incident_id="inc-5")
    for i in range(queue.maxsize + 5):
        await asyncio.wait_for(console.post(ref.id, ChatMessage(text=str(i))), timeout=5)
    assert queue.full()
    assert len(await console.messages(ref.id)) == queue.maxsize + 5
