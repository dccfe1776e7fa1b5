"""SlackChat against the fake Slack (a real HTTP server checking every call against the
published Web API contract and Slack's tier limits)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.slack.chat import SlackChat
from incident_response.adapters.slack.client import SlackWebApi
from incident_response.adapters.slack.pacing import RateTable
from incident_response.domain.people import Person
from tests.fakes.slack import FakeSlack

PEOPLE = [
    {"id": "U0ALICE", "email": "alice@example.com", "name": "Alice Martin"},
    {"id": "U0BOB", "email": "bob@example.com", "name": "Bob Okafor"},
    {"id": "U0CAROL", "email": "carol@example.com", "name": "Carol Nguyen"},
    {"id": "U0DAN", "email": "dan@example.com", "name": "Dan Kowalski"},
    {"id": "U0ERIN", "email": "erin@example.com", "name": "Erin Silva"},
]
# a fake minute lasts 0.6 s: the tiers' ratios hold, the tests stay fast
TIME_SCALE = 0.01


class FakeSlackProbe:
    """What people in the fake workspace would see (the ChatProbe of the Chat suite)."""

    def __init__(self, slack: FakeSlack) -> None:
        self.slack = slack

    async def texts(self, channel_id: str) -> list[str]:
        return [m.text for m in self.slack.messages[channel_id]]

    def seen_mention(self, person: Person) -> str:
        return f"<@{person.chat_id}>" if person.chat_id else person.name

    async def members(self, channel_id: str) -> list[str]:
        return sorted(self.slack.channels[channel_id].members)

    async def pinned_texts(self, channel_id: str) -> list[str]:
        by_ts = {m.ts: m.text for m in self.slack.messages[channel_id]}
        return [by_ts[ts] for ts in self.slack.pins[channel_id]]

    async def topic(self, channel_id: str) -> str:
        return str(self.slack.channels[channel_id].topic.value)

    async def bookmarks(self, channel_id: str) -> list[tuple[str, str]]:
        return [(b.title, b.link) for b in self.slack.bookmarks[channel_id]]

    async def archived(self, channel_id: str) -> bool:
        return bool(self.slack.channels[channel_id].is_archived)

    async def direct_texts(self, user_id: str) -> list[str]:
        bot = self.slack.workspace.bot_user_id
        ims = [
            c.id for c in self.slack.channels.values() if c.is_im and c.members == {bot, user_id}
        ]
        return [m.text for channel in ims for m in self.slack.messages[channel]]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    """The fake Slack, failing the test if anything broke Slack's contract."""
    async with FakeSlack(users=PEOPLE, time_scale=TIME_SCALE) as slack:
        yield slack
    assert not slack.violations, slack.violations


@pytest.fixture
def slack(fake_slack: FakeSlack) -> FakeSlack:
    return fake_slack


@pytest.fixture
async def slack_api(fake_slack: FakeSlack) -> AsyncIterator[SlackWebApi]:
    api = SlackWebApi(token=fake_slack.bot_token, base_url=fake_slack.api_url)
    yield api
    await api.aclose()


@pytest.fixture
async def slack_chat(slack_api: SlackWebApi) -> AsyncIterator[SlackChat]:
    chat = SlackChat(api=slack_api, rates=RateTable().scaled(TIME_SCALE))
    yield chat
    await chat.aclose()
