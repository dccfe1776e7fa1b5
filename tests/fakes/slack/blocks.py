"""Block Kit checks the real Slack applies (`invalid_blocks`), so a malformed message fails a test.

Limits from Slack's Block Kit reference: 50 blocks per message and 100 per view; unique block_id
per message; unique action_id per block; section text up to 3000 characters and 10 fields; header
text plain_text up to 150; button text plain_text up to 75, value up to 2000; a confirm dialog
needs title, text, confirm and deny; a modal needs a plain_text title up to 24 characters and a
submit button when it has input blocks.
"""

from __future__ import annotations

import json
from typing import Any

BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "video",
    }
)


def parse_json_value(value: Any, name: str) -> Any:
    """A JSON parameter as sent: structured in a JSON body, a JSON string in a form body."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError as error:
            raise ValueError(f"{name} is not valid JSON: {error}") from error
    return value


def block_problems(blocks: Any, *, limit: int = 50) -> list[str]:
    if not isinstance(blocks, list):
        return ["blocks must be an array"]
    if len(blocks) > limit:
        return [f"{len(blocks)} blocks, at most {limit} allowed"]
    problems: list[str] = []
    block_ids: set[str] = set()
    for index, block in enumerate(blocks):
        where = f"blocks[{index}]"
        if not isinstance(block, dict) or block.get("type") not in BLOCK_TYPES:
            problems.append(f"{where}: unknown block type")
            continue
        block_id = block.get("block_id")
        if block_id is not None:
            if block_id in block_ids:
                problems.append(f"{where}: duplicate block_id {block_id!r}")
            block_ids.add(block_id)
        problems.extend(f"{where}: {p}" for p in _block(block))
    return problems


def _block(block: dict[str, Any]) -> list[str]:
    kind = block["type"]
    if kind == "section":
        problems = _text(block.get("text"), 3000, plain_only=False, required=False)
        fields = block.get("fields") or []
        if len(fields) > 10:
            problems.append("more than 10 fields")
        if "text" not in block and not fields:
            problems.append("section needs text or fields")
        if "accessory" in block:
            problems.extend(_element(block["accessory"]))
        return problems
    if kind == "header":
        return _text(block.get("text"), 150, plain_only=True, required=True)
    if kind == "actions":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 25:
            return ["actions needs 1 to 25 elements"]
        problems = []
        action_ids: set[str] = set()
        for element in elements:
            problems.extend(_element(element))
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if action_id is not None:
                if action_id in action_ids:
                    problems.append(f"duplicate action_id {action_id!r}")
                action_ids.add(action_id)
        return problems
    if kind == "context":
        elements = block.get("elements")
        if not isinstance(elements, list) or not 1 <= len(elements) <= 10:
            return ["context needs 1 to 10 elements"]
        return []
    if kind == "input":
        problems = _text(block.get("label"), 2000, plain_only=True, required=True)
        if not isinstance(block.get("element"), dict):
            problems.append("input needs an element")
        else:
            problems.extend(_input_element(block["element"]))
        return problems
    return []


def _input_element(element: dict[str, Any]) -> list[str]:
    """Block Kit's rules for the inputs a modal uses: plain_text_input holds at most 3000
    characters; a select's initial option is one of its (at most 100) options; users_select
    starts on a user id."""
    kind = element.get("type")
    problems: list[str] = []
    if not element.get("action_id"):
        problems.append(f"{kind} needs an action_id")
    if kind == "plain_text_input":
        limit = element.get("max_length", 3000)
        if not isinstance(limit, int) or not 1 <= limit <= 3000:
            problems.append("plain_text_input max_length must be 1 to 3000")
        elif len(str(element.get("initial_value", ""))) > limit:
            problems.append("plain_text_input initial_value longer than max_length")
    elif kind == "static_select":
        options = element.get("options")
        if not isinstance(options, list) or not 1 <= len(options) <= 100:
            problems.append("static_select needs 1 to 100 options")
        elif "initial_option" in element and element["initial_option"] not in options:
            problems.append("static_select initial_option is not one of its options")
    elif kind == "users_select":
        initial = element.get("initial_user")
        if initial is not None and not (isinstance(initial, str) and initial[:1] in ("U", "W")):
            problems.append("users_select initial_user must be a user id")
    return problems


def _element(element: Any) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return ["element without a type"]
    problems: list[str] = []
    if len(str(element.get("action_id", ""))) > 255:
        problems.append("action_id longer than 255")
    if element["type"] == "button":
        problems.extend(_text(element.get("text"), 75, plain_only=True, required=True))
        if len(str(element.get("value", ""))) > 2000:
            problems.append("button value longer than 2000")
        if element.get("style") not in (None, "primary", "danger"):
            problems.append("button style must be primary or danger")
    confirm = element.get("confirm")
    if confirm is not None:
        if not isinstance(confirm, dict):
            return [*problems, "confirm must be an object"]
        for key in ("title", "text", "confirm", "deny"):
            if key not in confirm:
                problems.append(f"confirm dialog needs {key}")
    return problems


def _text(text: Any, limit: int, *, plain_only: bool, required: bool) -> list[str]:
    if text is None:
        return ["missing text"] if required else []
    if not isinstance(text, dict) or not isinstance(text.get("text"), str):
        return ["text must be a text object"]
    allowed = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
    if text.get("type") not in allowed:
        return [f"text type must be one of {allowed}"]
    if len(text["text"]) > limit:
        return [f"text longer than {limit}"]
    return []


def view_problems(view: Any) -> list[str]:
    if not isinstance(view, dict):
        return ["view must be an object"]
    if view.get("type") not in ("modal", "home"):
        return ["view type must be modal or home"]
    problems = block_problems(view.get("blocks"), limit=100)
    if view["type"] == "modal":
        problems.extend(
            f"title: {p}" for p in _text(view.get("title"), 24, plain_only=True, required=True)
        )
        has_inputs = any(
            isinstance(b, dict) and b.get("type") == "input" for b in view.get("blocks") or []
        )
        if has_inputs and "submit" not in view:
            problems.append("a modal with input blocks needs a submit button")
        for key in ("submit", "close"):
            if key in view:
                problems.extend(
                    f"{key}: {p}" for p in _text(view[key], 24, plain_only=True, required=True)
                )
    if len(str(view.get("private_metadata", ""))) > 3000:
        problems.append("private_metadata longer than 3000")
    if len(str(view.get("callback_id", ""))) > 255:
        problems.append("callback_id longer than 255")
    return problems
