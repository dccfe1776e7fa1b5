"""War rooms on Slack: one private channel per incident, also across restarts and retries.

`conversations.create` makes the room. On `name_taken` the channel of that name is looked up
(`conversations.list`) and its owner asked of `room_owner` (the composition root passes the
IncidentStore's `find_by_channel`):
- this incident's room is reused;
- another incident's room is AlreadyExists, as the Chat port says;
- a private channel this app's bot made that no incident recorded is a crash between create and
  record: reused, never a second room;
- anyone else's channel (or one the bot cannot see) makes the room take a suffixed name
  (`<name>-2`, ...).
Callers asking for one name in this process are serialised, so concurrent creates make one room.
An empty incident id asks for a shared public channel (announcements), reused and joined.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

from incident_response.adapters.slack.client import SlackCallFailed
from incident_response.adapters.slack.pacing import SlackPacer
from incident_response.domain.errors import AlreadyExists
from incident_response.domain.incident import ChannelRef
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
NAME_MAX = 80
MAX_SUFFIX = 9

RoomOwner = Callable[[str], Awaitable[str | None]]
"""channel id -> the id of the incident whose room it is, if any."""


@dataclass
class Workspace:
    """Who the app is in the workspace (from `auth.test`)."""

    bot_user_id: str = ""
    url: str = ""

    def ref(self, channel: Mapping[str, Any]) -> ChannelRef:
        channel_id = str(channel["id"])
        link = f"{self.url}archives/{channel_id}" if self.url else ""
        return ChannelRef(id=channel_id, name=str(channel.get("name", "")), url=link)


class Rooms:
    def __init__(
        self, pacer: SlackPacer, workspace: Workspace, room_owner: RoomOwner | None
    ) -> None:
        self._pacer = pacer
        self._workspace = workspace
        self._room_owner = room_owner
        self._known: dict[str, tuple[ChannelRef, str]] = {}  # name asked -> (room, incident)
        self._locks: dict[str, asyncio.Lock] = {}

    async def create(self, name: str, incident_id: str) -> tuple[ChannelRef, bool]:
        """The room, and whether this call made it (a new, empty channel)."""
        if not CHANNEL_NAME.match(name):
            raise ValueError(
                f"channel name {name!r}: use lowercase letters, digits, '-' or '_', "
                "at most 80 characters"
            )
        async with self._locks.setdefault(name, asyncio.Lock()):
            known = self._known.get(name)
            if known is not None:
                if known[1] != incident_id:
                    raise AlreadyExists(f"channel #{name} belongs to {known[1] or 'no incident'}")
                return known[0], False
            ref, made = await self._make(name, incident_id)
            self._known[name] = self._known[ref.name] = (ref, incident_id)
            return ref, made

    async def _make(self, name: str, incident_id: str) -> tuple[ChannelRef, bool]:
        for n in range(1, MAX_SUFFIX + 1):
            suffix = "" if n == 1 else f"-{n}"
            candidate = name[: NAME_MAX - len(suffix)] + suffix
            try:
                made = await self._pacer.call(
                    "conversations.create", name=candidate, is_private=bool(incident_id)
                )
            except SlackCallFailed as exc:
                if exc.error.startswith("invalid_name"):
                    raise ValueError(f"channel name {candidate!r}: {exc.error}") from exc
                if exc.error != "name_taken":
                    raise
                reused = await self._reuse(candidate, incident_id)
                if reused is not None:
                    return reused, False
                continue
            ref = self._workspace.ref(made["channel"])
            log.info(
                "slack.room_created", channel_id=ref.id, name=ref.name, incident_id=incident_id
            )
            return ref, True
        raise AlreadyExists(f"channel #{name} and its suffixed names are all taken")

    async def _reuse(self, name: str, incident_id: str) -> ChannelRef | None:
        """The existing channel called `name` if it is this incident's; None to try a suffix."""
        found = await self._find(name)
        if found is None:
            return None  # a channel the bot cannot see: someone else's
        if not incident_id:
            if not found.get("is_member") and not found.get("is_archived"):
                await self._pacer.call("conversations.join", channel=found["id"])
            return self._workspace.ref(found)
        owner = await self._room_owner(str(found["id"])) if self._room_owner else None
        if owner == incident_id:
            return self._workspace.ref(found)
        if owner:
            raise AlreadyExists(f"channel #{name} belongs to incident {owner}")
        if found.get("creator") == self._workspace.bot_user_id and found.get("is_private"):
            return self._workspace.ref(found)  # made by this app, recorded by no incident
        return None

    async def _find(self, name: str) -> dict[str, Any] | None:
        cursor = ""
        while True:
            page = await self._pacer.call(
                "conversations.list",
                types="public_channel,private_channel",
                exclude_archived=False,
                limit=1000,
                **({"cursor": cursor} if cursor else {}),
            )
            for channel in page.get("channels", []):
                if channel.get("name") == name:
                    return dict(channel)
            cursor = str(page.get("response_metadata", {}).get("next_cursor") or "")
            if not cursor:
                return None
