"""Block Kit rendering of the surface-neutral chat messages, and the modals the front end opens.

A message becomes: its `text` and each section as mrkdwn section blocks, then its buttons in
actions blocks. Slack's limits are respected by construction (3,000 characters per section,
25 elements per actions block, 50 blocks, 75 characters per button label, 2,000 per value).

The message key rides in the first block's `block_id` (`irk:<key>`), so a retried post can find
the first copy in `conversations.history` after a restart; see chat.py.

Button `action_id`s must be unique within a message, so the second and later buttons with one
action get `<action>#<n>`; `action_of` gives the action back.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from incident_response.adapters.slack.markup import SlackMarkup
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.public import (
    COMPONENT_STATUS_LABELS,
    IMPACT_LABELS,
    MAX_TITLE_CHARS,
    STAGE_LABELS,
    effective_status,
)
from incident_response.domain.status_update import StatusDraft

SECTION_MAX = 3000
BLOCKS_MAX = 50
ACTIONS_PER_BLOCK = 25
LABEL_MAX = 75
VALUE_MAX = 2000
TEXT_MAX = 39000
CONFIRM_MAX = 300
PLAIN_MAX = 150
KEY_PREFIX = "irk:"
BLOCK_ID_MAX = 255


def key_block_id(key: str) -> str:
    marker = KEY_PREFIX + key
    if len(marker) <= BLOCK_ID_MAX:
        return marker
    return f"{KEY_PREFIX}sha256:{hashlib.sha256(key.encode()).hexdigest()}"


def marker_of(blocks: Sequence[Mapping[str, Any]] | None) -> str | None:
    """The key marker (first block id) a posted message carries, if any."""
    if not blocks:
        return None
    block_id = blocks[0].get("block_id")
    return str(block_id) if isinstance(block_id, str) and block_id.startswith(KEY_PREFIX) else None


def action_of(action_id: str) -> str:
    return action_id.split("#", 1)[0]


def _plain(text: str, limit: int = PLAIN_MAX) -> dict[str, Any]:
    return {"type": "plain_text", "text": _cut(text, limit) or " ", "emoji": True}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "\u2026"


def _chunks(text: str, limit: int = SECTION_MAX) -> list[str]:
    """Split on line ends where possible, so no section exceeds Slack's limit."""
    chunks: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line) > limit:
            if current:
                chunks.append(current)
                current = ""
            chunks.append(line[:limit])
            line = line[limit:]
        if len(current) + len(line) > limit:
            chunks.append(current)
            current = ""
        current += line
    if current.strip():
        chunks.append(current)
    return [c.rstrip("\n") for c in chunks if c.strip()]


def section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}}


def button(spec: ChatButton, action_id: str, markup: SlackMarkup) -> dict[str, Any]:
    element: dict[str, Any] = {
        "type": "button",
        "action_id": action_id,
        "text": _plain(spec.label, LABEL_MAX),
        "value": spec.value[:VALUE_MAX],
    }
    if spec.style is not ButtonStyle.DEFAULT:
        element["style"] = spec.style.value
    if spec.confirm:
        element["confirm"] = {
            "title": _plain("Are you sure?", 100),
            "text": {"type": "mrkdwn", "text": markup.render(_cut(spec.confirm, CONFIRM_MAX))},
            "confirm": _plain("Yes", 30),
            "deny": _plain("Cancel", 30),
        }
        if spec.style is ButtonStyle.DANGER:
            element["confirm"]["style"] = "danger"
    return element


def message_blocks(
    message: ChatMessage, markup: SlackMarkup, *, marker: str | None = None
) -> list[dict[str, Any]]:
    """The message as blocks, its text rendered by `markup` (escaped but for our mentions). The
    first block's id is `marker` if given (an update keeps the posted message's marker), else
    the message key's marker."""
    texts = [markup.render(message.text), *(markup.render(s) for s in message.sections)]
    blocks = [section(chunk) for text in texts for chunk in _chunks(text)]
    seen: dict[str, int] = {}
    elements: list[dict[str, Any]] = []
    for spec in message.buttons:
        count = seen.get(spec.action, 0)
        seen[spec.action] = count + 1
        action_id = spec.action if count == 0 else f"{spec.action}#{count}"
        elements.append(button(spec, action_id, markup))
    room = BLOCKS_MAX - (len(elements) + ACTIONS_PER_BLOCK - 1) // ACTIONS_PER_BLOCK
    if len(blocks) > room:
        blocks = [*blocks[: room - 1], section("\u2026 (shortened: the full text is too long)")]
    for start in range(0, len(elements), ACTIONS_PER_BLOCK):
        blocks.append({"type": "actions", "elements": elements[start : start + ACTIONS_PER_BLOCK]})
    if not blocks:
        blocks = [section(" ")]
    if marker is None and message.key is not None:
        marker = key_block_id(message.key)
    if marker is not None:
        blocks[0] = {**blocks[0], "block_id": marker}
    return blocks


def fallback_text(message: ChatMessage, markup: SlackMarkup) -> str:
    """The notification text (shown where blocks are not): mrkdwn too, so escaped the same."""
    return markup.render(_cut(message.text, TEXT_MAX))


# -- modals ----------------------------------------------------------------------------------

