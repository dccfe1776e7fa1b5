"""Block Kit rendering: Slack's limits hold whatever the message, and markup survives."""

from __future__ import annotations

from incident_response.adapters.slack.blocks import (
    action_of,
    escape,
    marker_of,
    message_blocks,
)
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage


def test_buttons_of_one_action_get_unique_ids_that_map_back() -> None:
    message = ChatMessage(
        text="Checklist",
        buttons=tuple(
            ChatButton(action="checklist.toggle", label=f"Item {n}", value=f"i{n}")
            for n in range(30)
        ),
    )
    blocks = message_blocks(message)
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
    [_, actions] = message_blocks(ChatMessage(text="Draft", buttons=(button,)))
    [element] = actions["elements"]
    assert len(element["text"]["text"]) == 75
    assert element["style"] == "primary"
    assert element["confirm"]["text"]["text"] == "Publish &lt;exactly&gt; this?"
    assert {"title", "confirm", "deny"} <= set(element["confirm"])


def test_long_text_is_split_into_sections_and_never_past_fifty_blocks() -> None:
    long = "\n".join(f"line {n} " + "x" * 90 for n in range(3000))
    blocks = message_blocks(ChatMessage(text="Timeline", sections=(long,)))
    assert len(blocks) == 50
    assert all(len(b["text"]["text"]) <= 3000 for b in blocks)


def test_the_key_marks_the_first_block_and_can_be_read_back() -> None:
    blocks = message_blocks(ChatMessage(text="Checklist", key="inc-1:checklist"))
    assert marker_of(blocks) == "irk:inc-1:checklist"
    long_key = "k" * 400
    assert len(str(message_blocks(ChatMessage(text="x", key=long_key))[0]["block_id"])) <= 255
    assert marker_of([{"type": "section", "block_id": "abc"}]) is None


def test_escape_keeps_slack_markup_and_escapes_the_rest() -> None:
    text = "<@U0ALICE> see <https://grafana.example.com|the dash> when a<b & c>d <!here>"
    assert escape(text) == (
        "<@U0ALICE> see <https://grafana.example.com|the dash> when a&lt;b &amp; c&gt;d <!here>"
    )
