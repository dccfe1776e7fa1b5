"""Block Kit rendering: Slack's limits hold whatever the message, and markup survives."""

from __future__ import annotations

from incident_response.adapters.slack.blocks import (
    action_of,
    fallback_text,
    marker_of,
    message_blocks,
)
from incident_response.adapters.slack.markup import SlackMarkup
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.people import Person

MARKUP = SlackMarkup()


def test_buttons_of_one_action_get_unique_ids_that_map_back() -> None:
    message = ChatMessage(
        text="Checklist",
        buttons=tuple(
            ChatButton(action="checklist.toggle", label=f"Item {n}", value=f"i{n}")
            for n in range(30)
        ),
    )
    blocks = message_blocks(message, MARKUP)
    actions = [b for b in blocks if b["type"] == "actions"]
    ids = [e["action_id"] for b in actions for e in b["elements"]]
    assert [len(b["elements"]) for b in actions] == [25, 5]
    assert len(set(ids)) == 30
    assert {action_of(i) for i in ids} == {"checklist.toggle"}


def test_confirm_style_and_limits_of_a_button() -> None:
    button = ChatButton(
        action="draft.approve",
        label="A" * 100,
        value="d1:1",
        style=ButtonStyle.PRIMARY,
        confirm="Publish <exactly> this?",
    )
    [_, actions] = message_blocks(ChatMessage(text="Draft", buttons=(button,)), MARKUP)
    [element] = actions["elements"]
    assert len(element["text"]["text"]) == 75
    assert element["style"] == "primary"
    assert element["confirm"]["text"]["text"] == "Publish &lt;exactly&gt; this?"
    assert {"title", "confirm", "deny"} <= set(element["confirm"])


def test_long_text_is_split_into_sections_and_never_past_fifty_blocks() -> None:
    long = "\n".join(f"line {n} " + "x" * 90 for n in range(3000))
    blocks = message_blocks(ChatMessage(text="Timeline", sections=(long,)), MARKUP)
    assert len(blocks) == 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)


def test_the_key_marks_the_first_block_and_can_be_read_back() -> None:
    blocks = message_blocks(ChatMessage(text="Checklist", key="inc-1:checklist"), MARKUP)
    assert marker_of(blocks) == "irk:inc-1:checklist"
    long_key = "k" * 400
    assert (
        len(str(message_blocks(ChatMessage(text="x", key=long_key), MARKUP)[0]["block_id"])) <= 255
    )
    assert marker_of([{"type": "section", "block_id": "abc"}]) is None


HOSTILE = (
    "<!channel> <!here> <!everyone> <@U0ALICE> <#C0ROOM> "
    "<https://evil.example/x|Runbook> <mailto:a@evil.example|support> a<b & c>d"
)


def test_markup_from_alert_text_reaches_slack_as_text_in_blocks_and_notification() -> None:
    message = ChatMessage(text=HOSTILE, sections=(f"Labels: team={HOSTILE}",))

    rendered = [b["text"]["text"] for b in message_blocks(message, MARKUP)]
    notification = fallback_text(message, MARKUP)

    for text in [*rendered, notification]:
        assert "<" not in text  # no ping, no disguised link
        assert ">" not in text
        assert "&lt;!channel&gt;" in text
        assert "&lt;https://evil.example/x|Runbook&gt;" in text
        assert "a&lt;b &amp; c&gt;d" in text


def test_a_mention_the_adapter_made_is_the_only_markup_kept() -> None:
    alice = Person(email="alice@example.com", name="Alice", chat_id="U0ALICE")
    message = ChatMessage(text=f"{MARKUP.mention(alice)} is now IC; the alert said {HOSTILE}")

    [block] = message_blocks(message, MARKUP)

    assert block["text"]["text"].startswith("<@U0ALICE> is now IC; the alert said &lt;!channel&gt;")
    assert block["text"]["text"].count("<@") == 1
    assert fallback_text(message, MARKUP).startswith("<@U0ALICE> is now IC")


def test_another_processs_mention_token_or_a_forged_one_is_not_markup() -> None:
    other = SlackMarkup()
    forged = "\ue000" + "0" * 16 + "U0ALICE\ue001"
    message = ChatMessage(text=f"{other.user('U0BOB')} {forged}")

    [block] = message_blocks(message, MARKUP)

    assert "<@" not in block["text"]["text"]
    assert "\ue000" not in block["text"]["text"]


def test_a_confirm_dialog_is_escaped_too() -> None:
    button = ChatButton(action="draft.approve", label="Approve", value="d1:1", confirm=HOSTILE)

    [_, actions] = message_blocks(ChatMessage(text="Draft", buttons=(button,)), MARKUP)

    assert "<" not in actions["elements"][0]["confirm"]["text"]["text"]
