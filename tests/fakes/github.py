"""A fake GitHub REST API (github.com, or GitHub Enterprise Server under a `/api/v3` prefix).

What it serves: `GET /repos/{owner}/{repo}`, `.../commits` (since, until, path, per_page, page),
`.../pulls` (state, sort, direction, per_page, page) and `.../contents/{path}` (JSON with base64
content, or the raw file for `Accept: application/vnd.github.raw+json`). Listings paginate with
GitHub's `Link` header (`rel="next"`, `rel="last"`), at most 100 per page.

What it refuses, recording a violation: a request without `Authorization: Bearer <token>` (401,
`Bad credentials`), without `Accept: application/vnd.github+json` (or the raw variant) or
without `X-GitHub-Api-Version: 2022-11-28` (400), a `per_page` over 100 or a `since`/`until`
that is not ISO 8601 (422).

Rate limits as GitHub answers them: every answer carries `x-ratelimit-limit/remaining/reset`;
`exhaust_rate_limit(reset=...)` makes the primary limit run out (403, `x-ratelimit-remaining: 0`,
"API rate limit exceeded"), `secondary_limit(retry_after=...)` answers the next call with a
secondary-limit 403 and `retry-after`.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from aiohttp import web

from tests.fakes.vendor_server import FakeVendorServer

TOKEN = "ghp_fake_token"
API_VERSION = "2022-11-28"
JSON = "application/vnd.github+json"
RAW = "application/vnd.github.raw+json"
DOCS = "https://docs.github.com/rest"


@dataclass
class Repo:
    owner: str
    name: str
    commits: list[dict[str, Any]] = field(default_factory=list)
    pulls: list[dict[str, Any]] = field(default_factory=list)
    files: dict[str, str] = field(default_factory=dict)


def commit(
    sha: str, message: str, at: str, *, login: str | None = "ann", paths: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A commit as the list-commits endpoint returns it (`files` is the fake's own, for `path`)."""
    return {
        "sha": sha,
        "html_url": f"https://github.com/o/r/commit/{sha}",
        "commit": {
            "message": message,
            "author": {"name": "Ann Author", "email": "ann@example.com", "date": at},
            "committer": {"name": "GitHub", "email": "noreply@github.com", "date": at},
        },
        "author": {"login": login} if login else None,
        "files": list(paths),
    }


def pull(
    number: int, title: str, *, merged_at: str | None, updated_at: str, sha: str, login: str = "bob"
) -> dict[str, Any]:
    return {
        "number": number,
        "title": title,
        "state": "closed",
        "html_url": f"https://github.com/o/r/pull/{number}",
        "user": {"login": login},
        "merged_at": merged_at,
        "closed_at": merged_at or updated_at,
        "updated_at": updated_at,
        "merge_commit_sha": sha,
    }


