"""Slack's Socket Mode protocol: one-time ticket URLs, `hello`, envelopes and their acks.

apps.connections.open hands out a single-use `ws://.../link/?ticket=...` URL. On connect the fake
sends `{"type": "hello", ...}`; each envelope it delivers must be acknowledged by the client with
`{"envelope_id": ...}` (optionally with a `payload`) within 3 seconds, as Slack requires, and the
ack latency is recorded. When several clients are connected Slack picks one; the fake rotates.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web


class AckTimeout(AssertionError):
    """The app did not acknowledge an envelope in time: Slack would show the user an error."""


class NoSocketClient(AssertionError):
    """No app was connected over Socket Mode when the test tried to deliver an envelope."""


@dataclass
class Ack:
    envelope_id: str
    type: str
    latency: float
    """Seconds from sending the envelope to receiving its ack."""
    payload: dict[str, Any] | None
    """What the app sent back with the ack (a slash command's reply, a view's response_action)."""


class SocketHub:
    """The Socket Mode endpoint's connections and the envelopes waiting for acks."""

    def __init__(self, *, app_id: str, ack_timeout: float, connect_timeout: float) -> None:
        self.app_id = app_id
        self.ack_timeout = ack_timeout
        self.connect_timeout = connect_timeout
        self.acks: list[Ack] = []
        self.connections_opened = 0
        self._tickets: set[str] = set()
        self._sockets: list[web.WebSocketResponse] = []
        self._pending: dict[str, asyncio.Future[dict[str, Any]]] = {}
        self._connected = asyncio.Condition()
        self._turn = 0

    def issue_ticket(self) -> str:
        ticket = uuid.uuid4().hex
        self._tickets.add(ticket)
        return ticket

    @property
    def connected(self) -> int:
        return len(self._sockets)

    async def handle(self, request: web.Request) -> web.StreamResponse:
        ticket = request.query.get("ticket", "")
        if ticket not in self._tickets:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        self._tickets.discard(ticket)
        socket = web.WebSocketResponse(autoping=True)
        await socket.prepare(request)
        self.connections_opened += 1
        async with self._connected:
            self._sockets.append(socket)
            self._connected.notify_all()
        try:
            await socket.send_str(json.dumps(self._hello()))
            async for frame in socket:
                if frame.type == WSMsgType.TEXT:
                    self._receive(frame.data)
        finally:
            if socket in self._sockets:
                self._sockets.remove(socket)
        return socket

    def _hello(self) -> dict[str, Any]:
        return {
            "type": "hello",
            "num_connections": len(self._sockets),
            "debug_info": {
                "host": "fake-slack",
                "build_number": 1,
                "approximate_connection_time": 18060,
            },
            "connection_info": {"app_id": self.app_id},
        }

    def _receive(self, data: str) -> None:
        try:
            message = json.loads(data)
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        waiting = self._pending.get(str(message.get("envelope_id")))
        if waiting is not None and not waiting.done():
            waiting.set_result(message)

    async def wait_for_client(self) -> None:
        """Until an app is connected (it connects in the background after starting)."""
        async with self._connected:
            try:
                await asyncio.wait_for(
                    self._connected.wait_for(lambda: bool(self._sockets)),
                    self.connect_timeout,
                )
            except TimeoutError as error:
                raise NoSocketClient("no app connected over Socket Mode") from error

    async def deliver(
        self, kind: str, payload: dict[str, Any], *, accepts_response_payload: bool
    ) -> Ack:
        """Send one envelope and wait for its ack; raise AckTimeout after `ack_timeout` seconds."""
        await self.wait_for_client()
        socket = self._sockets[self._turn % len(self._sockets)]
        self._turn += 1
        envelope_id = str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts_response_payload,
        }
        if kind == "events_api":
            envelope["retry_attempt"] = 0
            envelope["retry_reason"] = ""
        waiting: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[envelope_id] = waiting
        started = time.monotonic()
        try:
            await socket.send_str(json.dumps(envelope))
            reply = await asyncio.wait_for(waiting, self.ack_timeout)
        except TimeoutError as error:
            raise AckTimeout(
                f"{kind} envelope not acknowledged within {self.ack_timeout} s"
            ) from error
        finally:
            del self._pending[envelope_id]
        body = reply.get("payload")
        ack = Ack(
            envelope_id, kind, time.monotonic() - started, body if isinstance(body, dict) else None
        )
        self.acks.append(ack)
        return ack

    async def disconnect_all(self, reason: str = "refresh_requested") -> None:
        """Ask every client to reconnect, as Slack does before rotating its servers."""
        for socket in list(self._sockets):
            await socket.send_str(json.dumps({"type": "disconnect", "reason": reason}))
            await socket.close()

    async def close(self) -> None:
        for socket in list(self._sockets):
            await socket.close(code=1001, message=b"fake slack stopping")
        self._sockets.clear()
