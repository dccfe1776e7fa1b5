"""The payloads Slack sends an app when a person acts, built from what the workspace really shows.

A block action is only possible on a button that exists: the builder finds the element by its
action_id in the channel's messages (or ephemeral replies) and takes its block_id and value from
there, so a test cannot click a button the app never posted. A view submission likewise fills the
input blocks of a view the app really opened.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

from tests.fakes.slack.state import OpenedView, Workspace


def _user(ws: Workspace, user_id: str) -> dict[str, Any]:
    user = ws.users.get(user_id)
    name = user.name if user else user_id
    return {"id": user_id, "username": name, "name": name, "team_id": ws.team_id}


def slash_command(
    ws: Workspace,
    *,
    command: str,
    text: str,
    user_id: str,
    channel_id: str,
    response_url: str,
    trigger_id: str,
) -> dict[str, str]:
    """Form fields of a slash command (all strings, as Slack posts them)."""
    channel = ws.channels.get(channel_id)
    user = ws.users.get(user_id)
    return {
        "token": "fake-verification-token",
        "team_id": ws.team_id,
        "team_domain": ws.team_domain,
        "channel_id": channel_id,
        "channel_name": channel.name if channel else "unknown",
        "user_id": user_id,
        "user_name": user.name if user else user_id,
        "command": command,
        "text": text,
        "api_app_id": ws.app_id,
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger_id,
    }


def _elements(blocks: list[dict[str, Any]] | None) -> Iterator[tuple[str, dict[str, Any]]]:
    for block in blocks or []:
        block_id = str(block.get("block_id", ""))
        if isinstance(block.get("accessory"), dict):
            yield block_id, block["accessory"]
        for element in block.get("elements") or []:
            if isinstance(element, dict):
                yield block_id, element
        if isinstance(block.get("element"), dict):
            yield block_id, block["element"]


def find_element(
    ws: Workspace, channel_id: str, action_id: str, message_ts: str | None
) -> tuple[dict[str, Any], str, dict[str, Any], bool]:
    """(message, block_id, element, is_ephemeral) of the newest message offering `action_id`."""
    candidates: list[tuple[dict[str, Any], list[dict[str, Any]] | None, bool]] = [
        (m.as_json(ws.bot_id), m.blocks, False)
        for m in reversed(ws.messages.get(channel_id, []))
        if message_ts is None or m.ts == message_ts
    ]
    if message_ts is None:
        candidates += [
            ({"type": "message", "text": e.text, "blocks": e.blocks}, e.blocks, True)
            for e in reversed(ws.ephemerals.get(channel_id, []))
        ]
    for message, blocks, ephemeral in candidates:
        for block_id, element in _elements(blocks):
            if element.get("action_id") == action_id:
                return message, block_id, element, ephemeral
    raise LookupError(f"no element with action_id {action_id!r} in channel {channel_id}")


def _action(
    element: dict[str, Any], block_id: str, value: str | list[str] | None
) -> dict[str, Any]:
    action: dict[str, Any] = {
        "action_id": element["action_id"],
        "block_id": block_id,
        "type": element["type"],
        "action_ts": f"{time.time():.6f}",
    }
    options = element.get("options") or []
    if element["type"] == "button":
        action["value"] = element.get("value", "")
        action["text"] = element.get("text")
    elif element["type"] == "checkboxes":
        wanted = value if isinstance(value, list) else [value] if value else []
        action["selected_options"] = [o for o in options if o.get("value") in wanted]
    elif element["type"] in ("static_select", "overflow", "radio_buttons"):
        chosen = next((o for o in options if o.get("value") == value), None)
        if chosen is None:
            raise LookupError(f"{element['action_id']!r} has no option {value!r}")
        action["selected_option"] = chosen
    return action


def block_action(
    ws: Workspace,
    *,
    user_id: str,
    channel_id: str,
    action_id: str,
    message_ts: str | None,
    value: str | list[str] | None,
    response_url: str,
    trigger_id: str,
) -> dict[str, Any]:
    message, block_id, element, ephemeral = find_element(ws, channel_id, action_id, message_ts)
    channel = ws.channels.get(channel_id)
    return {
        "type": "block_actions",
        "user": _user(ws, user_id),
        "api_app_id": ws.app_id,
        "token": "fake-verification-token",
        "container": {
            "type": "message",
            "message_ts": message.get("ts", ""),
            "channel_id": channel_id,
            "is_ephemeral": ephemeral,
        },
        "trigger_id": trigger_id,
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel.name if channel else ""},
        "message": message,
        "state": {"values": {}},
        "response_url": response_url,
        "actions": [_action(element, block_id, value)],
    }


def find_view(ws: Workspace, *, view_id: str | None, callback_id: str | None) -> OpenedView:
    for opened in reversed(ws.views):
        if (view_id is None or opened.id == view_id) and (
            callback_id is None or opened.view.get("callback_id") == callback_id
        ):
            return opened
    raise LookupError(f"no opened view {view_id or ''} {callback_id or ''}".strip())


def _input_value(element: dict[str, Any], value: Any) -> dict[str, Any]:
    kind = element.get("type", "plain_text_input")
    if kind in ("static_select", "radio_buttons"):
        options = element.get("options") or []
        chosen = next((o for o in options if o.get("value") == value), None)
        return {"type": kind, "selected_option": chosen}
    if kind == "users_select":  # Slack's state names the chosen user by id
        return {"type": kind, "selected_user": value}
    if kind == "checkboxes":
        wanted = value if isinstance(value, list) else [value]
        return {
            "type": kind,
            "selected_options": [
                o for o in element.get("options") or [] if o.get("value") in wanted
            ],
        }
    return {"type": kind, "value": value}


def view_submission(
    ws: Workspace, *, user_id: str, opened: OpenedView, values: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """`values` maps block_id -> action_id -> what the person entered; both must exist in the view."""
    inputs = {
        str(block.get("block_id")): block["element"]
        for block in opened.view.get("blocks") or []
        if block.get("type") == "input" and isinstance(block.get("element"), dict)
    }
    state: dict[str, dict[str, Any]] = {}
    for block_id, entered in values.items():
        element = inputs.get(block_id)
        if element is None:
            raise LookupError(f"view {opened.id} has no input block {block_id!r}")
        state[block_id] = {}
        for action_id, value in entered.items():
            if element.get("action_id") != action_id:
                raise LookupError(f"input block {block_id!r} has no action_id {action_id!r}")
            state[block_id][action_id] = _input_value(element, value)
    return {
        "type": "view_submission",
        "team": {"id": ws.team_id, "domain": ws.team_domain},
        "user": _user(ws, user_id),
        "api_app_id": ws.app_id,
        "token": "fake-verification-token",
        "trigger_id": f"{opened.id}.submission",
        "view": {
            **opened.view,
            "id": opened.id,
            "team_id": ws.team_id,
            "app_id": ws.app_id,
            "bot_id": ws.bot_id,
            "state": {"values": state},
        },
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }


def event_callback(ws: Workspace, event: Mapping[str, Any], event_id: str) -> dict[str, Any]:
    """The Events API wrapper around one event, as delivered over HTTP or Socket Mode."""
    return {
        "token": "fake-verification-token",
        "team_id": ws.team_id,
        "api_app_id": ws.app_id,
        "event": dict(event),
        "type": "event_callback",
        "event_id": event_id,
        "event_time": int(time.time()),
        "authorizations": [
            {
                "team_id": ws.team_id,
                "user_id": ws.bot_user_id,
                "is_bot": True,
                "is_enterprise_install": False,
            }
        ],
        "is_ext_shared_channel": False,
    }