class FakeGitHub(FakeVendorServer):
    name = "github"

    def __init__(self, *, prefix: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.prefix = prefix
        self.repos: dict[tuple[str, str], Repo] = {}
        self.violations: list[str] = []
        self.limit = 5000
        self.remaining = 5000
        self.reset = int(time.time()) + 3600
        self._secondary: list[float] = []

    @property
    def api_url(self) -> str:
        return self.url + self.prefix

    def add_repo(self, owner: str, name: str) -> Repo:
        repo = Repo(owner, name)
        self.repos[(owner, name)] = repo
        return repo

    def exhaust_rate_limit(self, *, reset: int) -> None:
        self.remaining = 0
        self.reset = reset

    def secondary_limit(self, *, retry_after: float) -> None:
        self._secondary.append(retry_after)

    # -- contract --------------------------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:
        return request.headers.get("Authorization") == f"Bearer {TOKEN}"

    def _error(
        self, status: int, message: str, headers: dict[str, str] | None = None
    ) -> web.Response:
        return web.json_response(
            {"message": message, "documentation_url": DOCS, "status": str(status)},
            status=status,
            headers={**self._limit_headers(), **(headers or {})},
        )

    def _refuse(self, status: int, message: str) -> web.Response:
        self.violations.append(message)
        return self._error(status, message)

    def _limit_headers(self) -> dict[str, str]:
        return {
            "x-ratelimit-limit": str(self.limit),
            "x-ratelimit-remaining": str(self.remaining),
            "x-ratelimit-reset": str(self.reset),
            "x-ratelimit-resource": "core",
        }

    def _checked(self, handler: Any) -> Any:
        async def guarded(request: web.Request) -> web.StreamResponse:
            accept = request.headers.get("Accept", "")
            if JSON not in accept and RAW not in accept:
                return self._refuse(400, f"Accept must name {JSON}, got {accept!r}")
            if request.headers.get("X-GitHub-Api-Version") != API_VERSION:
                return self._refuse(400, "X-GitHub-Api-Version 2022-11-28 is required")
            if self._secondary:
                wait = self._secondary.pop(0)
                return self._error(
                    403,
                    "You have exceeded a secondary rate limit. Please wait a few minutes before "
                    "you try again.",
                    {"retry-after": f"{wait:g}"},
                )
            if self.remaining <= 0:
                return self._error(403, "API rate limit exceeded for user ID 1.")
            self.remaining -= 1
            response = await handler(request)
            response.headers.update(self._limit_headers())
            return response

        return self.endpoint(guarded)

    def routes(self, app: web.Application) -> None:
        base = self.prefix + "/repos/{owner}/{repo}"
        app.router.add_get(base, self._checked(self._repo))
        app.router.add_get(base + "/commits", self._checked(self._commits))
        app.router.add_get(base + "/pulls", self._checked(self._pulls))
        app.router.add_get(base + "/contents/{path:.+}", self._checked(self._contents))

    def _find(self, request: web.Request) -> Repo | None:
        return self.repos.get((request.match_info["owner"], request.match_info["repo"]))

    async def _repo(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        if repo is None:
            return self._error(404, "Not Found")
        return web.json_response(
            {"id": 1, "name": repo.name, "full_name": f"{repo.owner}/{repo.name}", "private": True}
        )

    async def _commits(self, request: web.Request) -> web.StreamResponse:
        repo = self._find(request)
        if repo is None:
            return self._error(404, "Not Found")
        bounds: dict[str, datetime] = {}
        for name in ("since", "until"):
            if name in request.query:
                try:
                    bounds[name] = datetime.fromisoformat(
                        request.query[name].replace("Z", "+00:00")
                    )
                except ValueError:
                    return self._refuse(422, f"{name} is not an ISO 8601 timestamp")
        path = request.query.get("path", "")

        def keep(item: dict[str, Any]) -> bool:
            at = datetime.fromisoformat(item["commit"]["committer"]["date"].replace("Z", "+00:00"))
            if "since" in bounds and at < bounds["since"]:
                return False
            if "until" in bounds and at > bounds["until"]:
                return False
            return not path or any(
                f == path or f.startswith(path.rstrip("/") + "/") for f in item["files"]
            )

        items = sorted(
            (c for c in repo.commits if keep(c)),
            key=lambda c: c["commit"]["committer"]["date"],
            reverse=True,
        )
        shown = [{k: v for k, v in c.items() if k != "files"} for c in items]
        return self._page(request, shown)

    async def _pulls(self, request: web.Request) -> web.StreamResponse:
        repo = self._find(request)
        if repo is None:
            return self._error(404, "Not Found")
        state = request.query.get("state", "open")
        items = [p for p in repo.pulls if state == "all" or p["state"] == state]
        if request.query.get("sort") == "updated":
            items.sort(
                key=lambda p: p["updated_at"], reverse=request.query.get("direction") != "asc"
            )
        return self._page(request, items)

    async def _contents(self, request: web.Request) -> web.Response:
        repo = self._find(request)
        path = request.match_info["path"]
        if repo is None or path not in repo.files:
            return self._error(404, "Not Found")
        text = repo.files[path]
        if RAW in request.headers.get("Accept", ""):
            return web.Response(text=text, content_type="application/vnd.github.raw")
        return web.json_response(
            {
                "type": "file",
                "path": path,
                "encoding": "base64",
                "content": base64.encodebytes(text.encode()).decode(),
            }
        )

    def _page(self, request: web.Request, items: list[dict[str, Any]]) -> web.Response:
        try:
            per_page = int(request.query.get("per_page", "30"))
            page = int(request.query.get("page", "1"))
        except ValueError:
            return self._refuse(422, "per_page and page must be integers")
        if not 1 <= per_page <= 100:
            return self._refuse(422, f"per_page must be 1..100, got {per_page}")
        last = max(1, -(-len(items) // per_page))
        chunk = items[(page - 1) * per_page : page * per_page]
        links = []

        def link(number: int, rel: str) -> str:
            query = {**request.query, "page": str(number)}
            return f'<{request.url.with_query(None)}?{urlencode(query)}>; rel="{rel}"'

        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        headers = {"Link": ", ".join(links)} if links else {}
        return web.json_response(chunk, headers=headers)
