"""What the console chat stores: its tables and the records its read methods return."""

from __future__ import annotations

import json
from datetime import datetime

import aiosqlite
from pydantic import BaseModel, ConfigDict

from incident_response.domain.chat import ChatButton, ChatMessage
from incident_response.domain.clock import utc
from incident_response.domain.incident import ChannelRef

SCHEMA = """
CREATE TABLE IF NOT EXISTS console_channels (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL,
    url TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    archived INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_channels_incident ON console_channels (incident_id);
CREATE TABLE IF NOT EXISTS console_members (
    channel_id TEXT NOT NULL REFERENCES console_channels (id),
    user_id TEXT NOT NULL,
    joined_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, user_id)
);
CREATE TABLE IF NOT EXISTS console_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    channel_id TEXT NOT NULL,
    direct INTEGER NOT NULL DEFAULT 0,
    key TEXT,
    text TEXT NOT NULL,
    sections TEXT NOT NULL,
    buttons TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (channel_id, direct, key)
);
CREATE TABLE IF NOT EXISTS console_pins (
    channel_id TEXT NOT NULL,
    message_id TEXT NOT NULL,
    pinned_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, message_id)
);
CREATE TABLE IF NOT EXISTS console_bookmarks (
    channel_id TEXT NOT NULL,
    url TEXT NOT NULL,
    title TEXT NOT NULL,
    added_at TEXT NOT NULL,
    PRIMARY KEY (channel_id, url)
);
CREATE TABLE IF NOT EXISTS console_users (
    user_id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    name TEXT NOT NULL
)
"""


class ConsoleChannel(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    incident_id: str
    url: str
    topic: str
    archived: bool
    created_at: datetime

    @property
    def ref(self) -> ChannelRef:
        return ChannelRef(id=self.id, name=self.name, url=self.url)


class ConsoleMessage(BaseModel):
    """A stored message; `channel_id` is the person's user id for a direct message."""

    model_config = ConfigDict(frozen=True)

    id: str
    channel_id: str
    text: str
    sections: tuple[str, ...] = ()
    buttons: tuple[ChatButton, ...] = ()
    key: str | None = None
    created_at: datetime
    updated_at: datetime


class Bookmark(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    url: str


class ChatChange(BaseModel):
    """A change the console UI may want to redraw: `kind` is what happened, where and to what."""

    model_config = ConfigDict(frozen=True)

    kind: str  # channel_created, members, message, message_updated, pin, topic, bookmark, archived, direct
    channel_id: str
    message_id: str | None = None


def sections_json(message: ChatMessage) -> str:
    return json.dumps(list(message.sections), ensure_ascii=False)


def buttons_json(message: ChatMessage) -> str:
    return json.dumps([b.model_dump(mode="json") for b in message.buttons], ensure_ascii=False)


def parse_time(value: str) -> datetime:
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def channel_record(row: aiosqlite.Row) -> ConsoleChannel:
    return ConsoleChannel(
        id=row["id"],
        name=row["name"],
        incident_id=row["incident_id"],
        url=row["url"],
        topic=row["topic"],
        archived=bool(row["archived"]),
        created_at=parse_time(row["created_at"]),
    )


def message_record(row: aiosqlite.Row) -> ConsoleMessage:
    return ConsoleMessage(
        id=row["id"],
        channel_id=row["channel_id"],
        text=row["text"],
        sections=tuple(json.loads(row["sections"])),
        buttons=tuple(ChatButton.model_validate(b) for b in json.loads(row["buttons"])),
        key=row["key"],
        created_at=parse_time(row["created_at"]),
        updated_at=parse_time(row["updated_at"]),
    )
