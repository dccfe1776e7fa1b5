"""GitHub for the CodeHost port: the deploy timeline and CODEOWNERS, read only.

For each configured repository (GITHUB_REPO_NAMES under GITHUB_ORG_SLUG) that belongs to the
service, `recent_changes` lists the commits in the window and the pull requests merged in it,
as `Change`s in time order: the postmortem's deploy timeline. A repository belongs to a service
when it is named after it (`checkout`, `checkout-api`, `acme-checkout`); in a monorepo (no
repository named after the service) the commits touching the service's directories, as its
CODEOWNERS names them, are listed instead (squash-merged pull requests are among them).

GitHub's rate limits: a 403 with `x-ratelimit-remaining: 0` is the primary limit, lifted at
`x-ratelimit-reset` (epoch seconds); a 403 with `retry-after` is a secondary limit. The outbound
HTTP policy cannot read either (it sees a 403), so this adapter turns them into a transient
VendorError carrying `retry_after`, and until a primary reset it calls GitHub no more (it fails
fast with the same error). Any other 403 is the token lacking access: not transient. 429s and
5xx are retried by the policy itself, honouring `Retry-After`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

import httpx

from incident_response.adapters.github.codeowners import Codeowners, parse
from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.context import Change
from incident_response.http import VendorClient, VendorError, retry_after_seconds
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS")  # GitHub's order
RAW = "application/vnd.github.raw+json"
PER_PAGE = 100
MAX_PAGES = 5  # per listing: 500 commits or pull requests per repository and window


class GitHubCodeHost:
    """CodeHost port over GitHub's REST API (github.com or GitHub Enterprise Server)."""

    def __init__(
        self,
        *,
        client: VendorClient,
        org: str,
        repos: Sequence[str],
        clock: Clock,
        max_pages: int = MAX_PAGES,
    ) -> None:
        self._client = client
        self._org = org
        self._repos = tuple(repos)
        self._clock = clock
        self._max_pages = max_pages
        self._blocked_until: datetime | None = None
        self._blocked_error: VendorError | None = None

    # -- the port ----------------------------------------------------------------------------------

    async def recent_changes(
        self, *, service: str, since: datetime, until: datetime
    ) -> list[Change]:
        since, until = utc(since), utc(until)
        if since >= until:
            return []
        named = [r for r in self._repos if belongs_to(r, service)]
        if named:
            batches = await asyncio.gather(*(self._repo_changes(r, since, until) for r in named))
        else:
            batches = await asyncio.gather(
                *(self._monorepo_changes(r, service, since, until) for r in self._repos)
            )
        changes = [c for batch in batches for c in batch]
        return sorted(changes, key=lambda c: (c.at, c.repo, c.sha))

    async def owners(self, *, service: str) -> list[str]:
        """Suggested owners of `service` from the repositories' CODEOWNERS (rule: see
        `codeowners`). A repository that cannot be read is skipped; all of them failing is an
        error."""
        outcomes = await asyncio.gather(
            *(self._codeowners(r) for r in self._repos), return_exceptions=True
        )
        owners: list[str] = []
        failures: list[str] = []
        for repo, outcome in zip(self._repos, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if not isinstance(outcome, Exception):
                    raise outcome
                failures.append(f"{repo}: {_reason(outcome)}")
                continue
            if outcome is None:
                continue
            whole = belongs_to(repo, service)
            for owner in outcome.service_owners(service, whole_repository=whole):
                if owner not in owners:
                    owners.append(owner)
        if failures and len(failures) == len(self._repos):
            raise VendorError("github", "CODEOWNERS", "; ".join(failures), transient=True)
        if failures:
            log.warning("github.codeowners_unreadable", failures=failures)
        return owners

    async def probe(self) -> str:
        """Each configured repository is readable with the token."""
        outcomes = await asyncio.gather(
            *(self._get(f"/repos/{self._org}/{r}") for r in self._repos), return_exceptions=True
        )
        failures = [
            f"{self._org}/{r}: {_reason(o)}"
            for r, o in zip(self._repos, outcomes, strict=True)
            if isinstance(o, BaseException)
        ]
        if failures:
            raise VendorError(
                "github",
                "probe",
                "; ".join(failures)
                + " (check GITHUB_TOKEN's access to these repositories and GITHUB_REPO_NAMES)",
            )
        count = len(self._repos)
        return f"{count} repositor{'y' if count == 1 else 'ies'} readable in {self._org}"

    # -- changes ---------------------------------------------------------------------------------

    async def _repo_changes(self, repo: str, since: datetime, until: datetime) -> list[Change]:
        commits, pulls = await asyncio.gather(
            self._commits(repo, since, until), self._merged_pulls(repo, since, until)
        )
        merged = {c.sha for c in pulls}
        return [*pulls, *(c for c in commits if c.sha not in merged)]

    async def _monorepo_changes(
        self, repo: str, service: str, since: datetime, until: datetime
    ) -> list[Change]:
        codeowners = await self._codeowners(repo)
        if codeowners is None:
            return []
        changes: dict[str, Change] = {}
        for directory in codeowners.service_directories(service):
            for change in await self._commits(repo, since, until, path=directory):
                changes.setdefault(change.sha, change)
        return list(changes.values())

    async def _commits(
        self, repo: str, since: datetime, until: datetime, *, path: str | None = None
    ) -> list[Change]:
        params = {"since": _stamp(since), "until": _stamp(until), "per_page": str(PER_PAGE)}
        if path:
            params["path"] = path
        changes: list[Change] = []
        async for item in self._pages(f"/repos/{self._org}/{repo}/commits", params):
            commit = item.get("commit") or {}
            at = _when((commit.get("committer") or {}).get("date"))
            if at is None or not since <= at <= until:
                continue
            message = str(commit.get("message") or "").strip()
            author = (item.get("author") or {}).get("login") or (commit.get("author") or {}).get(
                "name", ""
            )
            changes.append(
                Change(
                    repo=f"{self._org}/{repo}",
                    sha=str(item["sha"]),
                    title=message.splitlines()[0] if message else "(no message)",
                    author=str(author),
                    at=at,
                    url=str(item.get("html_url") or ""),
                )
            )
        return changes

    async def _merged_pulls(self, repo: str, since: datetime, until: datetime) -> list[Change]:
        params = {
            "state": "closed",
            "sort": "updated",
            "direction": "desc",
            "per_page": str(PER_PAGE),
        }
        changes: list[Change] = []
        async for item in self._pages(
            f"/repos/{self._org}/{repo}/pulls", params, stop=lambda i: _older(i, since)
        ):
            merged_at = _when(item.get("merged_at"))
            if merged_at is None or not since <= merged_at <= until:
                continue
            number = item.get("number")
            changes.append(
                Change(
                    repo=f"{self._org}/{repo}",
                    sha=str(item.get("merge_commit_sha") or f"pull/{number}"),
                    title=f"#{number} {item.get('title') or ''}".strip(),
                    author=str((item.get("user") or {}).get("login") or ""),
                    at=merged_at,
                    url=str(item.get("html_url") or ""),
                )
            )
        return changes

    async def _pages(
        self,
        path: str,
        params: dict[str, str],
        *,
        stop: Callable[[dict[str, Any]], bool] | None = None,
    ) -> AsyncIterator[dict[str, Any]]:
        """The items of a listing, page by page along the `Link: rel="next"` header, at most
        `max_pages` pages; `stop(item)` ends it early (the rest is older than the window)."""
        next_path: str | None = path
        query: dict[str, str] | None = params
        for _ in range(self._max_pages):
            if next_path is None:
                return
            response = await self._get(next_path, query)
            items = response.json()
            if not isinstance(items, list):
                raise VendorError("github", f"GET {path}", "answered something other than a list")
            for item in items:
                if not isinstance(item, dict):
                    continue
                if stop is not None and stop(item):
                    return
                yield item
            next_path, query = self._next(response), None
        if next_path is not None:
            log.info("github.listing_capped", path=path, pages=self._max_pages)

    def _next(self, response: httpx.Response) -> str | None:
        url = response.links.get("next", {}).get("url")
        base = self._client.base_url.rstrip("/")
        if not url:
            return None
        if not url.startswith(base + "/"):
            log.warning("github.next_link_elsewhere", url=url)
            return None
        return url[len(base) :]

    # -- CODEOWNERS ------------------------------------------------------------------------------

    async def _codeowners(self, repo: str) -> Codeowners | None:
        """The repository's CODEOWNERS, from the first place GitHub looks that has one."""
        for path in CODEOWNERS_PATHS:
            response = await self._get(
                f"/repos/{self._org}/{repo}/contents/{path}",
                headers={"Accept": RAW},
                missing_ok=True,
            )
            if response.status_code == 404:
                continue
            codeowners = parse(response.text)
            if codeowners.problems:
                log.info("github.codeowners_problems", repo=repo, problems=codeowners.problems)
            return codeowners
        return None

    # -- one call --------------------------------------------------------------------------------

    async def _get(
        self,
        path: str,
        params: dict[str, str] | None = None,
        *,
        headers: dict[str, str] | None = None,
        missing_ok: bool = False,
    ) -> httpx.Response:
        now = self._clock.now()
        if self._blocked_until is not None and now < self._blocked_until:
            assert self._blocked_error is not None
            raise self._blocked_error
        response = await self._client.request(
            "GET",
            path,
            params=params,
            headers=headers,
            ok_statuses=frozenset({403, 404} if missing_ok else {403}),
        )
        if response.status_code == 403:
            raise self._refused(response, path)
        return response

    def _refused(self, response: httpx.Response, path: str) -> VendorError:
        """A 403: GitHub's primary or secondary rate limit (transient, with when to come back),
        or the token lacking access (not transient)."""
        what = f"GET {path.split('?')[0]}"
        headers = response.headers
        message = _message(response)
        if headers.get("x-ratelimit-remaining") == "0" and headers.get("x-ratelimit-reset"):
            now = self._clock.now()
            try:
                reset = datetime.fromtimestamp(int(headers["x-ratelimit-reset"]), tz=now.tzinfo)
            except ValueError:
                reset = now + timedelta(minutes=1)
            wait = max(0.0, (reset - now).total_seconds())
            error = VendorError(
                "github",
                what,
                f"rate limit exhausted until {isoformat(reset)}",
                status=403,
                transient=True,
                retry_after=wait,
                body=response.text,
            )
            self._blocked_until, self._blocked_error = reset, error
            return error
        retry_after = retry_after_seconds(headers)
        if retry_after is not None:
            return VendorError(
                "github",
                what,
                f"secondary rate limit ({message or 'HTTP 403'}), retry in {retry_after:g} s",
                status=403,
                transient=True,
                retry_after=retry_after,
                body=response.text,
            )
        return VendorError(
            "github",
            what,
            f"HTTP 403: {message or 'forbidden'} (does GITHUB_TOKEN have read access?)",
            status=403,
            body=response.text,
        )


def belongs_to(repo: str, service: str) -> bool:
    """A repository named after the service: the name, or it as a `-`/`_`/`.`-separated part."""
    wanted = service.strip().lower()
    if not wanted:
        return False
    return re.search(rf"(?:^|[-_.]){re.escape(wanted)}(?:$|[-_.])", repo.lower()) is not None


def _stamp(at: datetime) -> str:
    """ISO 8601 to the second, as GitHub documents it (`YYYY-MM-DDTHH:MM:SSZ`); a fraction is
    rounded outward so the window never shrinks (the items are filtered exactly afterwards)."""
    return f"{utc(at).replace(microsecond=0):%Y-%m-%dT%H:%M:%SZ}"


def _older(item: Any, since: datetime) -> bool:
    updated = _when(item.get("updated_at")) if isinstance(item, dict) else None
    return updated is not None and updated < since


def _when(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))
    except ValueError:
        return None


def _message(response: httpx.Response) -> str:
    try:
        doc = response.json()
    except ValueError:
        return ""
    return str(doc.get("message") or "")[:200] if isinstance(doc, dict) else ""


def _reason(error: BaseException) -> str:
    return error.reason if isinstance(error, VendorError) else str(error) or type(error).__name__
