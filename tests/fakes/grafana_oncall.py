"""A fake Grafana OnCall public API (`/api/v1/...`): alert groups, routes, escalation policies,
schedules and users, written from the documented fields of Grafana OnCall's HTTP API reference
(the project's own shapes; the AGPL examples are not copied). Values are invented.

The contract it keeps, and refuses to see broken (recording a violation):
- `Authorization: <token>`, the token itself (no scheme); 401 otherwise;
- lists are pages: `{count, next, previous, results, page_size, current_page_number,
  total_pages}`, `next`/`previous` absolute URLs carrying `page=N`; a page out of range is a
  404 `{"detail": "Invalid page."}`; `escalation_policies` filters by `escalation_chain_id`;
- `POST /api/v1/alert_groups/{id}/acknowledge` acknowledges a firing group; an acknowledged or
  resolved one is a 400 saying why; ids not found are 404 `{"detail": "Not found."}`;
- a trailing slash is optional, as on the real router;
- schedules compute `on_call_now` at `now()` (a test sets it) from a weekly-style rotation or a
  fixed list; the API's 300 requests per 5 minutes per key is `rate_limit(1, window=300)` away.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp import web

from tests.fakes.vendor_server import FakeVendorServer

STAMP = "2026-11-26T09:00:00.000000Z"


@dataclass
class Rotation:
    """Users taking turns: users[k mod n] is on call in the k-th `every` after `start`."""

    users: list[str]
    start: datetime
    every: timedelta = timedelta(weeks=1)

    def on_call(self, at: datetime) -> list[str]:
        if at < self.start or not self.users:
            return []
        turn = math.floor((at - self.start) / self.every)
        return [self.users[turn % len(self.users)]]


@dataclass
class Schedule:
    id: str
    name: str
    rotation: Rotation | None = None
    fixed: list[str] = field(default_factory=list)


@dataclass
class User:
    id: str
    email: str
    username: str
    timezone: str = "UTC"


@dataclass
class AlertGroup:
    id: str
    route_id: str | None
    state: str = "firing"
    title: str = "High error rate"
    acknowledged_by: str | None = None


class FakeGrafanaOnCall(FakeVendorServer):
    name = "grafana-oncall"

    def __init__(self, *, token: str = "oncall-token", latency: float = 0.0) -> None:
        super().__init__(latency=latency)
        self.token = token
        self.page_size = 50
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.alert_groups: dict[str, AlertGroup] = {}
        self.route_chains: dict[str, str | None] = {}  # route id -> escalation chain id
        self.policies: list[dict[str, Any]] = []
        self.schedules: dict[str, Schedule] = {}
        self.users: dict[str, User] = {}
        self.violations: list[str] = []
        self._next = 0

    # -- seeding -------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}{self._next:011d}"

    def add_user(self, email: str, *, timezone: str = "UTC") -> str:
        user = User(self._id("U"), email, email.split("@")[0], timezone)
        self.users[user.id] = user
        return user.id

    def add_schedule(
        self, name: str, *, rotation: Rotation | None = None, fixed: list[str] | None = None
    ) -> str:
        schedule = Schedule(self._id("S"), name, rotation, list(fixed or []))
        self.schedules[schedule.id] = schedule
        return schedule.id

    def add_chain(self, *steps: dict[str, Any]) -> str:
        """An escalation chain of `steps` (each a policy's type and its fields), in order."""
        chain = self._id("F")
        for position, step in enumerate(steps):
            policy = {"id": self._id("E"), "escalation_chain_id": chain, "position": position}
            policy.update({"important": False, **step})
            self.policies.append(policy)
        return chain

    def add_alert_group(self, chain: str | None, *, state: str = "firing") -> str:
        route = self._id("R")
        self.route_chains[route] = chain
        group = AlertGroup(self._id("I"), route, state)
        self.alert_groups[group.id] = group
        return group.id

    # -- the API -------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        get = [
            ("/api/v1/alert_groups/{id}", self._alert_group),
            ("/api/v1/routes/{id}", self._route),
            ("/api/v1/escalation_policies", self._policies),
            ("/api/v1/schedules/{id}", self._schedule),
            ("/api/v1/users/{id}", self._user),
            ("/api/v1/users", self._users),
        ]
        for path, handler in get:
            for variant in (path, path + "/"):
                app.router.add_get(variant, self.endpoint(handler))
        acknowledge = "/api/v1/alert_groups/{id}/acknowledge"
        for variant in (acknowledge, acknowledge + "/"):
            app.router.add_post(variant, self.endpoint(self._acknowledge))

    def authorized(self, request: web.Request) -> bool:
        ok = request.headers.get("Authorization") == self.token
        if not ok:
            self.violations.append(f"{request.path}: bad Authorization header")
        return ok

    async def _alert_group(self, request: web.Request) -> web.Response:
        group = self.alert_groups.get(request.match_info["id"])
        if group is None:
            return _not_found()
        return web.json_response(self._group_doc(group))

    async def _acknowledge(self, request: web.Request) -> web.Response:
        group = self.alert_groups.get(request.match_info["id"])
        if group is None:
            return _not_found()
        if group.state == "acknowledged":
            return web.json_response(
                {"detail": "Can't acknowledge an acknowledged alert group"}, status=400
            )
        if group.state == "resolved":
            return web.json_response(
                {"detail": "Can't acknowledge a resolved alert group"}, status=400
            )
        group.state = "acknowledged"
        group.acknowledged_by = "UAPITOKENOWNER"
        return web.Response(status=200)

    async def _route(self, request: web.Request) -> web.Response:
        route = request.match_info["id"]
        if route not in self.route_chains:
            return _not_found()
        return web.json_response(
            {
                "id": route,
                "integration_id": "CFAKEINTEGRATION",
                "escalation_chain_id": self.route_chains[route],
                "routing_type": "jinja2",
                "routing_regex": "{{ true }}",
                "position": 0,
                "is_the_last_route": True,
                "slack": {"channel_id": None, "enabled": False},
            }
        )

    async def _policies(self, request: web.Request) -> web.Response:
        chain = request.query.get("escalation_chain_id")
        found = [p for p in self.policies if chain is None or p["escalation_chain_id"] == chain]
        return self._page(request, sorted(found, key=lambda p: p["position"]))

    async def _schedule(self, request: web.Request) -> web.Response:
        schedule = self.schedules.get(request.match_info["id"])
        if schedule is None:
            return _not_found()
        now = self.now()
        on_call = schedule.rotation.on_call(now) if schedule.rotation else list(schedule.fixed)
        return web.json_response(
            {
                "id": schedule.id,
                "team_id": None,
                "name": schedule.name,
                "type": "web",
                "time_zone": "UTC",
                "on_call_now": on_call,
                "shifts": [],
                "ical_url_overrides": None,
                "slack": {"channel_id": None, "user_group_id": None},
            }
        )

    async def _user(self, request: web.Request) -> web.Response:
        user = self.users.get(request.match_info["id"])
        if user is None:
            return _not_found()
        return web.json_response(self._user_doc(user))

    async def _users(self, request: web.Request) -> web.Response:
        return self._page(request, [self._user_doc(u) for u in self.users.values()])

    # -- shapes and pages ------------------------------------------------------------------------

    def _group_doc(self, group: AlertGroup) -> dict[str, Any]:
        return {
            "id": group.id,
            "integration_id": "CFAKEINTEGRATION",
            "route_id": group.route_id,
            "team_id": None,
            "alerts_count": 1,
            "state": group.state,
            "created_at": STAMP,
            "resolved_at": None,
            "resolved_by": None,
            "acknowledged_at": STAMP if group.acknowledged_by else None,
            "acknowledged_by": group.acknowledged_by,
            "silenced_at": None,
            "title": group.title,
            "permalinks": {"slack": None, "telegram": None, "web": f"{self.url}/a/{group.id}"},
            "labels": [],
        }

    def _user_doc(self, user: User) -> dict[str, Any]:
        return {
            "id": user.id,
            "email": user.email,
            "slack": [],
            "username": user.username,
            "role": "user",
            "is_phone_number_verified": False,
            "timezone": user.timezone,
            "teams": [],
        }

    def _page(self, request: web.Request, items: list[Any]) -> web.Response:
        raw = request.query.get("page", "1")
        pages = max(1, math.ceil(len(items) / self.page_size))
        if not raw.isdigit() or not 1 <= int(raw) <= pages:
            self.violations.append(f"{request.path_qs}: invalid page")
            return web.json_response({"detail": "Invalid page."}, status=404)
        page = int(raw)
        window = items[(page - 1) * self.page_size : page * self.page_size]

        def link(number: int) -> str | None:
            if not 1 <= number <= pages:
                return None
            query = {**request.query, "page": str(number)}
            return str(request.url.with_query(query))

        return web.json_response(
            {
                "count": len(items),
                "next": link(page + 1),
                "previous": link(page - 1),
                "results": window,
                "page_size": self.page_size,
                "current_page_number": page,
                "total_pages": pages,
            }
        )


def _not_found() -> web.Response:
    return web.json_response({"detail": "Not found."}, status=404)
