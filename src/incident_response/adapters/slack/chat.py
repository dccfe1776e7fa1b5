"""SlackChat: the Chat port on Slack's Web API, every call through the pacer.

Choices that make the port's promises hold on Slack:
- **One room per incident**, also across restarts: see rooms.py.
- **Idempotent posts**: the key rides in the first block's `block_id`; see history.py.
- **Idempotent bookmarks**: one per (channel, url), also across restarts; see bookmarks.py.
- **Invites** are one `conversations.invite` with every user id and `force`, so one unknown
  person does not stop the others; people already in the room count as invited.
- **User ids** come from the roster's chat id, else one `users.lookupByEmail` per person per
  process (misses are remembered for `miss_ttl`), never one per person per incident.
- Every call goes through the pacer (pacing.py): queued at Slack's tier rates, 429s waited out.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol

from incident_response.adapters.slack.blocks import fallback_text, key_block_id, message_blocks
from incident_response.adapters.slack.bookmarks import ChannelBookmarks
from incident_response.adapters.slack.client import SlackCallFailed
from incident_response.adapters.slack.history import PostedKeys
from incident_response.adapters.slack.markup import SlackMarkup
from incident_response.adapters.slack.pacing import RateTable, SlackPacer, Timer
from incident_response.adapters.slack.rooms import RoomOwner, Rooms, Workspace
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.clock import Clock, SystemClock
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import ChannelRef
from incident_response.domain.people import Person
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

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
TOPIC_MAX = 250


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
        markup: SlackMarkup | None = None,
    ) -> None:
        self._api = api
        self.markup = markup or SlackMarkup()
        self.pacer = SlackPacer(api, rates=rates, timer=timer)
        self._workspace = Workspace()
        self._rooms = Rooms(self.pacer, self._workspace, room_owner)
        self._keys = PostedKeys(self.pacer, pages=history_pages)
        self._clock = clock or SystemClock()
        self._miss_ttl = miss_ttl
        self._opened = False
        self._locks: weakref.WeakValueDictionary[tuple[str, ...], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )
        self._user_ids: dict[str, tuple[str | None, datetime]] = {}  # email -> (id, looked up)
        self._emails: dict[str, str | None] = {}
        self._directs: dict[str, str] = {}
        self._bookmarks = ChannelBookmarks(self.pacer)

    async def open(self) -> SlackChat:
        """Learn the bot's user id and the workspace URL (`auth.test`), once."""
        if not self._opened:
            async with self._lock("auth"):
                if not self._opened:
                    found = await self.pacer.call("auth.test")
                    self._workspace.bot_user_id = str(found.get("user_id", ""))
                    url = str(found.get("url", ""))
                    self._workspace.url = url if not url or url.endswith("/") else url + "/"
                    self._opened = True
        return self

    def _lock(self, *key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock

    # -- rooms -----------------------------------------------------------------------------------

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        """A private room for `incident_id`; an empty id means a shared public channel (the
        announcements channel), reused and joined when it already exists."""
        await self.open()
        ref, made = await self._rooms.create(name, incident_id)
        if made:
            self._keys.new_channel(ref.id)
            self._bookmarks.new_channel(ref.id)
        return ref

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

    def mention(self, person: Person) -> str:
        return self.markup.mention(person)

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
            await self._learn(channel_id)
            ts = self._keys.ts(channel_id, marker)
            if ts is None:
                ts = await self._post(channel_id, message, marker)
                self._keys.remember(channel_id, marker, ts)
            return ts

    async def _post(self, channel_id: str, message: ChatMessage, marker: str | None) -> str:
        params = {
            "channel": channel_id,
            "text": fallback_text(message, self.markup),
            "blocks": message_blocks(message, self.markup, marker=marker),
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

    async def _learn(self, channel_id: str) -> None:
        try:
            await self._keys.learn(channel_id)
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            raise

    async def update(self, channel_id: str, message_id: str, message: ChatMessage) -> None:
        """Replace the message; it keeps its key marker. Coalesced with queued updates."""
        await self._learn(channel_id)
        marker = self._keys.marker(channel_id, message_id)
        if marker is None and message.key is not None:
            marker = key_block_id(message.key)
        try:
            await self.pacer.update_message(
                channel=channel_id,
                ts=message_id,
                text=fallback_text(message, self.markup),
                blocks=message_blocks(message, self.markup, marker=marker),
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
        """One bookmark per url: adding it again only updates its title."""
        try:
            await self._bookmarks.add(channel_id, title=title, url=url)
        except SlackCallFailed as exc:
            _raise_for(exc, f"channel {channel_id}")
            raise

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
        ephemeral message in the channel, else as a direct message. The text is mrkdwn there
        too (a command's reply quotes alert titles), so it is rendered like every message."""
        plain = text
        text = self.markup.render(text)
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
        await self.send_direct(user_id, ChatMessage(text=plain))

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
        if not self._workspace.url:
            return ""
        return f"{self._workspace.url}archives/{channel_id}/p{ts.replace('.', '')}"

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
