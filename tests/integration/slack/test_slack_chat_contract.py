"""SlackChat passes the Chat port's conformance suite against the fake Slack."""

from __future__ import annotations

import pytest

from incident_response.adapters.slack.chat import SlackChat
from tests.contract.chat_suite import ChatContract
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import FakeSlackProbe


class TestSlackChat(ChatContract):
    @pytest.fixture
    def chat(self, slack_chat: SlackChat) -> SlackChat:
        return slack_chat

    @pytest.fixture
    def chat_probe(self, fake_slack: FakeSlack) -> FakeSlackProbe:
        return FakeSlackProbe(fake_slack)
