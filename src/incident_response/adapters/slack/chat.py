"""SlackChat: the Chat port on Slack's Web API, every call through the pacer.

Choices that make the port's promises hold on Slack:
- **One room per incident.** `conversations.create` makes a private channel. On `name_taken` the
  channel of that name is looked up (`conversations.list`) and its owner asked of `room_owner`
  (the composition root passes the IncidentStore's `find_by_channel`): this incident's room is
  reused; another incident's is AlreadyExists, as the port says; a private room of no incident
  that this app's bot made is a crash between create and record, and is reused; anyone else's
  channel (or one the bot cannot see) makes the room take a suffixed name (`<name>-2`, ...).
  In-process callers of one name are serialised, so concurrent creates make one channel.
- **Idempotent posts.** The message key rides in the first block's `block_id` (not in message
  `metadata`, which the 2021 Web API contract lacks). Keys posted by this process are kept in a
  key -> ts table; for a channel this process neither created nor read yet,
  `conversations.history` is read once to learn the keys already there (after a restart). The
  deployment runs one processor, so no second writer posts between the two.
- **Invites** are one `conversations.invite` with every user id and `force`, so one unknown
  person does not stop the others; people already in the room count as invited.
- **User ids** come from the roster's chat id, else one `users.lookupByEmail` per person per
  process (misses are remembered for `miss_ttl`), never one per person per incident.
"""

from __future__ import annotations

import asyncio
import re
import weakref
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from incident_response.adapters.slack.blocks import (
    fallback_text,
    key_block_id,
    marker_of,
    message_blocks,
)
from incident_response.adapters.slack.client import SlackCallFailed
from incident_response.adapters.slack.pacing import RateTable, SlackPacer, Timer
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.clock import Clock, SystemClock
from incident_response.domain.errors import AlreadyExists, NotFound
from incident_response.domain.incident import ChannelRef
from incident_response.domain.people import Person
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
NOT_FOUND = frozenset({"channel_not_found", "message_not_found", "user_not_found", "no_item"})
# invite outcomes that mean the person is in the room
PRESENT = frozenset({"already_in_channel", "cant_invite_self"})
# invite errors that concern one person, not the call
PERSON_ERRORS = PRESENT | {
    "user_not_found",
    "cant_invite",
    "user_is_restricted",
    "user_is_ultra_restricted",
    "ura_max_channels",
    "user_disabled",
}
MAX_SUFFIX = 9
TOPIC_MAX = 250
REMEMBERED_KEYS = 50_000


RoomOwner = Callable[[str], Awaitable[str | None]]
"""channel id -> the id of the incident whose room it is, if any."""


class WebApiWithResponses(Protocol):
    async def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]: ...

    async def respond(self, response_url: str, body: Mapping[str, Any]) -> None: ...


def _raise_for(exc: SlackCallFailed, what: str) -> None:
    if exc.error in NOT_FOUND:
        raise NotFound(f"{what}: {exc.error}") from exc


