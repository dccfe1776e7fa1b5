"""Live updates for console pages: Server-Sent Events saying *what* changed, never the content.

A page that hears about its incident fetches itself again and swaps the parts that differ
(static/console.js), so the server renders HTML in one place only. Two sources feed the stream:
- the console chat's in-process notifications (a message, a pin, a new war room): instant;
- a cheap poll of the newest incidents' versions, which sees every change to an incident,
  including those made by another process (the `processor` role) or through the API.

One feed per app polls on behalf of every open page, and only while a page is listening.
Each stream ends after `max_stream_seconds` and the browser reconnects at once (a reconnecting
page refreshes itself, so nothing is missed): an open tab then never holds up a graceful
shutdown for longer than that.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass
from typing import Protocol

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse

from incident_response.adapters.console.records import ChatChange, ConsoleChannel
from incident_response.ports import IncidentStore
from incident_response.telemetry.logging import get_logger
from incident_response.web.console.signin import ConsoleAuth

log = get_logger(__name__)

KEEPALIVE_SECONDS = 10.0
SUBSCRIBER_QUEUE = 100


class LiveChat(Protocol):
    def subscribe(self) -> asyncio.Queue[ChatChange]: ...

    def unsubscribe(self, queue: asyncio.Queue[ChatChange]) -> None: ...

    async def channel(self, channel_id: str) -> ConsoleChannel | None: ...


@dataclass(frozen=True)
class LiveChange:
    """`incident_id` is empty for a change outside incidents (the announcements channel)."""

    kind: str
    incident_id: str = ""
    channel_id: str = ""


class ChangeFeed:
    def __init__(
        self,
        *,
        store: IncidentStore,
        chat: LiveChat,
        poll_seconds: float = 1.0,
        watch: int = 100,
    ) -> None:
        self._store = store
        self._chat = chat
        self._poll_seconds = poll_seconds
        self._watch = watch
        self._subscribers: set[asyncio.Queue[LiveChange]] = set()
        self._task: asyncio.Task[None] | None = None
        self._channels: dict[str, str] = {}

    @contextlib.asynccontextmanager
    async def subscription(self) -> AsyncIterator[asyncio.Queue[LiveChange]]:
        queue: asyncio.Queue[LiveChange] = asyncio.Queue(maxsize=SUBSCRIBER_QUEUE)
        self._subscribers.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="console-change-feed")
        try:
            yield queue
        finally:
            self._subscribers.discard(queue)
            if not self._subscribers and self._task is not None:
                self._task.cancel()  # its own cleanup unsubscribes from the chat
                self._task = None

    def _publish(self, change: LiveChange) -> None:
        for queue in list(self._subscribers):
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(change)

    async def _versions(self) -> dict[str, int]:
        return {i.id: i.version for i in await self._store.recent(limit=self._watch)}

    async def _incident_of(self, channel_id: str) -> str:
        if channel_id not in self._channels:
            channel = await self._chat.channel(channel_id)
            if channel is None:
                return ""
            self._channels[channel_id] = channel.incident_id
        return self._channels[channel_id]

    async def _run(self) -> None:
        chat_changes = self._chat.subscribe()
        try:
            known = await self._versions()
            next_poll = time.monotonic() + self._poll_seconds
            while True:
                wait = max(next_poll - time.monotonic(), 0.0)
                try:
                    change = await asyncio.wait_for(chat_changes.get(), timeout=wait)
                except TimeoutError:
                    change = None
                try:
                    if change is not None and change.kind != "direct":
                        incident_id = await self._incident_of(change.channel_id)
                        self._publish(LiveChange(change.kind, incident_id, change.channel_id))
                    if time.monotonic() >= next_poll:
                        next_poll = time.monotonic() + self._poll_seconds
                        current = await self._versions()
                        for incident_id, version in current.items():
                            if known.get(incident_id) != version:
                                kind = "incident" if incident_id in known else "new_incident"
                                self._publish(LiveChange(kind, incident_id))
                        known = current
                except Exception:
                    log.exception("console.change_feed_failed")
        finally:
            self._chat.unsubscribe(chat_changes)


def sse(event: str, data: dict[str, str]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def live_router(
    *, auth: ConsoleAuth, feed: ChangeFeed, max_stream_seconds: float = 10.0
) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/console/events")
    async def events(request: Request) -> Response:
        """`change` events naming the incident (or channel) that changed; 401 when signed out."""
        if await auth.visitor(request) is None:
            return PlainTextResponse("sign in first", status_code=401)

        async def stream() -> AsyncIterator[str]:
            yield "retry: 1000\n\n"
            deadline = time.monotonic() + max_stream_seconds
            async with feed.subscription() as queue:
                yield sse("ready", {})
                while (left := deadline - time.monotonic()) > 0:
                    try:
                        change = await asyncio.wait_for(
                            queue.get(), timeout=min(KEEPALIVE_SECONDS, left)
                        )
                    except TimeoutError:
                        yield ": keep-alive\n\n"
                        continue
                    yield sse("change", asdict(change))

        return StreamingResponse(
            stream(),
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )

    return router
