"""FakeSlack: a real HTTP server speaking Slack's Web API, Socket Mode and response_url.

    async with FakeSlack(latency=0.1, users=[{"id": "U1", "email": "a@x.test", "name": "ann"}]) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        ...
        assert slack.channels[channel_id].members >= {"U1"}

Every request is checked against Slack's published contract (spec.py), rate-limited by tier
(limits.py) and recorded in `calls`. Latency is spent half before the effect and half after, so
concurrent callers race as they would over the wire. The listening socket sets TCP_NODELAY and
aiohttp writes headers and body together, so timings are not distorted by Nagle's algorithm.
"""

from __future__ import annotations

import asyncio
import json
import random
import socket
import time
from collections import defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from tests.fakes.slack.interactions import Interactions
from tests.fakes.slack.limits import RateLimits
from tests.fakes.slack.methods import APP_TOKEN_METHODS, METHODS
from tests.fakes.slack.params import Params
from tests.fakes.slack.socket_mode import SocketHub
from tests.fakes.slack.spec import WebApiContract
from tests.fakes.slack.state import (
    Bookmark,
    Call,
    Channel,
    Ephemeral,
    Message,
    OpenedView,
    SlackError,
    User,
    Violation,
    Workspace,
)
from tests.fakes.threaded import ThreadedFake

T = TypeVar("T")

DEFAULT_BOT_TOKEN = "xoxb-fake-bot-token"
DEFAULT_APP_TOKEN = "xapp-fake-app-token"