class SlackChat:
    """The Chat port on Slack, plus what the Slack front end needs (`reply`, `email_for`,
    `open_view`, `message`). Build it in the composition root; `aclose` on shutdown."""

    def __init__(
        self,
        *,
        api: WebApiWithResponses,
        room_owner: RoomOwner | None = None,
        rates: RateTable | None = None,
        timer: Timer | None = None,
        clock: Clock | None = None,
        miss_ttl: timedelta = timedelta(minutes=10),
        history_pages: int = 5,
    ) -> None:
        self._api = api
        self._room_owner = room_owner
        self.pacer = SlackPacer(api, rates=rates, timer=timer)
        self._clock = clock or SystemClock()
        self._miss_ttl = miss_ttl
        self._history_pages = history_pages
        self._bot_user_id = ""
        self._team_url = ""
        self._opened = False
        self._locks: weakref.WeakValueDictionary[tuple[str, ...], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._rooms: dict[str, tuple[ChannelRef, str]] = {}  # requested name -> (room, incident)
        self._posted: OrderedDict[tuple[str, str], str] = OrderedDict()  # (channel, marker) -> ts
        self._markers: dict[tuple[str, str], str] = {}  # (channel, ts) -> marker
        self._read: set[str] = set()  # channels whose keyed messages are all in `_posted`
        self._user_ids: dict[str, tuple[str | None, datetime]] = {}  # email -> (id, looked up)
        self._emails: dict[str, str | None] = {}
        self._directs: dict[str, str] = {}
        self._bookmarks: dict[str, dict[str, tuple[str, str]]] = {}  # channel -> url -> (id, title)

    async def open(self) -> SlackChat:
        """Learn the bot's user id and the workspace URL (`auth.test`), once."""
        if not self._opened:
            async with self._lock("auth"):
                if not self._opened:
                    found = await self.pacer.call("auth.test")
                    self._bot_user_id = str(found.get("user_id", ""))
                    url = str(found.get("url", ""))
                    self._team_url = url if not url or url.endswith("/") else url + "/"
                    self._opened = True
        return self

    def _lock(self, *key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    def _ref(self, channel: Mapping[str, Any]) -> ChannelRef:
        channel_id = str(channel["id"])
        url = f"{self._team_url}archives/{channel_id}" if self._team_url else ""
        return ChannelRef(id=channel_id, name=str(channel.get("name", "")), url=url)

    # -- rooms -----------------------------------------------------------------------------------

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        """A private room for `incident_id`; an empty id means a shared public channel (the
        announcements channel), reused and joined when it already exists."""
        if not CHANNEL_NAME.match(name):
            raise ValueError(
                f"channel name {name!r}: use lowercase letters, digits, '-' or '_', "
                "at most 80 characters"
            )
        await self.open()
        async with self._lock("room", name):
            known = self._rooms.get(name)
            if known is not None:
                if known[1] != incident_id:
                    raise AlreadyExists(f"channel #{name} belongs to {known[1] or 'no incident'}")
                return known[0]
            ref = await self._make_room(name, incident_id)
            self._rooms[name] = self._rooms[ref.name] = (ref, incident_id)
            return ref

    async def _make_room(self, name: str, incident_id: str) -> ChannelRef:
        for n in range(1, MAX_SUFFIX + 1):
            suffix = "" if n == 1 else f"-{n}"
            candidate = name[: 80 - len(suffix)] + suffix
            try:
                made = await self.pacer.call(
                    "conversations.create", name=candidate, is_private=bool(incident_id)
                )
            except SlackCallFailed as exc:
                if exc.error.startswith("invalid_name"):
                    raise ValueError(f"channel name {candidate!r}: {exc.error}") from exc
                if exc.error != "name_taken":
                    raise
                reused = await self._reuse(candidate, incident_id)
                if reused is not None:
                    return reused
                continue
            ref = self._ref(made["channel"])
            self._read.add(ref.id)
            log.info(
                "slack.room_created", channel_id=ref.id, name=ref.name, incident_id=incident_id
            )
            return ref
        raise AlreadyExists(f"channel #{name} and its suffixed names are all taken")

    async def _reuse(self, name: str, incident_id: str) -> ChannelRef | None:
        """The existing channel called `name` if it is this incident's; None to try a suffix."""
        found = await self._find(name)
        if found is None:
            return None  # a channel the bot cannot see: someone else's
        if not incident_id:
            if not found.get("is_member") and not found.get("is_archived"):
                await self.pacer.call("conversations.join", channel=found["id"])
            return self._ref(found)
        owner = await self._room_owner(str(found["id"])) if self._room_owner else None
        if owner == incident_id:
            return self._ref(found)
        if owner:
            raise AlreadyExists(f"channel #{name} belongs to incident {owner}")
        if found.get("creator") == self._bot_user_id and found.get("is_private"):
            return self._ref(found)  # made by this app, recorded by no incident: a crash
        return None

    async def _find(self, name: str) -> dict[str, Any] | None:
        cursor = ""
        while True:
            page = await self.pacer.call(
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

    # -- people ----------------------------------------------------------------------------------

    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
        """One batched invite. Members already there count as invited."""
        failed = {u: "blank user id" for u in user_ids if not u.strip()}
        wanted = [u for u in dict.fromkeys(user_ids) if u.strip()]
        refused = await self._invite(channel_id, wanted) if wanted else {}
        failed.update(refused)
        return InviteResult(invited=tuple(u for u in wanted if u not in refused), failed=failed)

    async def _invite(self, channel_id: str, users: list[str]) -> dict[str, str]:
        """Invite `users`; returns those refused, with Slack's reason."""
        try:
            done = await self.pacer.call(
                "conversations.invite", channel=channel_id, users=",".join(users), force=True
            )
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            if exc.error not in PERSON_ERRORS:
                raise
            named = _per_user(exc.data.get("errors"), users)
            if not named:
                if len(users) == 1:
                    return {} if exc.error in PRESENT else {users[0]: exc.error}
                results = await asyncio.gather(*(self._invite(channel_id, [u]) for u in users))
                return {u: e for result in results for u, e in result.items()}
            rest = [u for u in users if u not in named]
            refused = {u: e for u, e in named.items() if e not in PRESENT}
            return {**refused, **(await self._invite(channel_id, rest) if rest else {})}
        return {u: e for u, e in _per_user(done.get("errors"), users).items() if e not in PRESENT}

    async def user_id_for(self, person: Person) -> str | None:
        if person.chat_id:
            return person.chat_id
        email = person.email.strip().lower()
        if not email:
            return None
        async with self._lock("user", email):
            cached = self._user_ids.get(email)
            if cached is not None and (
                cached[0] is not None or self._clock.now() - cached[1] < self._miss_ttl
            ):
                return cached[0]
            try:
                found = await self.pacer.call("users.lookupByEmail", email=email)
                user_id: str | None = str(found["user"]["id"])
            except SlackCallFailed as exc:
                if exc.error != "users_not_found":
                    raise
                user_id = None
            self._user_ids[email] = (user_id, self._clock.now())
            if user_id is not None:
                self._emails[user_id] = email
            return user_id

    async def email_for(self, user_id: str) -> str | None:
        """A Slack user's e-mail (`users.info`), cached; None if Slack has none for them."""
        if user_id in self._emails:
            return self._emails[user_id]
        try:
            found = await self.pacer.call("users.info", user=user_id)
        except SlackCallFailed as exc:
            if exc.error != "user_not_found":
                raise
            return None
        email = found.get("user", {}).get("profile", {}).get("email")
        self._emails[user_id] = str(email).lower() if email else None
        return self._emails[user_id]

    # -- messages --------------------------------------------------------------------------------

    async def post(self, channel_id: str, message: ChatMessage) -> str:
        if message.key is None:
            return await self._post(channel_id, message, None)
        marker = key_block_id(message.key)
        async with self._lock("post", channel_id, marker):
            await self._read_history(channel_id)
            ts = self._posted.get((channel_id, marker))
            if ts is None:
                ts = await self._post(channel_id, message, marker)
                self._remember(channel_id, marker, ts)
            return ts

    async def _post(self, channel_id: str, message: ChatMessage, marker: str | None) -> str:
        params = {
            "channel": channel_id,
            "text": fallback_text(message),
            "blocks": message_blocks(message, marker=marker),
            "unfurl_links": False,
            "unfurl_media": False,
        }
        try:
            posted = await self.pacer.call("chat.postMessage", **params)
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            if exc.error != "not_in_channel":
                raise
            await self.pacer.call("conversations.join", channel=channel_id)
            posted = await self.pacer.call("chat.postMessage", **params)
        return str(posted["ts"])

    def _remember(self, channel_id: str, marker: str, ts: str) -> None:
        self._posted[(channel_id, marker)] = ts
        self._markers[(channel_id, ts)] = marker
        while len(self._posted) > REMEMBERED_KEYS:
            (channel, _), old_ts = self._posted.popitem(last=False)
            self._markers.pop((channel, old_ts), None)
            self._read.discard(channel)

    async def _read_history(self, channel_id: str) -> None:
        """Learn the keys already posted in a channel this process has not read (once)."""
        if channel_id in self._read:
            return
        async with self._lock("history", channel_id):
            if channel_id in self._read:
                return
            cursor = ""
            for _ in range(self._history_pages):
                try:
                    page = await self.pacer.call(
                        "conversations.history",
                        channel=channel_id,
                        limit=200,
                        **({"cursor": cursor} if cursor else {}),
                    )
                except SlackCallFailed as exc:
                    _raise_for(exc, f"channel {channel_id}")
                    raise
                for found in page.get("messages", []):
                    marker = marker_of(found.get("blocks"))
                    if marker is not None and (channel_id, marker) not in self._posted:
                        self._remember(channel_id, marker, str(found["ts"]))
                cursor = str(page.get("response_metadata", {}).get("next_cursor") or "")
                if not cursor:
                    break
            self._read.add(channel_id)

    async def update(self, channel_id: str, message_id: str, message: ChatMessage) -> None:
        """Replace the message; it keeps its key marker. Coalesced with queued updates."""
        await self._read_history(channel_id)
        marker = self._markers.get((channel_id, message_id))
        if marker is None and message.key is not None:
            marker = key_block_id(message.key)
        try:
            await self.pacer.update_message(
                channel=channel_id,
                ts=message_id,
                text=fallback_text(message),
                blocks=message_blocks(message, marker=marker),
            )
        except SlackCallFailed as exc:
            _raise_for(exc, f"message {message_id} in channel {channel_id}")
            raise

    async def pin(self, channel_id: str, message_id: str) -> None:
        try:
            await self.pacer.call("pins.add", channel=channel_id, timestamp=message_id)
        except SlackCallFailed as exc:
            _raise_for(exc, f"message {message_id} in channel {channel_id}")
            if exc.error != "already_pinned":
                raise

    async def set_topic(self, channel_id: str, topic: str) -> None:
        try:
            await self.pacer.call(
                "conversations.setTopic", channel=channel_id, topic=topic[:TOPIC_MAX]
            )
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            raise

    async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None:
        """One bookmark per url (of those this process added): adding it again only updates
        its title."""
        async with self._lock("bookmarks", channel_id):
            known = self._bookmarks.setdefault(channel_id, {})
            try:
                if url in known:
                    bookmark_id, old_title = known[url]
                    if old_title != title:
                        await self.pacer.call(
                            "bookmarks.edit",
                            channel_id=channel_id,
                            bookmark_id=bookmark_id,
                            title=title,
                        )
                        known[url] = (bookmark_id, title)
                    return
                added = await self.pacer.call(
                    "bookmarks.add", channel_id=channel_id, title=title, type="link", link=url
                )
            except SlackCallFailed as exc:
                _raise_for(exc, f"channel {channel_id}")
                raise
            known[url] = (str(added.get("bookmark", {}).get("id", "")), title)

    async def archive(self, channel_id: str) -> None:
        try:
            await self.pacer.call("conversations.archive", channel=channel_id)
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            if exc.error != "already_archived":
                raise

    async def send_direct(self, user_id: str, message: ChatMessage) -> None:
        if not user_id.strip():
            raise ValueError("direct message needs a user id")
        await self.post(await self._direct_channel(user_id), message)

    async def _direct_channel(self, user_id: str) -> str:
        async with self._lock("direct", user_id):
            if user_id not in self._directs:
                try:
                    opened = await self.pacer.call("conversations.open", users=user_id)
                except SlackCallFailed as exc:
                    _raise_for(exc, f"user {user_id}")
                    raise
                self._directs[user_id] = str(opened["channel"]["id"])
            return self._directs[user_id]

    # -- for the Slack front end -----------------------------------------------------------------

    async def reply(
        self, *, user_id: str, text: str, response_url: str = "", channel_id: str = ""
    ) -> None:
        """Show `text` to one person only: through the interaction's `response_url`, else as an
        ephemeral message in the channel, else as a direct message."""
        if response_url:
            try:
                await self._api.respond(
                    response_url,
                    {"response_type": "ephemeral", "replace_original": False, "text": text},
                )
                return
            except SlackCallFailed:
                log.warning("slack.response_url_failed", user_id=user_id)
        if channel_id:
            try:
                await self.pacer.call(
                    "chat.postEphemeral", channel=channel_id, user=user_id, text=text
                )
                return
            except SlackCallFailed:
                log.warning("slack.ephemeral_failed", user_id=user_id, channel_id=channel_id)
        await self.send_direct(user_id, ChatMessage(text=text))

    async def open_view(self, trigger_id: str, view: Mapping[str, Any]) -> None:
        await self.pacer.call("views.open", trigger_id=trigger_id, view=dict(view))

    async def message(self, channel_id: str, ts: str) -> dict[str, Any] | None:
        """One message by its ts (the reacted-to message, whose text the event leaves out)."""
        try:
            page = await self.pacer.call(
                "conversations.history",
                channel=channel_id,
                latest=ts,
                oldest=ts,
                inclusive=True,
                limit=1,
            )
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            raise
        found = [m for m in page.get("messages", []) if m.get("ts") == ts]
        return dict(found[0]) if found else None

    def permalink(self, channel_id: str, ts: str) -> str:
        if not self._team_url:
            return ""
        return f"{self._team_url}archives/{channel_id}/p{ts.replace('.', '')}"

    async def aclose(self) -> None:
        await self.pacer.aclose()


def _per_user(errors: Any, users: Sequence[str]) -> dict[str, str]:
    """`{user: error}` from an invite's `errors` list, for the users asked about."""
    if not isinstance(errors, list):
        return {}
    return {
        str(e["user"]): str(e.get("error", "unknown_error"))
        for e in errors
        if isinstance(e, Mapping) and e.get("user") in users
    }