EDIT_VIEW = "draft.edit"
REJECT_VIEW = "draft.reject"
BODY_BLOCK = "body"
BODY_INPUT = "body_input"
REASON_BLOCK = "reason"
REASON_INPUT = "reason_input"
DRAFT_MAX = 3000
# the public fields of a draft: (block id, action id) of each input in the Edit modal
PUBLIC_INPUTS: Mapping[str, tuple[str, str]] = {
    "title": ("title", "title_input"),
    "stage": ("stage", "stage_input"),
    "impact": ("impact", "impact_input"),
    "components": ("components", "components_input"),
}


def _option(value: str, label: str) -> dict[str, Any]:
    return {"text": _plain(label, 75), "value": value}


def _text_input(field: str, label: str, value: str, max_length: int) -> dict[str, Any]:
    block, action = PUBLIC_INPUTS[field]
    return {
        "type": "input",
        "block_id": block,
        "label": _plain(label),
        "element": {
            "type": "plain_text_input",
            "action_id": action,
            "max_length": max_length,
            "initial_value": value[:max_length],
        },
    }


def _choice(field: str, label: str, options: Mapping[str, str], chosen: str) -> dict[str, Any]:
    block, action = PUBLIC_INPUTS[field]
    choices = [_option(value, text) for value, text in options.items()]
    return {
        "type": "input",
        "block_id": block,
        "label": _plain(label),
        "element": {
            "type": "static_select",
            "action_id": action,
            "options": choices,
            "initial_option": next(c for c in choices if c["value"] == chosen),
        },
    }


# one select per component the draft names; its block id carries the component's name
COMPONENT_STATUS_BLOCK = "component_status:"
COMPONENT_STATUS_INPUT = "component_status"


def _component_status_choices(draft: StatusDraft) -> list[dict[str, Any]]:
    """A "<component>: status" select for each component the draft names (at its status)."""
    blocks = []
    for component in draft.components:
        choices = [_option(s.value, label) for s, label in COMPONENT_STATUS_LABELS.items()]
        current = effective_status(component, draft.impact).value
        blocks.append(
            {
                "type": "input",
                "block_id": COMPONENT_STATUS_BLOCK + component.name,
                "label": _plain(f"Status of {component.name}"),
                "element": {
                    "type": "static_select",
                    "action_id": COMPONENT_STATUS_INPUT,
                    "options": choices,
                    "initial_option": next(
                        (c for c in choices if c["value"] == current), choices[0]
                    ),
                },
            }
        )
    return blocks


def edit_modal(*, draft: StatusDraft, metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The IC edits everything the public page will show: text, name, stage, impact,
    components; saving makes a new version to approve."""
    body = draft.body
    return {
        "type": "modal",
        "callback_id": EDIT_VIEW,
        "private_metadata": json.dumps(dict(metadata)),
        "title": _plain("Edit status update", 24),
        "submit": _plain("Save as new version", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": BODY_BLOCK,
                "label": _plain("What customers will read"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": BODY_INPUT,
                    "multiline": True,
                    "max_length": DRAFT_MAX,
                    "initial_value": body[:DRAFT_MAX],
                },
            },
            _text_input("title", "Public incident name", draft.title, MAX_TITLE_CHARS),
            _choice(
                "stage",
                "Stage",
                {stage.value: label for stage, label in STAGE_LABELS.items()},
                draft.stage.value,
            ),
            _choice(
                "impact",
                "Impact",
                {impact.value: label for impact, label in IMPACT_LABELS.items()},
                draft.impact.value,
            ),
            _text_input(
                "components",
                "Affected components (comma-separated)",
                ", ".join(draft.component_names),
                DRAFT_MAX,
            ),
            *_component_status_choices(draft),
        ],
    }


def reject_modal(*, metadata: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "type": "modal",
        "callback_id": REJECT_VIEW,
        "private_metadata": json.dumps(dict(metadata)),
        "title": _plain("Reject status update", 24),
        "submit": _plain("Reject", 24),
        "close": _plain("Cancel", 24),
        "blocks": [
            {
                "type": "input",
                "block_id": REASON_BLOCK,
                "label": _plain("Why is this draft rejected?"),
                "element": {
                    "type": "plain_text_input",
                    "action_id": REASON_INPUT,
                    "multiline": True,
                    "max_length": 500,
                },
            }
        ],
    }


def submitted_text(view: Mapping[str, Any], block: str, action: str) -> str:
    """The text typed into one input of a submitted modal ("" when absent)."""
    values = view.get("state", {}).get("values", {})
    value = values.get(block, {}).get(action, {}).get("value")
    return value if isinstance(value, str) else ""


def submitted_public_fields(view: Mapping[str, Any]) -> dict[str, str]:
    """The public fields of a submitted Edit modal, by field name (only those present)."""
    values = view.get("state", {}).get("values", {})
    found: dict[str, str] = {}
    for field, (block, action) in PUBLIC_INPUTS.items():
        state = values.get(block, {}).get(action)
        if not isinstance(state, Mapping):
            continue
        chosen = state.get("selected_option")
        value = chosen.get("value") if isinstance(chosen, Mapping) else state.get("value")
        if isinstance(value, str):
            found[field] = value
    for block, inputs in values.items():
        state = inputs.get(COMPONENT_STATUS_INPUT) if isinstance(inputs, Mapping) else None
        if str(block).startswith(COMPONENT_STATUS_BLOCK) and isinstance(state, Mapping):
            chosen = state.get("selected_option")
            if isinstance(chosen, Mapping) and isinstance(chosen.get("value"), str):
                found[str(block)] = chosen["value"]
    return found
