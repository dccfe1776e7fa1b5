"""What the browser tests share: the running `serve` as a Site, watched pages, screenshots."""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import httpx
from playwright.sync_api import (
    Browser,
    BrowserContext,
    ConsoleMessage,
    FloatRect,
    Locator,
    Page,
    StorageState,
    ViewportSize,
)
from playwright.sync_api import (
    Error as PlaywrightError,
)

from incident_response.tokens import issue, load_or_create_key
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess

T = TypeVar("T")

CHROMIUM = Path(os.environ.get("INCIDENT_RESPONSE_CHROMIUM", "/usr/bin/chromium"))
# committed for the README; set the variable to keep a run's pictures elsewhere
SCREENSHOTS = Path(
    os.environ.get(
        "INCIDENT_RESPONSE_SCREENSHOTS_DIR",
        Path(__file__).resolve().parents[2] / "bench" / "screenshots",
    )
)
LAUNCH_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
LAPTOP: ViewportSize = {"width": 1280, "height": 800}
PHONE: ViewportSize = {"width": 390, "height": 844}
# long enough for a live update on a loaded 2-core CI machine, short enough to fail fast
UI_TIMEOUT_MS = 15_000


@dataclass
class Site:
    """The running `serve` as the browser tests use it: people, alerts and the API."""

    server: ServeProcess

    @property
    def base(self) -> str:
        return self.server.base

    def emails(self) -> list[str]:
        text = (self.server.data_dir / "roster.yaml").read_text()
        found: list[str] = []
        for match in re.finditer(r"^\s+email:\s*(\S+@\S+)\s*$", text, re.MULTILINE):
            if match.group(1) not in found:
                found.append(match.group(1))
        return found

    def token(self, email: str) -> str:
        """Issued in-process with the server's key: what `incident-response token` prints."""
        return issue(email, load_or_create_key(self.server.data_dir / "api-token-key"))

    def api(self, email: str) -> httpx.Client:
        return self.server.client(self.token(email))

    def fire_alert(self, group: str, *, title: str, service: str, alertname: str) -> None:
        self.fire_oncall(
            oncall_payload(
                group=group,
                title=title,
                labels={"alertname": alertname, "service": service, "severity": "critical"},
            )
        )

    def fire_oncall(self, body: dict[str, Any]) -> None:
        """POST a Grafana OnCall outgoing-webhook body, as OnCall would."""
        posted = httpx.post(
            self.base + "/webhooks/grafana-oncall",
            content=json.dumps(body),
            headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
            timeout=10,
        )
        assert posted.status_code == 202, posted.text

    def incident_for(self, group: str, *, assembled: bool = True) -> dict[str, Any]:
        email = self.emails()[0]

        def found() -> dict[str, Any] | None:
            with self.api(email) as api:
                for item in api.get("/api/incidents").json()["incidents"]:
                    if item["alert_group_id"] == group and (item["assembled_at"] or not assembled):
                        incident: dict[str, Any] = item
                        return incident
            return None

        return wait_for(found)

    def command(self, incident_id: str, email: str, text: str) -> dict[str, Any]:
        with self.api(email) as api:
            reply = api.post(f"/api/incidents/{incident_id}/commands", json={"text": text})
            assert reply.status_code == 200, reply.text
            body: dict[str, Any] = reply.json()
            return body

    def draft(self, incident_id: str, email: str) -> dict[str, Any]:
        draft: dict[str, Any] = self.command(incident_id, email, "draft")["data"]["draft"]
        return draft

    def approve(self, incident_id: str, email: str, draft: dict[str, Any]) -> None:
        with self.api(email) as api:
            done = api.post(
                f"/api/incidents/{incident_id}/drafts/{draft['id']}/approve",
                json={"version": draft["version"]},
            )
            assert done.status_code == 200, done.text

    def incident(self, incident_id: str) -> dict[str, Any]:
        with self.api(self.emails()[0]) as api:
            doc: dict[str, Any] = api.get(f"/api/incidents/{incident_id}").json()
            return doc


def wait_for(check: Callable[[], T | None], timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.1)


@dataclass
class Watched:
    """A page whose console errors and uncaught exceptions are collected as they happen."""

    page: Page
    errors: list[str] = field(default_factory=list)

    def console(self, message: ConsoleMessage) -> None:
        if message.type == "error":
            source = message.location.get("url") or ""
            self.errors.append(f"{self.page.url}: console error: {message.text} ({source})")

    def crashed(self, error: Exception) -> None:
        self.errors.append(f"{self.page.url}: uncaught: {error}")


class Pages:
    """Opens watched pages in fresh browser contexts (one context = one signed-in person)."""

    def __init__(self, browser: Browser) -> None:
        self._browser = browser
        self._contexts: list[BrowserContext] = []
        self.watched: list[Watched] = []

    def new(
        self, *, viewport: ViewportSize | None = None, storage_state: StorageState | None = None
    ) -> Page:
        """A page in a new context: a new person (or a signed-in one from `storage_state`)."""
        context = self._browser.new_context(
            viewport=viewport or LAPTOP,
            storage_state=storage_state,
            locale="en-GB",
            timezone_id="Europe/Berlin",
            color_scheme="light",
        )
        context.set_default_timeout(UI_TIMEOUT_MS)
        self._contexts.append(context)
        page = context.new_page()
        watched = Watched(page)
        page.on("console", watched.console)
        page.on("pageerror", watched.crashed)
        self.watched.append(watched)
        return page

    def errors(self) -> list[str]:
        return [e for w in self.watched for e in w.errors]

    def forget_errors(self, *, source: str | None = None) -> None:
        """After a test has judged the errors itself (an error page reports its own status):
        all of them, or those about one resource."""
        for watched in self.watched:
            watched.errors[:] = [
                e for e in watched.errors if source is not None and not e.endswith(f"({source})")
            ]

    def close(self) -> None:
        for context in self._contexts:
            context.close()


def screenshot(page: Page, name: str, *, full_page: bool = False) -> Path:
    """Save `bench/screenshots/<name>.png` (the pictures the README shows), from the top of the
    page: what a person sees on arriving."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(path), full_page=full_page, animations="disabled")
    return path


def screenshot_of(part: Locator, name: str) -> Path:
    """Save `<name>.png` of one part of a page (a card, a section), as large as it is. A live
    page may redraw that part while it is photographed: then it is taken again, as redrawn."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    for attempt in range(3):
        try:
            part.screenshot(path=str(path), animations="disabled")
            return path
        except PlaywrightError:
            if attempt == 2:
                raise
    return path


def screenshot_between(page: Page, first: Locator, last: Locator, name: str) -> Path:
    """Save `<name>.png` of a page from the top of `first` to the bottom of `last`, from the
    left edge to the wider one's right: a stretch of a long document (a postmortem's story and
    follow-ups)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.evaluate("window.scrollTo(0, 0)")
    top, bottom = first.bounding_box(), last.bounding_box()
    assert top is not None, "the first part must be shown"
    assert bottom is not None, "the last part must be shown"
    margin = 16
    y = max(0.0, top["y"] - margin)
    height = bottom["y"] + bottom["height"] + margin - y
    right = max(top["x"] + top["width"], bottom["x"] + bottom["width"]) + 2 * margin
    clip: FloatRect = {"x": 0, "y": y, "width": right, "height": height}
    page.screenshot(path=str(path), full_page=True, clip=clip, animations="disabled")
    return path
