"""Which bookmarks a channel holds: what makes `add_bookmark` idempotent per (channel, url).

Bookmarks this process added are kept in a url -> (id, title) table per channel. For a channel
this process neither created nor read yet, `bookmarks.list` is read once, so after a restart a
retried add (a resumed assembly, a resumed resolution) finds the first bookmark instead of adding
a second. Adding a known URL under another title renames it (`bookmarks.edit`). The deployment
runs one processor, so no other writer adds between the read and the add.
"""

from __future__ import annotations

import asyncio
import weakref

from incident_response.adapters.slack.pacing import SlackPacer

Known = dict[str, tuple[str, str]]  # url -> (bookmark id, title)


class ChannelBookmarks:
    def __init__(self, pacer: SlackPacer) -> None:
        self._pacer = pacer
        self._known: dict[str, Known] = {}
        self._locks: weakref.WeakValueDictionary[tuple[str, ...], asyncio.Lock] = (
            weakref.WeakValueDictionary()
        )

    def new_channel(self, channel_id: str) -> None:
        """A channel made by this process: it has no bookmarks but those added here."""
        self._known.setdefault(channel_id, {})

    async def add(self, channel_id: str, *, title: str, url: str) -> None:
        """Raises SlackCallFailed as the Web API does (e.g. `channel_not_found`)."""
        async with self._lock(channel_id, url):
            known = await self._learn(channel_id)
            found = known.get(url)
            if found is None:
                added = await self._pacer.call(
                    "bookmarks.add", channel_id=channel_id, title=title, type="link", link=url
                )
                known[url] = (str(added.get("bookmark", {}).get("id", "")), title)
            elif found[1] != title:
                await self._pacer.call(
                    "bookmarks.edit", channel_id=channel_id, bookmark_id=found[0], title=title
                )
                known[url] = (found[0], title)

    async def _learn(self, channel_id: str) -> Known:
        if channel_id in self._known:
            return self._known[channel_id]
        async with self._lock(channel_id):
            if channel_id not in self._known:
                listed = await self._pacer.call("bookmarks.list", channel_id=channel_id)
                self._known[channel_id] = {
                    str(b["link"]): (str(b.get("id", "")), str(b.get("title", "")))
                    for b in listed.get("bookmarks", [])
                    if isinstance(b, dict) and b.get("link")
                }
            return self._known[channel_id]

    def _lock(self, *key: str) -> asyncio.Lock:
        lock = self._locks.get(key)
        if lock is None:
            lock = asyncio.Lock()
            self._locks[key] = lock
        return lock
