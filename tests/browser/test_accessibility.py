"""Every console and status page, filled with a realistic incident, checked in Chromium with
axe-core (no serious or critical violation) and with no error in the browser console; each page
is also photographed for bench/screenshots/.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.browser.harness import LAPTOP, PHONE, Pages, Site, screenshot, wait_for

pytestmark = pytest.mark.browser

BLOCKING_IMPACTS = {"serious", "critical"}


@dataclass(frozen=True)
class World:
    """An open incident (published update, pending draft, ticked item), a resolved one, and the
    IC of the open one signed in."""

    open_incident: dict[str, Any]
    resolved_incident: dict[str, Any]
    ic_state: StorageState


@pytest.fixture(scope="module")
def world(site: Site, browser: Browser) -> World:
    site.fire_alert("IA11YOPEN01", title="Search: p95 above 3 s", service="api", alertname="SlowQ")
    site.fire_alert(
        "IA11YDONE01", title="Payments webhooks lag", service="payments", alertname="Lag"
    )
    live, done = site.incident_for("IA11YOPEN01"), site.incident_for("IA11YDONE01")
    ic = live["ic"]["email"]
    site.approve(live["id"], ic, site.draft(live["id"], ic))
    site.draft(live["id"], ic)
    site.command(live["id"], ic, "checklist toggle 1")
    done_ic = done["ic"]["email"]
    site.approve(done["id"], done_ic, site.draft(done["id"], done_ic))
    site.command(done["id"], done_ic, "resolve")
    closing = wait_for(
        lambda: next(
            (d for d in site.incident(done["id"])["drafts"] if d["kind"] == "resolved"), None
        )
    )
    site.approve(done["id"], done_ic, closing)
    resolved = wait_for(lambda: (d := site.incident(done["id"]))["postmortem"] and d)

    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(site.base + "/console/sign-in")
    page.get_by_label("Personal token").fill(site.token(ic))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    state = context.storage_state()
    context.close()
    return World(site.incident(live["id"]), resolved, state)


def blocking_violations(page: Page) -> list[str]:
    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at "
        + ", ".join(str(node["target"]) for node in v["nodes"][:5])
        for v in results.response["violations"]
        if v["impact"] in BLOCKING_IMPACTS
    ]


def status_page_incident(site: Site, world: World) -> str:
    return str(world.open_incident["status_page"]["url"]).removeprefix(site.base)


# (screenshot name, path or a function of the world, signed in)
PAGES: list[tuple[str, Any, bool]] = [
    ("console-sign-in", "/console/sign-in", False),
    ("console-incidents", "/console", True),
    ("console-incident", lambda w: f"/console/incidents/{w.open_incident['id']}", True),
    (
        "console-incident-resolved",
        lambda w: f"/console/incidents/{w.resolved_incident['id']}",
        True,
    ),
    (
        "console-postmortem",
        lambda w: urlsplit(w.resolved_incident["postmortem"]["url"]).path,
        True,
    ),
    ("console-metrics", "/console/metrics", True),
    ("console-announcements", "/console/announcements", True),
    ("console-maintenance", "/console/maintenance", True),
    ("status-page", "/status", False),
    ("status-history", "/status/history", False),
    (
        "status-incident",
        lambda w: f"/status/incidents/{w.open_incident['status_page']['incident_id']}",
        False,
    ),
]


@pytest.mark.parametrize(("name", "where", "signed_in"), PAGES, ids=[p[0] for p in PAGES])
def test_page_is_accessible_and_error_free(
    site: Site, pages: Pages, world: World, name: str, where: Any, signed_in: bool
) -> None:
    path = where(world) if callable(where) else where
    page = pages.new(storage_state=world.ic_state if signed_in else None)
    response = page.goto(site.base + path)
    assert response is not None
    assert response.status == 200, path
    expect(page.locator("main h1, main h2").first).to_be_visible()
    assert blocking_violations(page) == []
    assert pages.errors() == []
    screenshot(page, f"a11y-{name}")


def test_phone_layout_of_the_incident_page_is_accessible(
    site: Site, pages: Pages, world: World
) -> None:
    page = pages.new(viewport=PHONE, storage_state=world.ic_state)
    page.goto(f"{site.base}/console/incidents/{world.open_incident['id']}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert blocking_violations(page) == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    screenshot(page, "console-incident-phone")


@pytest.mark.parametrize(
    ("path", "status"),
    [("/console/incidents/inc-does-not-exist", 404), ("/status/incidents/nope", 404)],
)
def test_error_pages_are_accessible_and_say_what_happened(
    site: Site, pages: Pages, world: World, path: str, status: int
) -> None:
    page = pages.new(storage_state=world.ic_state)
    response = page.goto(site.base + path)
    assert response is not None
    assert response.status == status
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    assert blocking_violations(page) == []
    # the document's own status is the only thing the console may report
    own = f"({site.base + path})"
    assert [e for e in pages.errors() if not e.endswith(own)] == []
    pages.forget_errors()


def served_since(site: Site, offset: int) -> list[tuple[str, int]]:
    """(path, status) of the requests `serve` logged after `offset` characters of its log."""
    found = []
    for line in site.server.log()[offset:].splitlines():
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if entry.get("event") == "http.request":
                found.append((entry["path"], entry["status"]))
    return found


@pytest.mark.parametrize("path", ["/status/api/v2/summary.json", "/openapi.json"])
def test_documents_without_an_icon_link_log_no_errors(site: Site, pages: Pages, path: str) -> None:
    """Chromium asks for /favicon.ico by itself on them (playwright does not report that
    request, the server's log does): it must lead to the console's icon, not to a 404."""
    offset = len(site.server.log())
    page = pages.new()
    response = page.goto(site.base + path)
    assert response is not None
    assert response.status == 200
    icon = [("/favicon.ico", 308), ("/static/favicon.svg", 200)]
    wait_for(lambda: [r for r in served_since(site, offset) if "favicon" in r[0]][:2] == icon)
    assert pages.errors() == []


def test_the_console_is_usable_from_the_keyboard(site: Site, pages: Pages, world: World) -> None:
    page = pages.new(storage_state=world.ic_state)
    page.goto(f"{site.base}/console/incidents/{world.open_incident['id']}")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to content")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.locator("main")).to_be_focused()

    second = world.open_incident["checklist"][1]["text"]
    box = page.get_by_role("checkbox", name=second)
    box.focus()
    page.keyboard.press("Space")
    expect(page.get_by_role("checkbox", name=second)).to_have_attribute("aria-checked", "true")
    expect(page.get_by_role("checkbox", name=second)).to_be_focused()

    command = page.get_by_label("Command", exact=True)
    command.focus()
    page.keyboard.type("help")
    page.keyboard.press("Enter")
    expect(page.get_by_test_id("reply-command")).to_contain_text(re.compile("draft", re.IGNORECASE))


def test_the_axe_check_catches_what_it_should(pages: Pages) -> None:
    page = pages.new()
    page.set_content(
        '<html><head><title>t</title></head><body><main><h1>t</h1><img src="data:,">'
        "<button></button></main></body></html>"
    )
    found = " ".join(blocking_violations(page))
    assert "image-alt" in found
    assert "button-name" in found
