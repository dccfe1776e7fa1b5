"""conversations.* methods: channels the app creates, staffs, names and archives."""

from __future__ import annotations

import base64
import re
import time
from typing import Any

from tests.fakes.slack.params import Context, Params, member_channel, open_im
from tests.fakes.slack.state import SlackError, Workspace

CHANNEL_NAME = re.compile(r"[a-z0-9_-]+")
CHANNEL_TYPES = frozenset({"public_channel", "private_channel", "mpim", "im"})


def conversations_create(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    name = p.text("name")
    if not name:
        raise SlackError("invalid_name_required")
    if len(name) > 80:
        raise SlackError("invalid_name_maxlength")
    if not CHANNEL_NAME.fullmatch(name):
        raise SlackError("invalid_name_specials")
    if not re.search(r"[a-z0-9]", name):
        raise SlackError("invalid_name_punctuation")
    if ws.channel_by_name(name) is not None:
        raise SlackError("name_taken")
    channel = ws.add_channel(name, is_private=p.flag("is_private"))
    return {"channel": channel.as_json(ws.bot_user_id)}


def conversations_list(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    types = set(p.ids("types") or ["public_channel"])
    if not types <= CHANNEL_TYPES:
        raise SlackError("invalid_types")
    limit = p.integer("limit", 100)
    if not 1 <= limit <= 1000:
        raise SlackError("invalid_limit")
    start = _decode_cursor(p.text("cursor"))
    visible = [
        c
        for c in ws.channels.values()
        if (c.is_im and "im" in types)
        or (not c.is_im and not c.is_private and "public_channel" in types)
        or (
            not c.is_im
            and c.is_private
            and "private_channel" in types
            and ws.bot_user_id in c.members
        )
    ]
    if p.flag("exclude_archived"):
        visible = [c for c in visible if not c.is_archived]
    page = visible[start : start + limit]
    more = start + limit < len(visible)
    next_cursor = base64.b64encode(f"offset:{start + limit}".encode()).decode() if more else ""
    return {
        "channels": [c.as_json(ws.bot_user_id) for c in page],
        "response_metadata": {"next_cursor": next_cursor},
    }


def _decode_cursor(cursor: str) -> int:
    if not cursor:
        return 0
    try:
        label, _, offset = base64.b64decode(cursor, validate=True).decode().partition(":")
        if label == "offset":
            return int(offset)
    except ValueError:
        pass
    raise SlackError("invalid_cursor")


def conversations_info(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = ws.channel(p.text("channel"), viewer=ws.bot_user_id)
    return {"channel": channel.as_json(ws.bot_user_id)}


def conversations_invite(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    """All or nothing unless `force`, as Slack documents for several users in one call."""
    channel = member_channel(ws, p.text("channel"))
    users = p.ids("users")
    if not users:
        raise SlackError("no_user")
    if len(users) > 1000:
        raise SlackError("too_many_users")
    errors: list[dict[str, Any]] = []
    valid: list[str] = []
    for user in users:
        problem = None
        if user == ws.bot_user_id:
            problem = "cant_invite_self"
        elif not ws.is_user(user):
            problem = "user_not_found"
        elif user in channel.members:
            problem = "already_in_channel"
        if problem:
            errors.append({"user": user, "ok": False, "error": problem})
        else:
            valid.append(user)
    if errors and not p.flag("force"):
        raise SlackError(errors[0]["error"], errors=errors)
    channel.members.update(valid)
    body: dict[str, Any] = {"channel": channel.as_json(ws.bot_user_id)}
    if errors:
        body["errors"] = errors
    return body


def conversations_set_topic(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel"))
    topic = p.text("topic")
    if len(topic) > 250:
        raise SlackError("too_long")
    channel.topic.value = topic
    channel.topic.creator = ws.bot_user_id
    channel.topic.last_set = int(time.time())
    return {"channel": channel.as_json(ws.bot_user_id)}


def conversations_archive(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel"), writable=False)
    if channel.is_archived:
        raise SlackError("already_archived")
    channel.is_archived = True
    return {}


def conversations_history(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel"), writable=False)
    limit = p.integer("limit", 100)
    oldest = float(p.text("oldest") or 0)
    latest = float(p.text("latest") or "inf")
    found = [m for m in ws.messages[channel.id] if oldest <= float(m.ts) <= latest]
    newest_first = list(reversed(found))
    return {
        "messages": [
            m.as_json(ws.bot_id if m.user == ws.bot_user_id else None) for m in newest_first[:limit]
        ],
        "has_more": len(newest_first) > limit,
    }


def conversations_open(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    """Direct messages with one person; group DMs (mpim) are not implemented by this fake."""
    if "channel" in p:
        return {
            "channel": ws.channel(p.text("channel"), viewer=ws.bot_user_id).as_json(ws.bot_user_id)
        }
    users = p.ids("users")
    if not users:
        raise SlackError("users_list_not_supplied")
    if len(users) > 1:
        raise SlackError("fake_slack_supports_one_user_dms_only")
    if not ws.is_user(users[0]):
        raise SlackError("user_not_found")
    channel = open_im(ws, users[0])
    return {
        "channel": channel.as_json(ws.bot_user_id) if p.flag("return_im") else {"id": channel.id}
    }
