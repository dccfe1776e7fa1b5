"""The demo's walk: alert -> war room -> draft -> IC approval -> published -> resolved ->
postmortem, through the public HTTP interface of a running `serve` only.

The demo is an outside client on purpose: it sends the webhook Grafana OnCall would send and then
uses only the JSON API and the public status page, so a newcomer watches the same product a real
alert drives, and a step the product cannot do fails the demo instead of being faked.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx
from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table

from incident_response.demo.alert import new_group_id, oncall_alert, pick_scenario
from incident_response.http import own_service_client

T = TypeVar("T")
DEFAULT_URL = "http://127.0.0.1:8080"
DEFAULT_TIMEOUT = 60.0


class DemoError(Exception):
    """A step the demo could not do; the message says what to do about it."""


class TokenIssuer(Protocol):
    async def __call__(self, email: str) -> str: ...


@dataclass(frozen=True)
class DemoStep:
    name: str
    detail: str
    seconds: float


@dataclass(frozen=True)
class DemoResult:
    incident_id: str
    status: str
    console_url: str
    status_page_url: str
    postmortem_url: str | None
    alert_to_assembled_seconds: float | None
    steps: tuple[DemoStep, ...]


@dataclass
class _Walk:
    """The state one demo run carries from step to step."""

    http: httpx.AsyncClient
    base: str
    console: Console
    timeout: float
    poll: float
    steps: list[DemoStep] = field(default_factory=list)
    console_url: str = ""

    @property
    def status_url(self) -> str:
        return f"{self.base}/status"

    def done(self, name: str, summary: str, started: float, *, more: str = "") -> None:
        """Report a finished step: what happened, then where to look at it."""
        seconds = time.monotonic() - started
        self.steps.append(DemoStep(name, summary, seconds))
        self.console.print(
            f"[green]✓[/green] [bold]{name}[/bold]: {escape(summary)} [dim]({seconds:.1f} s)[/dim]"
        )
        if more:
            self.console.print(Padding(more, (0, 0, 0, 4)), style="italic", highlight=False)
        self.console.print(f"    [dim]console[/dim]      {self.console_url}", highlight=False)
        self.console.print(f"    [dim]status page[/dim]  {self.status_url}", highlight=False)

    async def until(self, what: str, check: Callable[[], Awaitable[T | None]]) -> T:
        deadline = time.monotonic() + self.timeout
        with self.console.status(f"waiting for {what}…"):
            while True:
                found = await check()
                if found is not None:
                    return found
                if time.monotonic() > deadline:
                    raise DemoError(
                        f"timed out after {self.timeout:.0f} s waiting for {what}; is the "
                        "processor running (`serve` with --role all, or a processor beside it)?"
                    )
                await asyncio.sleep(self.poll)

    async def call(
        self, method: str, path: str, doing: str, *, token: str | None = None, **kw: Any
    ) -> Any:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        try:
            response = await self.http.request(method, self.base + path, headers=headers, **kw)
        except httpx.HTTPError as exc:
            raise DemoError(
                f"{doing}: the server at {self.base} stopped answering ({exc})"
            ) from None
        if response.status_code == 401 and token is not None:
            raise DemoError(
                f"{doing}: the server refused the API token (HTTP 401); run the demo with the same "
                "INCIDENT_RESPONSE_DATA_DIR as `serve`"
            )
        if response.status_code >= 400:
            raise DemoError(f"{doing}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    async def incident(self, incident_id: str, token: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/api/incidents/{incident_id}", "reading the incident", token=token
        )
        return found


async def check_server(http: httpx.AsyncClient, base: str) -> None:
    """Fail early, and helpfully, when nothing (or something else) answers at `base`."""
    try:
        response = await http.get(base + "/healthz")
    except httpx.HTTPError:
        raise DemoError(
            f"no incident-response server answers at {base}: start it with `make run` "
            "(or `incident-response serve`) in another terminal, then run the demo again"
        ) from None
    if response.status_code != 200:
        raise DemoError(
            f"{base} answers, but not like incident-response (GET /healthz gave HTTP "
            f"{response.status_code}); pass the right address with --url"
        )


async def run_demo(
    base_url: str,
    *,
    webhook_secret: str,
    tokens: TokenIssuer,
    viewer_email: str,
    keep_open: bool,
    console: Console,
    step_timeout: float = DEFAULT_TIMEOUT,
    poll_interval: float = 0.25,
) -> DemoResult:
    """Alert -> war room -> draft -> IC approval -> published -> resolved -> postmortem.

    `viewer_email` is anyone in the roster (to watch the incident appear); the IC's token is
    issued once the war room names the IC. With `keep_open` the walk stops after publishing.
    """
    base = base_url.rstrip("/")
    async with own_service_client(timeout=10) as http:
        await check_server(http, base)
        walk = _Walk(
            http, base, console, step_timeout, poll_interval, console_url=f"{base}/console"
        )
        viewer = await tokens(viewer_email)
        return await _walk(
            walk, webhook_secret=webhook_secret, viewer=viewer, tokens=tokens, keep_open=keep_open
        )


async def _walk(
    walk: _Walk, *, webhook_secret: str, viewer: str, tokens: TokenIssuer, keep_open: bool
) -> DemoResult:
    console = walk.console
    console.rule("[bold]incident-response demo")

    started = time.monotonic()
    listed = await walk.call("GET", "/api/incidents", "listing incidents", token=viewer)
    scenario = pick_scenario(listed["incidents"])
    group = new_group_id()
    body = oncall_alert(scenario, group_id=group, at=datetime.now(UTC))
    response = await walk.http.post(
        walk.base + "/webhooks/grafana-oncall",
        json=body,
        headers={"Authorization": f"Bearer {webhook_secret}"},
    )
    if response.status_code == 401:
        raise DemoError(
            "the server refused the webhook secret (HTTP 401); run the demo with the same "
            "INCIDENT_RESPONSE_WEBHOOK_SECRET or data dir as `serve`"
        )
    if response.status_code >= 300:
        raise DemoError(f"sending the alert: HTTP {response.status_code}: {response.text[:300]}")
    walk.done(
        "Alert fired",
        f"Grafana OnCall alert group {group} ({scenario.severity})",
        started,
        more=scenario.title,
    )

    started = time.monotonic()

    async def assembled() -> dict[str, Any] | None:
        doc = await walk.call("GET", "/api/incidents", "listing incidents", token=viewer)
        for item in doc["incidents"]:
            keys = {a["alert_group_key"].rpartition(":")[2] for a in item.get("alerts", [])}
            if (item["alert_group_id"] == group or group in keys) and item["assembled_at"]:
                found: dict[str, Any] = item
                return found
        return None

    incident = await walk.until("the war room to assemble", assembled)
    iid = incident["id"]
    walk.console_url = f"{walk.base}/console/incidents/{iid}"
    ic_email = (incident.get("ic") or {}).get("email")
    if not ic_email:
        raise DemoError(f"incident {iid} was assembled without an IC; check the roster")
    seconds = incident.get("alert_to_assembled_seconds")
    walk.done(
        "War room assembled",
        f"{iid}, IC {ic_email}"
        + (f", {seconds:.2f} s after the alert" if seconds is not None else ""),
        started,
        more=f"#{incident['channel']['name']}: {len(incident['responders'])} responders, "
        f"{len(incident['checklist'])} checklist items; sign in to the console as the IC with "
        f"a token from `incident-response token {ic_email}`",
    )

    ic = await tokens(ic_email)
    started = time.monotonic()
    reply = await walk.call(
        "POST", f"/api/incidents/{iid}/commands", "drafting", token=ic, json={"text": "draft"}
    )
    draft = (reply.get("data") or {}).get("draft")
    if not draft:
        raise DemoError(f"the draft command answered without a draft: {reply.get('text')}")
    walk.done(
        "Status update drafted",
        f"{draft['id']} v{draft['version']}, waiting for the IC",
        started,
        more=f"“{draft['body']}”",
    )

    started = time.monotonic()
    await _approve(walk, iid, draft, ic)
    walk.done("Approved & published", f"by the IC, {ic_email}", started)

    started = time.monotonic()

    async def on_status_page() -> int | None:
        doc = await walk.call("GET", "/status/api/v2/incidents.json", "reading the status page")
        bodies = [u.get("body") for i in doc["incidents"] for u in i.get("incident_updates", [])]
        return bodies.count(draft["body"]) or None

    copies = await walk.until("the update on the public status page", on_status_page)
    if copies != 1:
        raise DemoError(f"the approved update appears {copies} times on the status page")
    walk.done("On the public status page", "the approved text, once", started)

    if keep_open:
        final = await walk.incident(iid, ic)
        return _finish(walk, final, keep_open=True)

    started = time.monotonic()
    await walk.call(
        "POST", f"/api/incidents/{iid}/commands", "resolving", token=ic, json={"text": "resolve"}
    )

    async def resolved() -> dict[str, Any] | None:
        doc = await walk.incident(iid, ic)
        return doc if doc["status"] == "resolved" and doc["postmortem"] else None

    final = await walk.until("the resolution and the postmortem", resolved)
    walk.done("Resolved", "war room archived, reminders stopped", started)

    started = time.monotonic()
    closing = next((d for d in final["drafts"] if d["kind"] == "resolved"), None)
    if closing is not None and closing["status"] == "draft":
        await _approve(walk, iid, closing, ic)
        walk.done(
            "Resolution published", "approved by the IC", started, more=f"“{closing['body']}”"
        )

    started = time.monotonic()
    path = urlsplit(final["postmortem"]["url"]).path
    # postmortems are internal: the console shows them to people, the API to a token holder
    fetched = await walk.http.get(
        f"{walk.base}/api/postmortems/{final['postmortem']['id']}",
        headers={"Authorization": f"Bearer {ic}"},
    )
    if fetched.status_code != 200:
        raise DemoError(
            f"the postmortem {final['postmortem']['id']} is not readable through the API "
            f"(HTTP {fetched.status_code})"
        )
    heading = next((ln for ln in fetched.text.splitlines() if ln.startswith("# ")), "")
    walk.done(
        "Postmortem draft filed",
        path,
        started,
        more=heading.removeprefix("# ") or final["postmortem"]["url"],
    )
    return _finish(walk, await walk.incident(iid, ic), keep_open=False)


async def _approve(walk: _Walk, iid: str, draft: Mapping[str, Any], token: str) -> None:
    outcome = await walk.call(
        "POST",
        f"/api/incidents/{iid}/drafts/{draft['id']}/approve",
        "approving the draft",
        token=token,
        json={"version": draft["version"]},
    )
    if outcome.get("status") != "published":
        raise DemoError(f"the draft was approved but is {outcome.get('status')}, not published")


def _finish(walk: _Walk, incident: Mapping[str, Any], *, keep_open: bool) -> DemoResult:
    table = Table(title=f"incident {incident['id']}: {incident['status']}", title_justify="left")
    table.add_column("step")
    table.add_column("result")
    table.add_column("time", justify="right")
    for step in walk.steps:
        table.add_row(step.name, step.detail, f"{step.seconds:.1f} s")
    walk.console.print(table)
    postmortem = (incident.get("postmortem") or {}).get("url")
    walk.console.print(f"[bold]console[/bold]     {walk.console_url}", highlight=False)
    walk.console.print(f"[bold]status page[/bold] {walk.status_url}", highlight=False)
    if postmortem:
        walk.console.print(f"[bold]postmortem[/bold]  {postmortem}", highlight=False)
    if keep_open:
        walk.console.print(
            "The incident is still open: explore the war room, draft more updates, then "
            "`resolve` it from the console's command box."
        )
    return DemoResult(
        incident_id=incident["id"],
        status=incident["status"],
        console_url=walk.console_url,
        status_page_url=walk.status_url,
        postmortem_url=postmortem,
        alert_to_assembled_seconds=incident.get("alert_to_assembled_seconds"),
        steps=tuple(walk.steps),
    )
