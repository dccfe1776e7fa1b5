"""Read deadlines and a connection cap in front of the app, so slow clients cannot starve intake.

uvicorn times out idle keep-alive connections but not a request that is being sent: a client
that sends half its headers (or a Content-Length larger than the body it sends) holds its
connection, a file descriptor and a slot forever, and about a thousand of them stop alert intake
for everyone. No proxy runs in front of the embedded default, and uvicorn offers no read timeout,
so `GuardedH11Protocol` adds two to uvicorn's own h11 protocol (through its documented `http=`
protocol-class setting, not a patch): the request head must arrive within `header_timeout`
seconds of the connection (or of the previous response), and the body within `body_timeout`
seconds of the head; a connection past either deadline is closed. uvicorn's `limit_concurrency`
caps connections (503 beyond it), and the process's open-file limit is raised to fit the cap.

Overload logs (asyncio's "accept() out of system resource", uvicorn's "Exceeded concurrency
limit") are reduced to one line per interval with a count, instead of one per event.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.config import Config
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.server import ServerState

OVERLOAD_MESSAGES = ("accept() out of system resource", "Exceeded concurrency limit")
RESERVED_FILES = 256  # descriptors kept for the database, logs and outbound calls


@dataclass(frozen=True)
class HttpLimits:
    header_timeout: float = 10.0
    body_timeout: float = 30.0
    max_connections: int = 1000


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline on reading each request (head, then body)."""

    limits = HttpLimits()

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self._read_deadline: asyncio.TimerHandle | None = None
        self._reading: str = ""

    @classmethod
    def with_limits(cls, limits: HttpLimits) -> type[GuardedH11Protocol]:
        return type("GuardedH11Protocol", (cls,), {"limits": limits})

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._watch()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        self._watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self._watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def _watch(self) -> None:
        """Arm the deadline for what is being read now: the head (their side IDLE with bytes
        pending, or a fresh connection), the body (SEND_BODY); none once the request is in."""
        state = self.conn.their_state
        if state is h11.SEND_BODY:
            phase = "body"
        elif state is h11.IDLE and self.timeout_keep_alive_task is None:
            phase = "head"  # an idle keep-alive connection is uvicorn's own timer's
        else:
            phase = ""
        if phase == self._reading:
            return
        self._disarm()
        self._reading = phase
        if phase:
            seconds = self.limits.header_timeout if phase == "head" else self.limits.body_timeout
            self._read_deadline = self.loop.call_later(seconds, self._too_slow, phase)

    def _disarm(self) -> None:
        if self._read_deadline is not None:
            self._read_deadline.cancel()
            self._read_deadline = None
        self._reading = ""

    def _too_slow(self, phase: str) -> None:
        self._read_deadline = None
        if self.transport.is_closing():
            return
        self.logger.debug("closing a connection that did not send its request %s in time", phase)
        self.transport.close()


class OncePerInterval(logging.Filter):
    """Lets the first record of each overload message through per interval, then one summary
    with how many were held back."""

    def __init__(
        self, interval_seconds: float = 10.0, now: Callable[[], float] = time.monotonic
    ) -> None:
        super().__init__()
        self._interval = interval_seconds
        self._now = now
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        key = next((m for m in OVERLOAD_MESSAGES if m in message), None)
        if key is None:
            return True
        now = self._now()
        if now - self._last.get(key, float("-inf")) < self._interval:
            self._held[key] = self._held.get(key, 0) + 1
            return False
        self._last[key] = now
        held = self._held.pop(key, 0)
        if held:
            record.msg = f"{message} ({held} more in the last {self._interval:g} s not logged)"
            record.args = ()
            record.exc_info = None
        return True


def raise_open_file_limit(wanted: int) -> int:
    """Raise the soft limit on open files towards `wanted` (never past the hard limit); returns
    the soft limit in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
    if target > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        return target
    return soft


def guard(config_kwargs: dict[str, Any], limits: HttpLimits) -> dict[str, Any]:
    """uvicorn.Config keyword arguments with the protocol, the cap and quiet overload logs."""
    files = raise_open_file_limit(limits.max_connections + RESERVED_FILES)
    cap = max(1, min(limits.max_connections, files - RESERVED_FILES))
    overload = OncePerInterval()
    for name in ("asyncio", "uvicorn.error"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, OncePerInterval) for f in logger.filters):
            logger.addFilter(overload)
    return {
        **config_kwargs,
        "http": GuardedH11Protocol.with_limits(limits),
        "limit_concurrency": cap,
    }
