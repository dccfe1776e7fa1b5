"""Which keyed messages a channel already holds: what makes `post` idempotent on Slack.

A message's key rides in its first block's `block_id` (blocks.py), not in message `metadata`,
which the 2021 Web API contract lacks. Keys posted by this process are kept in a key -> ts table.
For a channel this process neither created nor read yet, `conversations.history` is read once
(newest `pages` x 200 messages) to learn the keys already there: after a restart, a retried post
finds the first copy. The deployment runs one processor, so no other writer posts between the
two.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict

from incident_response.adapters.slack.blocks import marker_of
from incident_response.adapters.slack.pacing import SlackPacer

PAGE = 200
REMEMBERED = 50_000


class PostedKeys:
    def __init__(self, pacer: SlackPacer, *, pages: int = 5, remembered: int = REMEMBERED) -> None:
        self._pacer = pacer
        self._pages = pages
        self._remembered = remembered
        self._ts: OrderedDict[tuple[str, str], str] = OrderedDict()  # (channel, marker) -> ts
        self._markers: dict[tuple[str, str], str] = {}  # (channel, ts) -> marker
        self._read: set[str] = set()  # channels whose keyed messages are all in the table
        self._locks: dict[str, asyncio.Lock] = {}

    def ts(self, channel_id: str, marker: str) -> str | None:
        return self._ts.get((channel_id, marker))

    def marker(self, channel_id: str, ts: str) -> str | None:
        return self._markers.get((channel_id, ts))

    def new_channel(self, channel_id: str) -> None:
        """A channel made by this process: every keyed message in it will be in the table."""
        self._read.add(channel_id)

    def remember(self, channel_id: str, marker: str, ts: str) -> None:
        self._ts[(channel_id, marker)] = ts
        self._markers[(channel_id, ts)] = marker
        while len(self._ts) > self._remembered:
            (channel, _), old = self._ts.popitem(last=False)
            self._markers.pop((channel, old), None)
            self._read.discard(channel)  # its table is incomplete now: read it again if asked

    async def learn(self, channel_id: str) -> None:
        """Read the channel's recent history once, unless this process knows it already.
        Raises SlackCallFailed (e.g. `channel_not_found`) as the Web API does."""
        if channel_id in self._read:
            return
        async with self._locks.setdefault(channel_id, asyncio.Lock()):
            if channel_id in self._read:
                return
            cursor = ""
            for _ in range(self._pages):
                page = await self._pacer.call(
                    "conversations.history",
                    channel=channel_id,
                    limit=PAGE,
                    **({"cursor": cursor} if cursor else {}),
                )
                for found in page.get("messages", []):
                    marker = marker_of(found.get("blocks"))
                    if marker is not None and (channel_id, marker) not in self._ts:
                        self.remember(channel_id, marker, str(found["ts"]))
                cursor = str(page.get("response_metadata", {}).get("next_cursor") or "")
                if not cursor:
                    break
            self._read.add(channel_id)
            self._locks.pop(channel_id, None)
