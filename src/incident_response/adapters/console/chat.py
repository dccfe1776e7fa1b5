"""The built-in console chat: war rooms kept in the shared SQLite file, shown by the web console.

It behaves like the Slack adapter where the Chat port says what must hold:
- `create_channel` with a name this incident already holds returns that channel (a retried
  assembly never makes a second room); a name held by another incident raises AlreadyExists,
  as Slack's `name_taken` does. Names follow Slack's rules (lowercase letters, digits, `-`, `_`,
  at most 80 characters).
- `post` is idempotent per message key within a channel; `send_direct` per key per person.
- Anyone may be invited: the console has no accounts, so user ids are the roster's chat ids or a
  stable id derived from the e-mail address (see `user_id_for`).
Archived channels stay readable and writable: archiving is a flag the console shows.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import re
import uuid
from collections.abc import Sequence
from typing import Any

import aiosqlite

from incident_response.adapters.console.records import (
    SCHEMA,
    Bookmark,
    ChatChange,
    ConsoleChannel,
    ConsoleMessage,
    buttons_json,
    channel_record,
    message_record,
    sections_json,
)
from incident_response.adapters.embedded.db import Database
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.clock import Clock, SystemClock, isoformat
from incident_response.domain.errors import AlreadyExists, NotFound
from incident_response.domain.incident import ChannelRef
from incident_response.domain.people import Person

CHANNEL_NAME = re.compile(r"^[a-z0-9_-]{1,80}$")
SUBSCRIBER_QUEUE_SIZE = 1000


def derived_user_id(email: str) -> str:
    """A stable console user id for someone the roster gives no chat id."""
    return "U" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:10].upper()


class ConsoleChat:
    """Chat port on the shared Database; the extra read methods serve the web console."""

    def __init__(self, db: Database, *, base_url: str, clock: Clock | None = None) -> None:
        self._db = db
        self._base_url = base_url.rstrip("/")
        self._clock = clock or SystemClock()
        self._ready = False
        self._subscribers: list[asyncio.Queue[ChatChange]] = []

    async def _conn(self) -> Database:
        if not self._ready:
            await self._db.migrate("console_chat", SCHEMA)
            self._ready = True
        return self._db

    def _now(self) -> str:
        return isoformat(self._clock.now())

    def _url(self, incident_id: str, channel_id: str) -> str:
        if incident_id:
            return f"{self._base_url}/console/incidents/{incident_id}"
        return f"{self._base_url}/console/channels/{channel_id}"

    # -- the Chat port -------------------------------------------------------------------------

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        """An empty `incident_id` makes a channel that belongs to no incident (announcements)."""
        if not CHANNEL_NAME.match(name):
            raise ValueError(
                f"channel name {name!r}: use lowercase letters, digits, '-' or '_', "
                "at most 80 characters"
            )
        db = await self._conn()
        async with db.transaction() as conn:
            existing = await _one(conn, "SELECT * FROM console_channels WHERE name = ?", (name,))
            if existing is not None:
                if existing["incident_id"] != incident_id:
                    raise AlreadyExists(
                        f"channel #{name} belongs to incident {existing['incident_id'] or '(none)'}"
                    )
                return channel_record(existing).ref
            channel_id = "C" + uuid.uuid4().hex[:10].upper()
            url = self._url(incident_id, channel_id)
            await conn.execute(
                "INSERT INTO console_channels (id, name, incident_id, url, created_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (channel_id, name, incident_id, url, self._now()),
            )
        self._notify(ChatChange(kind="channel_created", channel_id=channel_id))
        return ChannelRef(id=channel_id, name=name, url=url)

    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
        """Already-present members count as invited; blank ids fail."""
        db = await self._conn()
        invited: list[str] = []
        failed: dict[str, str] = {}
        async with db.transaction() as conn:
            await self._require_channel(conn, channel_id)
            for user_id in dict.fromkeys(user_ids):
                if not user_id.strip():
                    failed[user_id] = "blank user id"
                    continue
                await conn.execute(
                    "INSERT OR IGNORE INTO console_members (channel_id, user_id, joined_at)"
                    " VALUES (?, ?, ?)",
                    (channel_id, user_id, self._now()),
                )
                invited.append(user_id)
        self._notify(ChatChange(kind="members", channel_id=channel_id))
        return InviteResult(invited=tuple(invited), failed=failed)

    async def post(self, channel_id: str, message: ChatMessage) -> str:
        db = await self._conn()
        async with db.transaction() as conn:
            await self._require_channel(conn, channel_id)
            message_id, new = await self._insert(conn, channel_id, message, direct=False)
        if new:
            self._notify(ChatChange(kind="message", channel_id=channel_id, message_id=message_id))
        return message_id

    async def update(self, channel_id: str, message_id: str, message: ChatMessage) -> None:
        """Replace the text, sections and buttons; the message keeps its id and key."""
        db = await self._conn()
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE console_messages SET text = ?, sections = ?, buttons = ?, updated_at = ?"
                " WHERE id = ? AND channel_id = ? AND direct = 0",
                (
                    message.text,
                    sections_json(message),
                    buttons_json(message),
                    self._now(),
                    message_id,
                    channel_id,
                ),
            )
            if cursor.rowcount == 0:
                raise NotFound(f"message {message_id} in channel {channel_id}")
        self._notify(
            ChatChange(kind="message_updated", channel_id=channel_id, message_id=message_id)
        )

    async def pin(self, channel_id: str, message_id: str) -> None:
        db = await self._conn()
        async with db.transaction() as conn:
            found = await _one(
                conn,
                "SELECT 1 FROM console_messages WHERE id = ? AND channel_id = ? AND direct = 0",
                (message_id, channel_id),
            )
            if found is None:
                raise NotFound(f"message {message_id} in channel {channel_id}")
            await conn.execute(
                "INSERT OR IGNORE INTO console_pins (channel_id, message_id, pinned_at)"
                " VALUES (?, ?, ?)",
                (channel_id, message_id, self._now()),
            )
        self._notify(ChatChange(kind="pin", channel_id=channel_id, message_id=message_id))

    async def set_topic(self, channel_id: str, topic: str) -> None:
        await self._set_channel(channel_id, "topic = ?", (topic,), kind="topic")

    async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None:
        """One bookmark per url: adding it again only updates its title."""
        db = await self._conn()
        async with db.transaction() as conn:
            await self._require_channel(conn, channel_id)
            await conn.execute(
                "INSERT INTO console_bookmarks (channel_id, url, title, added_at)"
                " VALUES (?, ?, ?, ?)"
                " ON CONFLICT (channel_id, url) DO UPDATE SET title = excluded.title",
                (channel_id, url, title, self._now()),
            )
        self._notify(ChatChange(kind="bookmark", channel_id=channel_id))

    async def archive(self, channel_id: str) -> None:
        await self._set_channel(channel_id, "archived = 1", (), kind="archived")

    async def send_direct(self, user_id: str, message: ChatMessage) -> None:
        if not user_id.strip():
            raise ValueError("direct message needs a user id")
        db = await self._conn()
        async with db.transaction() as conn:
            message_id, new = await self._insert(conn, user_id, message, direct=True)
        if new:
            self._notify(ChatChange(kind="direct", channel_id=user_id, message_id=message_id))

    async def user_id_for(self, person: Person) -> str | None:
        """The roster's chat id, else a stable id derived from the e-mail (kept for lookups)."""
        user_id = person.chat_id or derived_user_id(person.email)
        db = await self._conn()
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO console_users (user_id, email, name) VALUES (?, ?, ?)"
                " ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, name = excluded.name",
                (user_id, person.email.strip().lower(), person.name),
            )
        return user_id

    def mention(self, person: Person) -> str:
        """The console notifies nobody: a mention is the person's name."""
        return person.name or person.email

    # -- reads for the web console -------------------------------------------------------------

    async def channel(self, channel_id: str) -> ConsoleChannel | None:
        db = await self._conn()
        row = await db.fetchone("SELECT * FROM console_channels WHERE id = ?", (channel_id,))
        return channel_record(row) if row is not None else None

    async def channels(self, *, incident_id: str | None = None) -> list[ConsoleChannel]:
        db = await self._conn()
        if incident_id is None:
            rows = await db.fetchall("SELECT * FROM console_channels ORDER BY rowid")
        else:
            rows = await db.fetchall(
                "SELECT * FROM console_channels WHERE incident_id = ? ORDER BY rowid",
                (incident_id,),
            )
        return [channel_record(r) for r in rows]

    async def channel_by_name(self, name: str) -> ConsoleChannel | None:
        db = await self._conn()
        row = await db.fetchone("SELECT * FROM console_channels WHERE name = ?", (name,))
        return channel_record(row) if row is not None else None

    async def messages(self, channel_id: str) -> list[ConsoleMessage]:
        """Oldest first."""
        return await self._messages(channel_id, direct=False)

    async def direct_messages(self, user_id: str) -> list[ConsoleMessage]:
        return await self._messages(user_id, direct=True)

    async def members(self, channel_id: str) -> list[str]:
        db = await self._conn()
        rows = await db.fetchall(
            "SELECT user_id FROM console_members WHERE channel_id = ? ORDER BY rowid",
            (channel_id,),
        )
        return [r["user_id"] for r in rows]

    async def pins(self, channel_id: str) -> list[str]:
        db = await self._conn()
        rows = await db.fetchall(
            "SELECT message_id FROM console_pins WHERE channel_id = ? ORDER BY rowid",
            (channel_id,),
        )
        return [r["message_id"] for r in rows]

    async def bookmarks(self, channel_id: str) -> list[Bookmark]:
        db = await self._conn()
        rows = await db.fetchall(
            "SELECT title, url FROM console_bookmarks WHERE channel_id = ? ORDER BY rowid",
            (channel_id,),
        )
        return [Bookmark(title=r["title"], url=r["url"]) for r in rows]

    async def user_email(self, user_id: str) -> str | None:
        """Who a console user id belongs to, for ids `user_id_for` handed out."""
        db = await self._conn()
        row = await db.fetchone("SELECT email FROM console_users WHERE user_id = ?", (user_id,))
        return str(row["email"]) if row is not None else None

    # -- live updates --------------------------------------------------------------------------

    def subscribe(self) -> asyncio.Queue[ChatChange]:
        """A queue of changes made through this adapter after the call. A subscriber that falls
        behind by more than its queue's size misses changes rather than slowing incidents."""
        queue: asyncio.Queue[ChatChange] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE_SIZE)
        self._subscribers.append(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[ChatChange]) -> None:
        with contextlib.suppress(ValueError):
            self._subscribers.remove(queue)

    def _notify(self, change: ChatChange) -> None:
        for queue in self._subscribers:
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(change)

    # -- internals -----------------------------------------------------------------------------

    async def _require_channel(self, conn: aiosqlite.Connection, channel_id: str) -> None:
        if await _one(conn, "SELECT 1 FROM console_channels WHERE id = ?", (channel_id,)) is None:
            raise NotFound(f"channel {channel_id}")

    async def _set_channel(
        self, channel_id: str, assignment: str, params: tuple[Any, ...], *, kind: str
    ) -> None:
        db = await self._conn()
        async with db.transaction() as conn:
            cursor = await conn.execute(
                f"UPDATE console_channels SET {assignment} WHERE id = ?", (*params, channel_id)
            )
            if cursor.rowcount == 0:
                raise NotFound(f"channel {channel_id}")
        self._notify(ChatChange(kind=kind, channel_id=channel_id))

    async def _insert(
        self, conn: aiosqlite.Connection, channel_id: str, message: ChatMessage, *, direct: bool
    ) -> tuple[str, bool]:
        """Store `message` unless its key is already there; (message id, whether it is new)."""
        if message.key is not None:
            existing = await _one(
                conn,
                "SELECT id FROM console_messages WHERE channel_id = ? AND direct = ? AND key = ?",
                (channel_id, int(direct), message.key),
            )
            if existing is not None:
                return str(existing["id"]), False
        message_id = "M" + uuid.uuid4().hex[:12].upper()
        now = self._now()
        await conn.execute(
            "INSERT INTO console_messages"
            " (id, channel_id, direct, key, text, sections, buttons, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                message_id,
                channel_id,
                int(direct),
                message.key,
                message.text,
                sections_json(message),
                buttons_json(message),
                now,
                now,
            ),
        )
        return message_id, True

    async def _messages(self, channel_id: str, *, direct: bool) -> list[ConsoleMessage]:
        db = await self._conn()
        rows = await db.fetchall(
            "SELECT * FROM console_messages WHERE channel_id = ? AND direct = ? ORDER BY seq",
            (channel_id, int(direct)),
        )
        return [message_record(r) for r in rows]


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()
