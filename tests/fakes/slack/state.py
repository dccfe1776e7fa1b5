"""What the fake workspace holds and what it was asked, for tests to assert on."""

from __future__ import annotations

import itertools
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any


class SlackError(Exception):
    """A Web API error answered as `{"ok": false, "error": ...}` with optional extra fields."""

    def __init__(self, error: str, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.extra = extra


@dataclass
class User:
    id: str
    email: str
    name: str
    is_bot: bool = False

    def as_json(self, team_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "team_id": team_id,
            "name": self.name,
            "real_name": self.name,
            "deleted": False,
            "is_bot": self.is_bot,
            "tz": "Etc/UTC",
            "profile": {
                "email": self.email,
                "real_name": self.name,
                "display_name": self.name,
                "team": team_id,
            },
        }


@dataclass
class Topic:
    value: str = ""
    creator: str = ""
    last_set: int = 0


@dataclass
class Channel:
    id: str
    name: str
    is_private: bool
    creator: str
    created: int
    members: set[str] = field(default_factory=set)
    is_archived: bool = False
    is_im: bool = False
    topic: Topic = field(default_factory=Topic)

    def as_json(self, viewer: str) -> dict[str, Any]:
        if self.is_im:
            other = next((m for m in sorted(self.members) if m != viewer), viewer)
            return {"id": self.id, "is_im": True, "user": other, "created": self.created}
        return {
            "id": self.id,
            "name": self.name,
            "name_normalized": self.name,
            "is_channel": True,
            "is_group": False,
            "is_im": False,
            "is_mpim": False,
            "is_private": self.is_private,
            "is_archived": self.is_archived,
            "is_general": False,
            "is_member": viewer in self.members,
            "created": self.created,
            "creator": self.creator,
            "topic": {
                "value": self.topic.value,
                "creator": self.topic.creator,
                "last_set": self.topic.last_set,
            },
            "purpose": {"value": "", "creator": "", "last_set": 0},
            "num_members": len(self.members),
        }


@dataclass
class Message:
    ts: str
    text: str
    user: str
    blocks: list[dict[str, Any]] | None = None
    thread_ts: str | None = None
    metadata: dict[str, Any] | None = None
    edits: int = 0
    """How many times chat.update (or a response_url replace) changed this message."""

    def as_json(self, bot_id: str | None) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": "message",
            "text": self.text,
            "user": self.user,
            "ts": self.ts,
        }
        if bot_id:
            body["bot_id"] = bot_id
        if self.blocks is not None:
            body["blocks"] = self.blocks
        if self.thread_ts:
            body["thread_ts"] = self.thread_ts
        if self.metadata is not None:
            body["metadata"] = self.metadata
        return body


@dataclass
class Ephemeral:
    """A reply only `user` sees: chat.postEphemeral, a response_url post, or an ack's text."""

    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]] | None
    via: str


@dataclass
class Bookmark:
    id: str
    channel_id: str
    title: str
    type: str
    link: str
    emoji: str | None
    created: int

    def as_json(self, app_id: str) -> dict[str, Any]:
        return {
            "id": self.id,
            "channel_id": self.channel_id,
            "title": self.title,
            "link": self.link,
            "emoji": self.emoji,
            "type": self.type,
            "date_created": self.created,
            "date_updated": 0,
            "rank": "U",
            "app_id": app_id,
            "entity_id": None,
            "icon_url": None,
            "last_updated_by_user_id": None,
            "last_updated_by_team_id": None,
            "shortcut_id": None,
        }


@dataclass
class OpenedView:
    id: str
    user: str
    view: dict[str, Any]
    trigger_id: str


@dataclass
class Trigger:
    user: str
    channel: str | None
    issued_at: float
    used: bool = False


@dataclass
class Call:
    """One Web API request: `time` is the monotonic arrival time, `status` the HTTP status."""

    method: str
    time: float
    params: dict[str, Any]
    status: int = 0
    error: str | None = None


@dataclass
class Violation:
    """A request the published contract does not allow: a client bug the test should see."""

    method: str
    problems: list[str]
    params: dict[str, Any]


@dataclass
class ResponsePost:
    """A post the app made to a response_url the fake handed out."""

    response_id: str
    body: dict[str, Any]
    channel: str | None
    user: str | None


@dataclass
class Workspace:
    """The fake's data: channels, messages and people, as Slack would hold them."""

    team_id: str = "T0FAKE0001"
    team_domain: str = "fake-workspace"
    app_id: str = "A0FAKE0001"
    bot_user_id: str = "U0FAKEBOT1"
    bot_id: str = "B0FAKEBOT1"
    users: dict[str, User] = field(default_factory=dict)
    channels: dict[str, Channel] = field(default_factory=dict)
    messages: defaultdict[str, list[Message]] = field(default_factory=lambda: defaultdict(list))
    pins: defaultdict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    bookmarks: defaultdict[str, list[Bookmark]] = field(default_factory=lambda: defaultdict(list))
    ephemerals: defaultdict[str, list[Ephemeral]] = field(default_factory=lambda: defaultdict(list))
    views: list[OpenedView] = field(default_factory=list)
    triggers: dict[str, Trigger] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _last_ts: float = 0.0

    def seed_users(self, users: Iterable[Mapping[str, str]]) -> None:
        for entry in users:
            self.users[entry["id"]] = User(entry["id"], entry["email"], entry["name"])

    def new_id(self, prefix: str) -> str:
        return f"{prefix}{next(self._ids):09d}"

    def next_ts(self) -> str:
        """Message timestamps: wall-clock seconds, strictly increasing, six decimals as Slack's."""
        self._last_ts = max(time.time(), self._last_ts + 0.000001)
        return f"{self._last_ts:.6f}"

    def is_user(self, user_id: str) -> bool:
        return user_id in self.users or user_id == self.bot_user_id

    def channel(self, channel_id: str, *, viewer: str | None = None) -> Channel:
        """The channel, hidden (as Slack hides it) when private and `viewer` is not a member."""
        found = self.channels.get(channel_id)
        if found is None:
            raise SlackError("channel_not_found")
        if viewer is not None and (found.is_private or found.is_im) and viewer not in found.members:
            raise SlackError("channel_not_found")
        return found

    def channel_by_name(self, name: str) -> Channel | None:
        return next((c for c in self.channels.values() if c.name == name and not c.is_im), None)

    def message(self, channel_id: str, ts: str) -> Message:
        found = next((m for m in self.messages.get(channel_id, []) if m.ts == ts), None)
        if found is None:
            raise SlackError("message_not_found")
        return found

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = True,
        creator: str | None = None,
        members: Iterable[str] = (),
    ) -> Channel:
        """Create a channel directly (test setup), bypassing the API and its limits."""
        creator = creator or self.bot_user_id
        channel = Channel(
            id=self.new_id("C"),
            name=name,
            is_private=is_private,
            creator=creator,
            created=int(time.time()),
            members={creator, *members},
        )
        self.channels[channel.id] = channel
        return channel

    def issue_trigger(self, user: str, channel: str | None, now: float) -> str:
        trigger_id = f"{next(self._ids)}.{self.team_id}.fake{len(self.triggers):06d}"
        self.triggers[trigger_id] = Trigger(user=user, channel=channel, issued_at=now)
        return trigger_id
