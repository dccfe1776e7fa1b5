"""Slack's mention markup lives in the adapter: spelt for people going out, made plain coming in."""

from __future__ import annotations

import pytest

from incident_response.adapters.slack.markup import SlackMarkup
from incident_response.adapters.slack.mentions import plain_command_text
from incident_response.domain.people import Person


def test_a_person_with_a_slack_account_is_mentioned_so_slack_notifies_them() -> None:
    carol = Person(email="carol@example.com", name="Carol Nguyen", chat_id="U0CAROL")

    markup = SlackMarkup()
    assert markup.render(markup.mention(carol)) == "<@U0CAROL>"


def test_a_person_without_a_slack_account_is_named() -> None:
    erin = Person(email="erin@example.com", name="Erin Silva")

    assert SlackMarkup().mention(erin) == "Erin Silva"


@pytest.mark.parametrize(
    ("typed", "plain"),
    [
        ("ic <@U0BOB2>", "ic @U0BOB2"),
        ("ic <@U0BOB2|bob>", "ic @U0BOB2"),
        ("invite <mailto:carol@example.com|carol@example.com>", "invite carol@example.com"),
        ("invite <mailto:carol@example.com>", "invite carol@example.com"),
        ("ic Carol Nguyen", "ic Carol Nguyen"),
        ("ic @UBOB2", "ic @UBOB2"),
        ("checklist toggle 2", "checklist toggle 2"),
        ("note DB &amp; cache &lt;3 &gt; 2", "note DB & cache <3 > 2"),
        ("note &amp;lt; stays", "note &lt; stays"),
        (
            "note see <https://runbooks.example/db|runbooks.example/db>",
            "note see https://runbooks.example/db",
        ),
        ("note see <https://runbooks.example/db>", "note see https://runbooks.example/db"),
        ("note ask in <#C0OPS|ops-help>", "note ask in #ops-help"),
    ],
)
def test_slash_command_text_reaches_the_commands_plain(typed: str, plain: str) -> None:
    assert plain_command_text(typed) == plain
