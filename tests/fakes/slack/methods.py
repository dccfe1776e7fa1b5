"""The Web API methods the fake implements, with the error cases Slack documents for each.

Each method takes the workspace, the request's parameters and the server's context, changes the
workspace synchronously (so the effect is atomic on the event loop) and returns the response body
without `ok`, or raises SlackError. The caller is always the app's bot user.
"""

from __future__ import annotations

import time
from typing import Any

from tests.fakes.slack import conversations
from tests.fakes.slack.blocks import block_problems, view_problems
from tests.fakes.slack.params import Context, Method, Params, member_channel, open_im
from tests.fakes.slack.state import (
    Bookmark,
    Channel,
    Ephemeral,
    Message,
    OpenedView,
    SlackError,
    Workspace,
)


def auth_test(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    return {
        "url": ctx.api_url.removesuffix("api/"),
        "team": "Fake Workspace",
        "user": "incident-response",
        "team_id": ws.team_id,
        "user_id": ws.bot_user_id,
        "bot_id": ws.bot_id,
        "is_enterprise_install": False,
    }


def _message_content(p: Params) -> tuple[str, list[dict[str, Any]] | None, dict[str, Any] | None]:
    text = p.text("text")
    if len(text) > 40000:
        raise SlackError("msg_too_long")
    blocks = p.json("blocks", "invalid_blocks")
    if blocks is not None:
        problems = block_problems(blocks)
        if problems:
            raise SlackError("invalid_blocks", violation=problems)
    metadata = p.json("metadata", "invalid_metadata_format")
    if metadata is not None and not (
        isinstance(metadata, dict)
        and isinstance(metadata.get("event_type"), str)
        and isinstance(metadata.get("event_payload"), dict)
    ):
        raise SlackError(
            "invalid_metadata_format", violation=["metadata needs event_type and event_payload"]
        )
    return text, blocks, metadata


def _resolve_target(ws: Workspace, target: str) -> Channel:
    """A channel id, or a user id (Slack posts to the bot's DM with that user)."""
    if target.startswith(("U", "W")) and ws.is_user(target):
        return open_im(ws, target)
    return member_channel(ws, target)


def chat_post_message(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = _resolve_target(ws, p.text("channel"))
    text, blocks, metadata = _message_content(p)
    if not text and not blocks and "attachments" not in p:
        raise SlackError("no_text")
    message = Message(
        ts=ws.next_ts(),
        text=text,
        user=ws.bot_user_id,
        blocks=blocks,
        thread_ts=p.text("thread_ts") or None,
        metadata=metadata,
    )
    ws.messages[channel.id].append(message)
    return {"channel": channel.id, "ts": message.ts, "message": message.as_json(ws.bot_id)}


def chat_update(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel"))
    message = ws.message(channel.id, p.text("ts"))
    if message.user != ws.bot_user_id:
        raise SlackError("cant_update_message")
    text, blocks, metadata = _message_content(p)
    if "text" in p:
        message.text = text
    if blocks is not None:
        message.blocks = blocks
    if metadata is not None:
        message.metadata = metadata
    message.edits += 1
    return {
        "channel": channel.id,
        "ts": message.ts,
        "text": message.text,
        "message": message.as_json(ws.bot_id),
    }


def chat_post_ephemeral(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel"))
    user = p.text("user")
    if not ws.is_user(user):
        raise SlackError("user_not_found")
    if user not in channel.members:
        raise SlackError("user_not_in_channel")
    text, blocks, _ = _message_content(p)
    if not text and not blocks:
        raise SlackError("no_text")
    ws.ephemerals[channel.id].append(
        Ephemeral(channel.id, user, text, blocks, via="chat.postEphemeral")
    )
    return {"message_ts": ws.next_ts()}


def pins_add(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel"))
    ts = p.text("timestamp")
    if not ts:
        raise SlackError("no_item_specified")
    ws.message(channel.id, ts)
    if ts in ws.pins[channel.id]:
        raise SlackError("already_pinned")
    ws.pins[channel.id].append(ts)
    return {}


def bookmarks_add(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel_id"))
    if p.text("type") != "link":
        raise SlackError("invalid_bookmark_type")
    link = p.text("link")
    if not link.startswith(("http://", "https://")):
        raise SlackError("invalid_link")
    bookmark = Bookmark(
        id=ws.new_id("Bk"),
        channel_id=channel.id,
        title=p.text("title"),
        type="link",
        link=link,
        emoji=p.text("emoji") or None,
        created=int(time.time()),
    )
    ws.bookmarks[channel.id].append(bookmark)
    return {"bookmark": bookmark.as_json(ws.app_id)}


def bookmarks_edit(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel_id"))
    bookmark_id = p.text("bookmark_id")
    bookmark = next((b for b in ws.bookmarks[channel.id] if b.id == bookmark_id), None)
    if bookmark is None:
        raise SlackError("not_found")
    if "link" in p:
        link = p.text("link")
        if not link.startswith(("http://", "https://")):
            raise SlackError("invalid_link")
        bookmark.link = link
    if "title" in p:
        bookmark.title = p.text("title")
    if "emoji" in p:
        bookmark.emoji = p.text("emoji") or None
    return {"bookmark": bookmark.as_json(ws.app_id)}


def bookmarks_list(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    channel = member_channel(ws, p.text("channel_id"), writable=False)
    return {"bookmarks": [b.as_json(ws.app_id) for b in ws.bookmarks[channel.id]]}


def users_lookup_by_email(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    email = p.text("email").lower()
    user = next((u for u in ws.users.values() if u.email.lower() == email), None)
    if user is None:
        raise SlackError("users_not_found")
    return {"user": user.as_json(ws.team_id)}


def users_info(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    user_id = p.text("user")
    if user_id == ws.bot_user_id:
        return {
            "user": {
                "id": user_id,
                "team_id": ws.team_id,
                "name": "incident-response",
                "is_bot": True,
            }
        }
    user = ws.users.get(user_id)
    if user is None:
        raise SlackError("user_not_found")
    return {"user": user.as_json(ws.team_id)}


def views_open(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    trigger_id = p.text("trigger_id")
    trigger = ws.triggers.get(trigger_id)
    if trigger is None:
        raise SlackError("invalid_trigger_id")
    if trigger.used:
        raise SlackError("exchanged_trigger_id")
    if ctx.now() - trigger.issued_at > ctx.trigger_ttl:
        raise SlackError("expired_trigger_id")
    view = p.json("view", "invalid_arguments")
    problems = view_problems(view)
    if problems:
        raise SlackError("invalid_arguments", violation=problems)
    trigger.used = True
    opened = OpenedView(id=ws.new_id("V"), user=trigger.user, view=view, trigger_id=trigger_id)
    ws.views.append(opened)
    body = {
        **view,
        "id": opened.id,
        "team_id": ws.team_id,
        "app_id": ws.app_id,
        "bot_id": ws.bot_id,
        "state": {"values": {}},
        "hash": f"{int(time.time())}.{opened.id}",
    }
    return {"view": body}


def apps_connections_open(ws: Workspace, p: Params, ctx: Context) -> dict[str, Any]:
    return {"url": ctx.socket_url()}


METHODS: dict[str, Method] = {
    "auth.test": auth_test,
    "conversations.create": conversations.conversations_create,
    "conversations.list": conversations.conversations_list,
    "conversations.info": conversations.conversations_info,
    "conversations.invite": conversations.conversations_invite,
    "conversations.setTopic": conversations.conversations_set_topic,
    "conversations.archive": conversations.conversations_archive,
    "conversations.history": conversations.conversations_history,
    "conversations.open": conversations.conversations_open,
    "chat.postMessage": chat_post_message,
    "chat.update": chat_update,
    "chat.postEphemeral": chat_post_ephemeral,
    "pins.add": pins_add,
    "bookmarks.add": bookmarks_add,
    "bookmarks.edit": bookmarks_edit,
    "bookmarks.list": bookmarks_list,
    "users.lookupByEmail": users_lookup_by_email,
    "users.info": users_info,
    "views.open": views_open,
    "apps.connections.open": apps_connections_open,
}

APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
"""Methods that take the app-level (xapp-) token; every other one takes the bot (xoxb-) token."""
