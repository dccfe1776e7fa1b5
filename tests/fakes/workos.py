"""A fake WorkOS Directory Sync API: directory users and groups as WorkOS publishes them.

Speaks the documented contract and refuses what breaks it (recording a violation):
- `Authorization: Bearer <key>`; 401 otherwise;
- `GET /directory_users` with `directory` or `group` (exactly one), `GET /directory_groups` with
  `directory`; `limit` 1..100 (default 10), `before`/`after` cursors (not both), `order`
  asc|desc|normal; any other parameter or value is a 422 with WorkOS's error body;
- answers `{"object": "list", "data": [...], "list_metadata": {"before", "after"}}` where the
  cursors are the ids at the page's ends when there is more that way, else null;
- `/directory_users` is limited to 4 requests/s per directory: over it, 429 with Retry-After.
  The limiter reads `monotonic` (a test can share its fake clock with the client's pacer).

Users carry WorkOS's fields (id, idp_id, directory_id, organization_id, first_name, last_name,
email, emails[{primary, type, value}], username, groups, state, custom_attributes,
raw_attributes, role, created_at, updated_at); values are invented.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.vendor_server import FakeVendorServer

USERS_PER_SECOND = 4.0
LIST_PARAMS = {"limit", "before", "after", "order"}
STAMP = "2026-01-05T09:00:00.000Z"


@dataclass
class DirectoryUser:
    id: str
    directory_id: str
    first_name: str
    last_name: str
    email: str
    state: str = "active"
    groups: list[str] = field(default_factory=list)
    extra_emails: list[str] = field(default_factory=list)
    primary_in_emails_only: bool = False  # the legacy shape: no top-level `email`


@dataclass
class DirectoryGroup:
    id: str
    directory_id: str
    name: str


class FakeWorkOS(FakeVendorServer):
    name = "workos"

    def __init__(
        self,
        *,
        api_key: str = "sk_test_fake",
        latency: float = 0.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(latency=latency)
        self.api_key = api_key
        self.monotonic = monotonic
        self.users: list[DirectoryUser] = []
        self.groups: list[DirectoryGroup] = []
        self.violations: list[str] = []
        self.started: dict[str, deque[float]] = {}  # directory -> its recent /directory_users
        self._next = 0

    # -- seeding -------------------------------------------------------------------------------

    def _id(self, prefix: str) -> str:
        self._next += 1
        return f"{prefix}_01H{self._next:023d}"  # ascending, as WorkOS's ULIDs sort by time

    def add_group(self, directory_id: str, name: str) -> DirectoryGroup:
        group = DirectoryGroup(self._id("directory_group"), directory_id, name)
        self.groups.append(group)
        return group

    def add_user(
        self,
        directory_id: str,
        email: str,
        *,
        first_name: str = "",
        last_name: str = "",
        state: str = "active",
        groups: Iterable[DirectoryGroup] = (),
        **options: Any,
    ) -> DirectoryUser:
        user = DirectoryUser(
            id=self._id("directory_user"),
            directory_id=directory_id,
            first_name=first_name,
            last_name=last_name,
            email=email,
            state=state,
            groups=[g.id for g in groups],
            **options,
        )
        self.users.append(user)
        return user

    # -- the API -------------------------------------------------------------------------------

    def routes(self, app: web.Application) -> None:
        app.router.add_get("/directory_users", self.endpoint(self._directory_users))
        app.router.add_get("/directory_groups", self.endpoint(self._directory_groups))

    def authorized(self, request: web.Request) -> bool:
        ok = request.headers.get("Authorization") == f"Bearer {self.api_key}"
        if not ok:
            self.violations.append(f"{request.path}: bad Authorization header")
        return ok

    async def _directory_users(self, request: web.Request) -> web.Response:
        query = request.query
        problem = self._unknown(query, {"directory", "group"})
        scopes = [name for name in ("directory", "group") if name in query]
        if problem is None and len(scopes) != 1:
            problem = ("directory", "give exactly one of directory or group")
        if problem is not None:
            return self._invalid(request, *problem)
        if "group" in query:
            group = next((g for g in self.groups if g.id == query["group"]), None)
            if group is None:
                return self._not_found(f"Directory Group not found: '{query['group']}'.")
            directory = group.directory_id
            items = [u for u in self.users if group.id in u.groups]
        else:
            directory = query["directory"]
            items = [u for u in self.users if u.directory_id == directory]
        wait = self._over_limit(directory)
        if wait is not None:
            self.rate_limited += 1
            return web.json_response(
                {"message": "Rate limit exceeded", "code": "rate_limit_exceeded"},
                status=429,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )
        return self._page(request, items, self._user)

    async def _directory_groups(self, request: web.Request) -> web.Response:
        query = request.query
        problem = self._unknown(query, {"directory", "user"})
        if problem is None and not ("directory" in query or "user" in query):
            problem = ("directory", "give directory or user")
        if problem is not None:
            return self._invalid(request, *problem)
        if "directory" in query:
            items = [g for g in self.groups if g.directory_id == query["directory"]]
        else:
            user = next((u for u in self.users if u.id == query["user"]), None)
            items = [g for g in self.groups if user is not None and g.id in user.groups]
        return self._page(request, items, self._group)

    # -- the contract's rules -------------------------------------------------------------------

    def _over_limit(self, directory: str) -> float | None:
        """None when this call is within 4 per second for the directory (and counts it), else
        the seconds until one is allowed."""
        now = self.monotonic()
        recent = self.started.setdefault(directory, deque())
        while recent and now - recent[0] >= 1.0:
            recent.popleft()
        if len(recent) >= USERS_PER_SECOND:
            return 1.0 - (now - recent[0])
        recent.append(now)
        return None

    def _unknown(self, query: Any, scopes: set[str]) -> tuple[str, str] | None:
        for name in query:
            if name not in LIST_PARAMS | scopes:
                return name, f"{name} is not a parameter of this endpoint"
        limit = query.get("limit", "10")
        if not (limit.isdigit() and 1 <= int(limit) <= 100):
            return "limit", "limit must be an integer between 1 and 100"
        if "before" in query and "after" in query:
            return "before", "give before or after, not both"
        if query.get("order", "desc") not in ("asc", "desc", "normal"):
            return "order", "order must be asc, desc or normal"
        return None

    def _invalid(self, request: web.Request, field_name: str, reason: str) -> web.Response:
        self.violations.append(f"{request.path}?{request.query_string}: {reason}")
        return web.json_response(
            {
                "code": "invalid_request_parameters",
                "message": "Validation failed",
                "errors": [{"field": field_name, "code": reason}],
            },
            status=422,
        )

    def _not_found(self, message: str) -> web.Response:
        return web.json_response({"code": "entity_not_found", "message": message}, status=404)

    def _page(
        self, request: web.Request, items: list[Any], shape: Callable[[Any], dict[str, Any]]
    ) -> web.Response:
        query = request.query
        limit = int(query.get("limit", "10"))
        ordered = sorted(items, key=lambda i: i.id, reverse=query.get("order", "desc") == "desc")
        ids = [i.id for i in ordered]
        if "after" in query:
            start = ids.index(query["after"]) + 1 if query["after"] in ids else len(ids)
            window = ordered[start : start + limit]
        elif "before" in query:
            end = ids.index(query["before"]) if query["before"] in ids else 0
            start = max(0, end - limit)
            window = ordered[start:end]
        else:
            start = 0
            window = ordered[:limit]
        has_before = start > 0
        has_after = start + len(window) < len(ordered)
        return web.json_response(
            {
                "object": "list",
                "data": [shape(i) for i in window],
                "list_metadata": {
                    "before": window[0].id if window and has_before else None,
                    "after": window[-1].id if window and has_after else None,
                },
            }
        )

    def _user(self, user: DirectoryUser) -> dict[str, Any]:
        emails = [{"primary": True, "type": "work", "value": user.email}]
        emails += [{"primary": False, "type": "home", "value": e} for e in user.extra_emails]
        doc: dict[str, Any] = {
            "object": "directory_user",
            "id": user.id,
            "idp_id": user.id.rsplit("_", 1)[-1][-6:],
            "directory_id": user.directory_id,
            "organization_id": "org_01HFAKEORGANIZATION0000000",
            "first_name": user.first_name or None,
            "last_name": user.last_name or None,
            "email": user.email,
            "emails": emails,
            "username": user.email.split("@")[0],
            "groups": [self._group(g) for g in self.groups if g.id in user.groups],
            "state": user.state,
            "custom_attributes": {},
            "raw_attributes": {},
            "role": {"slug": "member"},
            "created_at": STAMP,
            "updated_at": STAMP,
        }
        if user.primary_in_emails_only:
            del doc["email"]
        return doc

    def _group(self, group: DirectoryGroup) -> dict[str, Any]:
        return {
            "object": "directory_group",
            "id": group.id,
            "idp_id": group.id[-6:],
            "directory_id": group.directory_id,
            "organization_id": "org_01HFAKEORGANIZATION0000000",
            "name": group.name,
            "created_at": STAMP,
            "updated_at": STAMP,
            "raw_attributes": {},
        }
