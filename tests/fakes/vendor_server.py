"""FakeVendorServer: the base of every vendor fake but Slack's (a real local HTTP server).

A fake subclasses it, adds its routes in `routes(app)` and writes each handler as
`async def handler(request) -> web.Response`, wrapped by `self.endpoint(...)`, which:

- records the call (`calls`: method, path, query, headers, parsed JSON body);
- checks the credentials with `authorized(request)` (401 otherwise);
- applies injected faults first (`fail_next`, `stall_next`): a fault has no effect, as when the
  vendor fails before doing anything;
- applies a rate limit per key (`rate_limit(per_second, key=...)`): over it, the vendor's
  status (429 by default) with `Retry-After`, no effect;
- spends `latency` half before the effect and half after, so concurrent callers race as on the
  wire.

The listening socket sets TCP_NODELAY and aiohttp writes headers and body together, so timings
are not distorted by Nagle's algorithm.

    async with FakeStatuspage() as fake:
        fake.fail_next(2, status=503)
        ...
        assert fake.calls[-1].path == "/v1/pages/p1/incidents"
"""

from __future__ import annotations

import asyncio
import json
import math
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self, TypeVar

from aiohttp import web

from tests.fakes.threaded import ThreadedFake

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
T = TypeVar("T")


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    time: float
    status: int = 0


@dataclass
class Fault:
    status: int = 500
    retry_after: float | None = None
    body: Any = field(default_factory=lambda: {"error": "internal_error"})
    stall: float = 0.0  # seconds to hold the request before answering (a timeout, if long)
    only: str | None = None  # a path prefix the fault applies to; None for every path


@dataclass
class RateLimit:
    per_second: float
    window: float
    status: int
    key: Callable[[web.Request], str]
    starts: dict[str, deque[float]] = field(default_factory=dict)

    def over(self, request: web.Request, now: float) -> float | None:
        """None when the call may go ahead (and counts it); else seconds until it may."""
        allowed = max(1, math.floor(self.per_second * self.window))
        recent = self.starts.setdefault(self.key(request), deque())
        while recent and now - recent[0] >= self.window:
            recent.popleft()
        if len(recent) >= allowed:
            return max(0.0, self.window - (now - recent[0]))
        recent.append(now)
        return None


class FakeVendorServer(ThreadedFake):
    """One vendor's API on 127.0.0.1 at a free port. Subclasses add routes and state."""

    name = "vendor"

    def __init__(self, *, latency: float = 0.0, host: str = "127.0.0.1") -> None:
        self.latency = latency
        self.calls: list[Call] = []
        self.faults: deque[Fault] = deque()
        self.rate_limits: list[RateLimit] = []
        self.rate_limited = 0
        self._host = host
        self._port = 0
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- to override ---------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    def authorized(self, request: web.Request) -> bool:
        return True

    # -- injection -------------------------------------------------------------------------------

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        retry_after: float | None = None,
        body: Any = None,
        only: str | None = None,
    ) -> None:
        """The next `count` calls (to paths starting with `only`) fail with `status`, no effect."""
        for _ in range(count):
            self.faults.append(
                Fault(
                    status=status,
                    retry_after=retry_after,
                    body=body if body is not None else {"error": f"injected {status}"},
                    only=only,
                )
            )

    def stall_next(self, count: int = 1, *, seconds: float, only: str | None = None) -> None:
        """The next `count` calls hang for `seconds` and then fail 504 (the caller's timeout)."""
        for _ in range(count):
            self.faults.append(Fault(status=504, stall=seconds, only=only))

    def rate_limit(
        self,
        per_second: float,
        *,
        window: float = 1.0,
        status: int = 429,
        key: Callable[[web.Request], str] | None = None,
    ) -> None:
        """At most per_second * window calls per `window` seconds per key (default: the
        Authorization header); over it, `status` with Retry-After."""
        self.rate_limits.append(
            RateLimit(
                per_second,
                window,
                status,
                key or (lambda request: request.headers.get("Authorization", "")),
            )
        )

    # -- plumbing --------------------------------------------------------------------------------

    def endpoint(self, handler: Handler) -> Handler:
        async def wrapped(request: web.Request) -> web.StreamResponse:
            body: Any = None
            raw = await request.read()
            if raw:
                try:
                    body = json.loads(raw)
                except ValueError:
                    body = raw.decode("utf-8", "replace")
            call = Call(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                headers=dict(request.headers),
                body=body,
                time=time.monotonic(),
            )
            self.calls.append(call)
            response = await self._answer(request, handler)
            call.status = response.status
            return response

        return wrapped

    async def _answer(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.authorized(request):
            return web.json_response({"error": "unauthorized", "message": "bad key"}, status=401)
        fault = self._take_fault(request.path)
        if fault is not None:
            if fault.stall:
                await asyncio.sleep(fault.stall)
            headers = {"Retry-After": f"{fault.retry_after:g}"} if fault.retry_after else None
            return web.json_response(fault.body, status=fault.status, headers=headers)
        now = time.monotonic()
        for limit in self.rate_limits:
            wait = limit.over(request, now)
            if wait is not None:
                self.rate_limited += 1
                return web.json_response(
                    {"error": "rate limited", "message": "Rate limit exceeded"},
                    status=limit.status,
                    headers={"Retry-After": str(max(1, math.ceil(wait)))},
                )
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        response = await handler(request)
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        return response

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.only is None or path.startswith(fault.only):
                self.faults.remove(fault)
                return fault
        return None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self._port}"

    def calls_to(self, method: str, path_prefix: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path.startswith(path_prefix)]

    async def start(self) -> Self:
        app = web.Application(client_max_size=8 * 1024 * 1024)
        self.routes(app)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        listener.bind((self._host, self._port))
        self._port = listener.getsockname()[1]
        await web.SockSite(self._runner, listener).start()
        self._loop = asyncio.get_running_loop()
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        return await self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()
