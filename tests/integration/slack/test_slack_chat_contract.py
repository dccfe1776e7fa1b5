"""SlackChat passes the Chat port's conformance suite against the fake Slack."""

from __future__ import annotations

import pytest

from incident_response.adapters.slack.chat import SlackChat
from incident_response.adapters.slack.client import SlackWebApi
from incident_response.adapters.slack.pacing import RateTable
from incident_response.domain.chat import ChatMessage
from incident_response.domain.people import Person
from tests.contract.chat_suite import ChatContract
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import TIME_SCALE, FakeSlackProbe


class TestSlackChat(ChatContract):
    @pytest.fixture
    def chat(self, slack_chat: SlackChat) -> SlackChat:
        return slack_chat

    @pytest.fixture
    def chat_probe(self, fake_slack: FakeSlack) -> FakeSlackProbe:
        return FakeSlackProbe(fake_slack)


async def test_a_restarted_process_adds_no_second_bookmark(
    fake_slack: FakeSlack, slack_api: SlackWebApi, slack_chat: SlackChat
) -> None:
    """What a resumed assembly or resolution relies on: bookmarks an earlier process added are
    found in the channel (read once) instead of being added again."""
    ref = await slack_chat.create_channel(name="inc-130", incident_id="inc-130")
    await slack_chat.add_bookmark(ref.id, title="Runbook", url="https://runbooks.example.com/c")
    restarted = SlackChat(api=slack_api, rates=RateTable().scaled(TIME_SCALE))
    try:
        for _ in range(2):
            await restarted.add_bookmark(
                ref.id, title="Runbook", url="https://runbooks.example.com/c"
            )
        await restarted.add_bookmark(ref.id, title="Status page", url="https://status.example.com")
    finally:
        await restarted.aclose()

    assert [(b.title, b.link) for b in fake_slack.bookmarks[ref.id]] == [
        ("Runbook", "https://runbooks.example.com/c"),
        ("Status page", "https://status.example.com"),
    ]
    assert len(fake_slack.calls_to("bookmarks.list")) == 1
    assert len(fake_slack.calls_to("bookmarks.add")) == 2


async def test_a_mention_is_slacks_markup_for_the_account(
    fake_slack: FakeSlack, slack_chat: SlackChat
) -> None:
    """Slack notifies someone only for `<@U…>`; the core never spells it (Chat.mention does)."""
    carol = Person(email="carol@example.com", name="Carol Nguyen", chat_id="U0CAROL")
    ref = await slack_chat.create_channel(name="inc-131", incident_id="inc-131")

    await slack_chat.post(ref.id, ChatMessage(text=f"{slack_chat.mention(carol)}, over to you."))

    assert [m.text for m in fake_slack.messages[ref.id]] == ["<@U0CAROL>, over to you."]
    assert "<@" not in slack_chat.mention(carol)  # a token only SlackChat turns into markup
