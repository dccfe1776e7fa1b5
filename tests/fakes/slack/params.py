"""Shared by the method modules: the request's parameters, the server context, membership rules."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol

from tests.fakes.slack.blocks import parse_json_value
from tests.fakes.slack.state import Channel, SlackError, Workspace


class Context(Protocol):
    """What a method needs from the server besides the workspace."""

    @property
    def api_url(self) -> str: ...

    @property
    def trigger_ttl(self) -> float: ...

    def now(self) -> float: ...

    def socket_url(self) -> str: ...


class Params:
    """A request's parameters, merged from query, form or JSON body, read leniently as Slack does."""

    def __init__(self, raw: Mapping[str, Any]) -> None:
        self.raw = dict(raw)

    def __contains__(self, name: str) -> bool:
        return self.raw.get(name) is not None

    def text(self, name: str, default: str = "") -> str:
        value = self.raw.get(name)
        if value is None:
            return default
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)

    def flag(self, name: str) -> bool:
        return self.text(name).lower() in {"true", "1"}

    def integer(self, name: str, default: int) -> int:
        value = self.text(name)
        if not value:
            return default
        try:
            return int(value)
        except ValueError as error:
            raise SlackError(
                "invalid_arguments", violation=[f"{name} is not an integer"]
            ) from error

    def ids(self, name: str) -> list[str]:
        return [part.strip() for part in self.text(name).split(",") if part.strip()]

    def json(self, name: str, error: str) -> Any:
        if name not in self:
            return None
        try:
            return parse_json_value(self.raw[name], name)
        except ValueError as problem:
            raise SlackError(error, violation=[str(problem)]) from problem


Method = Callable[[Workspace, Params, Context], dict[str, Any]]


def member_channel(ws: Workspace, channel_id: str, *, writable: bool = True) -> Channel:
    channel = ws.channel(channel_id, viewer=ws.bot_user_id)
    if ws.bot_user_id not in channel.members:
        raise SlackError("not_in_channel")
    if writable and channel.is_archived:
        raise SlackError("is_archived")
    return channel


def open_im(ws: Workspace, user: str) -> Channel:
    members = {ws.bot_user_id, user}
    existing = next((c for c in ws.channels.values() if c.is_im and c.members == members), None)
    if existing is not None:
        return existing
    channel = Channel(
        id=ws.new_id("D"),
        name="",
        is_private=True,
        creator=ws.bot_user_id,
        created=int(time.time()),
        members=members,
        is_im=True,
    )
    ws.channels[channel.id] = channel
    return channel