class FakeSlack(Interactions, ThreadedFake):
    """One fake workspace with one installed app, served on 127.0.0.1 at a free port.

    latency: seconds per Web API call, half before the effect and half after.
    tiers: enforce the rate limits (limits.py); time_scale shrinks every window (0.01: a minute
        becomes 0.6 s); burst_ratio is the extra share of a window allowed at once.
    users: [{"id", "email", "name"}] seeded into the directory.
    trigger_ttl / ack_timeout: Slack's 3 s for trigger_id expiry and for acknowledging envelopes.
    spec_path: the Web API description (default tests/vendor/slack/...).
    fault_rate / fault_seed: this share of Web API calls (drawn from a generator seeded with
        `fault_seed`) is answered HTTP 500 `internal_error` without any effect, as Slack does in
        an incident of its own; `faults` counts them.
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        tiers: bool = True,
        time_scale: float = 1.0,
        users: Iterable[Mapping[str, str]] = (),
        bot_token: str = DEFAULT_BOT_TOKEN,
        app_token: str = DEFAULT_APP_TOKEN,
        burst_ratio: float = 0.2,
        post_message_per_second: float = 1.0,
        post_message_burst: int = 2,
        trigger_ttl: float = 3.0,
        ack_timeout: float = 3.0,
        spec_path: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        fault_rate: float = 0.0,
        fault_seed: int = 0,
    ) -> None:
        if not 0.0 <= fault_rate < 1.0:
            raise ValueError("fault_rate is a share of calls: 0 <= fault_rate < 1")
        workspace = Workspace()
        workspace.seed_users(users)
        super().__init__(
            workspace,
            SocketHub(app_id=workspace.app_id, ack_timeout=ack_timeout, connect_timeout=5.0),
        )
        self.latency = latency
        self.bot_token = bot_token
        self.app_token = app_token
        self.trigger_ttl = trigger_ttl
        self.limits = RateLimits(
            clock=time.monotonic,
            enabled=tiers,
            time_scale=time_scale,
            burst_ratio=burst_ratio,
            post_message_per_second=post_message_per_second,
            post_message_burst=post_message_burst,
        )
        self.contract = WebApiContract.load(spec_path)
        self.fault_rate = fault_rate
        self._faults = random.Random(fault_seed)
        self.calls: list[Call] = []
        self.violations: list[Violation] = []
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    # -- what tests look at -------------------------------------------------------------------

    @property
    def channels(self) -> dict[str, Channel]:
        return self.workspace.channels

    @property
    def messages(self) -> defaultdict[str, list[Message]]:
        return self.workspace.messages

    @property
    def pins(self) -> defaultdict[str, list[str]]:
        """Channel id -> pinned message timestamps."""
        return self.workspace.pins

    @property
    def bookmarks(self) -> defaultdict[str, list[Bookmark]]:
        return self.workspace.bookmarks

    @property
    def users(self) -> dict[str, User]:
        return self.workspace.users

    @property
    def ephemerals(self) -> defaultdict[str, list[Ephemeral]]:
        return self.workspace.ephemerals

    @property
    def views(self) -> list[OpenedView]:
        return self.workspace.views

    @property
    def faults(self) -> int:
        """How many calls were answered HTTP 500 by fault injection."""
        return sum(1 for call in self.calls if call.status == 500)

    @property
    def rate_limited(self) -> int:
        """How many calls were refused with HTTP 429."""
        return sum(1 for call in self.calls if call.status == 429)

    def calls_to(self, method: str) -> list[Call]:
        return [call for call in self.calls if call.method == method]

    def channel_named(self, name: str) -> Channel | None:
        return self.workspace.channel_by_name(name)

    def add_channel(
        self,
        name: str,
        *,
        is_private: bool = True,
        creator: str | None = None,
        members: Iterable[str] = (),
    ) -> Channel:
        """Test setup: a channel that exists before the app acts (no API call, no limits)."""
        return self.workspace.add_channel(
            name, is_private=is_private, creator=creator, members=members
        )

    # -- lifecycle ----------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self._port}/"

    @property
    def api_url(self) -> str:
        """What to give slack_sdk as `base_url` (ends with a slash, like https://slack.com/api/)."""
        return f"{self.base_url}api/"

    def now(self) -> float:
        return time.monotonic()

    def socket_url(self) -> str:
        ticket = self.hub.issue_ticket()
        return (
            f"ws://{self._host}:{self._port}/link/?ticket={ticket}&app_id={self.workspace.app_id}"
        )

    async def start(self) -> FakeSlack:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_get("/api/{method}", self._api)
        app.router.add_get("/link/", self.hub.handle)
        app.router.add_post("/hooks/response/{response_id}", self._on_response_url)
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
        await self.hub.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeSlack:
        return await self.start()

    async def __aexit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # -- the Web API --------------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        call = Call(method=method, time=time.monotonic(), params={})
        self.calls.append(call)
        try:
            params, json_body = await _read_params(request)
        except ValueError as problem:
            return self._finish(
                call, 200, {"ok": False, "error": "invalid_json"}, violation=[str(problem)]
            )
        call.params = params
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        status, body, headers, violation = self._effect(
            method, request, params, json_body=json_body
        )
        if self.latency:
            await asyncio.sleep(self.latency / 2)
        return self._finish(call, status, body, headers=headers, violation=violation)

    def _finish(
        self,
        call: Call,
        status: int,
        body: dict[str, Any],
        *,
        headers: Mapping[str, str] | None = None,
        violation: list[str] | None = None,
    ) -> web.Response:
        call.status = status
        call.error = body.get("error")
        if violation:
            self.violations.append(Violation(call.method, violation, call.params))
            body.setdefault("response_metadata", {"messages": violation})
        self._changed()
        return web.json_response(body, status=status, headers=headers)

    def _effect(
        self, method: str, request: web.Request, params: dict[str, Any], *, json_body: bool
    ) -> tuple[int, dict[str, Any], dict[str, str], list[str] | None]:
        """Authenticate, rate-limit, check the contract, then change the workspace atomically."""
        token = _bearer(request) or str(params.get("token") or "")
        if not token:
            return 200, {"ok": False, "error": "not_authed"}, {}, None
        if token not in (self.bot_token, self.app_token):
            return 200, {"ok": False, "error": "invalid_auth"}, {}, None
        handler = METHODS.get(method)
        if handler is None:
            return (
                200,
                {"ok": False, "error": "unknown_method"},
                {},
                [f"{method} is not implemented"],
            )
        wants_app_token = method in APP_TOKEN_METHODS
        if (token == self.app_token) != wants_app_token:
            return 200, {"ok": False, "error": "not_allowed_token_type"}, {}, None
        decision = self.limits.acquire(method, str(params.get("channel") or ""))
        if not decision.allowed:
            headers = {
                "Retry-After": decision.retry_after_header,
                "X-Fake-Slack-Retry-After": f"{decision.retry_after:.3f}",
            }
            return 429, {"ok": False, "error": "ratelimited"}, headers, None
        if self.fault_rate and self._faults.random() < self.fault_rate:
            return 500, {"ok": False, "error": "internal_error"}, {}, None
        problems = self.contract.problems(method, params, json_body=json_body)
        if problems:
            return 200, {"ok": False, "error": "invalid_arguments"}, {}, problems
        try:
            result = handler(self.workspace, Params(params), self)
        except SlackError as refusal:
            extra = {k: v for k, v in refusal.extra.items() if k != "violation"}
            return (
                200,
                {"ok": False, "error": refusal.error, **extra},
                {},
                refusal.extra.get("violation"),
            )
        return 200, {"ok": True, **result}, {}, None

    async def _on_response_url(self, request: web.Request) -> web.Response:
        try:
            body = json.loads(await request.text())
        except ValueError:
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        if not isinstance(body, dict):
            return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)
        error = self.accept_response(request.match_info["response_id"], body)
        if error:
            return web.json_response({"ok": False, "error": error}, status=404)
        return web.json_response({"ok": True})


def _bearer(request: web.Request) -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else ""


async def _read_params(request: web.Request) -> tuple[dict[str, Any], bool]:
    """Query string and body merged (slack_sdk sends some POST parameters in the query string)."""
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        raw = await request.text()
        if raw.strip():
            body = json.loads(raw)
            if not isinstance(body, dict):
                raise ValueError("a JSON body must be an object")
            params.update(body)
        return params, True
    if request.can_read_body:
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params, False
