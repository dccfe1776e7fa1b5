"""The console answers where the person looks: a command's reply beside the command box (and
announced), the command box and drafts before the facts on a phone, an incidents list that fits a
phone, the public status page's own 404, and an announcements channel that says what it holds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page, StorageState, expect

from tests.browser.harness import LAPTOP, PHONE, Pages, Site, wait_for
from tests.browser.test_accessibility import blocking_violations

pytestmark = pytest.mark.browser

LONG_TITLE = (
    "Checkout-service-p95-latency-above-threshold-in-eu-west-1-for-the-payments-gateway "
    "while the nightly reconciliation batch is running"
)


@dataclass(frozen=True)
class Room:
    incident: dict[str, Any]
    ic_state: StorageState


def signed_in_state(site: Site, browser: Browser, email: str) -> StorageState:
    context = browser.new_context(viewport=LAPTOP)
    page = context.new_page()
    page.goto(site.base + "/console/sign-in")
    page.get_by_label("Personal token").fill(site.token(email))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    state = context.storage_state()
    context.close()
    return state


@pytest.fixture(scope="module")
def room(site: Site, browser: Browser) -> Room:
    site.fire_alert("IANSWERS01", title=LONG_TITLE, service="payments", alertname="Latency")
    incident = site.incident_for("IANSWERS01")
    site.draft(incident["id"], incident["ic"]["email"])
    return Room(
        site.incident(incident["id"]), signed_in_state(site, browser, incident["ic"]["email"])
    )


def incident_page(site: Site, pages: Pages, room: Room, *, phone: bool = False) -> Page:
    page = pages.new(viewport=PHONE if phone else LAPTOP, storage_state=room.ic_state)
    page.goto(f"{site.base}/console/incidents/{room.incident['id']}")
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    return page


def run_command(page: Page, text: str) -> None:
    box = page.get_by_label("Command", exact=True)
    box.fill(text)
    box.press("Enter")


def test_a_commands_reply_appears_beside_the_command_box_and_is_announced(
    site: Site, pages: Pages, room: Room
) -> None:
    page = incident_page(site, pages, room)
    reply = page.get_by_test_id("reply-command")
    expect(reply).to_have_attribute("aria-live", "polite")
    expect(reply).to_have_attribute("role", "status")

    run_command(page, "help")
    expect(reply).to_contain_text("checklist")
    expect(reply).to_contain_text(re.compile("draft", re.IGNORECASE))
    expect(page.get_by_test_id("flash")).to_have_text("")  # not at the top of the page
    box = page.get_by_label("Command", exact=True).bounding_box()
    shown = reply.bounding_box()
    assert box is not None
    assert shown is not None
    assert 0 <= shown["y"] - (box["y"] + box["height"]) < 120, "the reply is not beside the box"

    run_command(page, "dance")  # refused: said just as close, and announced the same way
    expect(reply).to_contain_text("Unknown command `dance`")
    expect(reply.locator(".flash.problem")).to_be_visible()
    expect(page.get_by_test_id("flash")).to_have_text("")


def test_the_checklist_and_the_drafts_answer_beside_themselves(
    site: Site, pages: Pages, room: Room
) -> None:
    page = incident_page(site, pages, room)
    item = room.incident["checklist"][2]["text"]
    page.get_by_role("checkbox", name=item).click()
    # the list is redrawn with the tick, and the answer stays beside it
    expect(page.get_by_role("checkbox", name=item)).to_have_attribute("aria-checked", "true")
    ticked = page.get_by_test_id("reply-checklist")
    expect(ticked).to_have_text(re.compile(r"^Item 3 is done"))
    expect(ticked).not_to_contain_text("Checklist (")  # the list itself is right there

    updates = page.get_by_role("region", name="Status updates")
    updates.get_by_role("button", name="Draft a status update").click()
    expect(page.get_by_test_id("reply-drafts")).to_contain_text("is ready for review")
    expect(page.get_by_test_id("flash")).to_have_text("")
    expect(page.get_by_test_id("reply-checklist")).to_contain_text("Item 3 is done")


def test_a_reply_without_script_lands_beside_the_command_box(
    site: Site, pages: Pages, browser: Browser, room: Room
) -> None:
    context = browser.new_context(
        viewport=LAPTOP, storage_state=room.ic_state, java_script_enabled=False
    )
    try:
        page = context.new_page()
        page.goto(f"{site.base}/console/incidents/{room.incident['id']}")
        run_command(page, "dance")
        expect(page).to_have_url(re.compile(r"#command$"))
        expect(page.get_by_test_id("reply-command")).to_contain_text("Unknown command `dance`")
        expect(page.get_by_test_id("flash")).to_have_text("")
    finally:
        context.close()


def test_on_a_phone_the_command_box_and_the_drafts_come_before_the_facts(
    site: Site, pages: Pages, room: Room
) -> None:
    page = incident_page(site, pages, room, phone=True)

    def top(locator: Any) -> float:
        box = locator.bounding_box()
        assert box is not None
        return float(box["y"])

    facts = top(page.get_by_test_id("incident-status"))
    assert top(page.get_by_label("Command", exact=True)) < facts
    assert top(page.get_by_role("region", name="Status updates")) < facts
    assert top(page.get_by_test_id("draft").first) < facts
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    assert blocking_violations(page) == []


def test_the_incidents_list_fits_a_phone_without_scrolling_sideways(
    site: Site, pages: Pages, room: Room
) -> None:
    page = pages.new(viewport=PHONE, storage_state=room.ic_state)
    page.goto(site.base + "/console")
    row = page.locator(f'[data-incident-id="{room.incident["id"]}"]')
    expect(row).to_contain_text(LONG_TITLE.split()[0])
    assert page.evaluate("document.scrollingElement.scrollWidth <= window.innerWidth")
    # nor inside the list: no table wider than its box, no row past the screen's edge
    assert page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
            .every(w => w.scrollWidth <= w.clientWidth)"""
    )
    for each in page.get_by_test_id("incident-row").all():
        box = each.bounding_box()
        assert box is not None
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    assert blocking_violations(page) == []


@pytest.mark.parametrize("path", ["/status/incidents/nope", "/status/anything-unknown"])
def test_the_public_404_looks_like_the_status_page(site: Site, pages: Pages, path: str) -> None:
    page = pages.new()
    response = page.goto(site.base + path)
    assert response is not None
    assert response.status == 404
    expect(page.get_by_role("navigation", name="Status page")).to_be_visible()
    expect(page.get_by_role("heading", level=1)).to_have_text("Page not found")
    expect(page.locator('a[href^="/console"]')).to_have_count(0)
    expect(page.get_by_role("link", name="See the current status")).to_be_visible()
    sources = page.eval_on_selector_all("script[src]", "all => all.map(s => s.src)")
    assert sources
    assert all(s.startswith(site.base + "/") for s in sources), sources
    assert blocking_violations(page) == []
    own = f"({site.base + path})"  # the document's own 404 is the only error allowed
    assert [e for e in pages.errors() if not e.endswith(own)] == []
    pages.forget_errors()


def test_the_announcements_channel_says_what_it_holds(
    site: Site, pages: Pages, browser: Browser, room: Room
) -> None:
    site.fire_alert("IANNOUNCE01", title="Exports queue stuck", service="api", alertname="Stuck")
    incident = site.incident_for("IANNOUNCE01")
    site.command(incident["id"], incident["ic"]["email"], "resolve")
    wait_for(lambda: site.incident(incident["id"])["postmortem"])
    page = pages.new(storage_state=signed_in_state(site, browser, incident["ic"]["email"]))
    page.goto(site.base + "/console/announcements")
    purpose = page.get_by_test_id("channel-purpose")
    expect(purpose).to_contain_text("when it is resolved")
    expect(purpose).to_contain_text("New incidents are not posted here")
    messages = page.get_by_test_id("message")
    resolved = re.compile(rf"Resolved: P\d Exports queue stuck \({incident['id']}\)")
    expect(messages.filter(has_text=resolved)).to_have_count(1)
    expect(messages.filter(has_text=room.incident["id"])).to_have_count(0)  # still open
    assert urlsplit(page.url).path.startswith("/console/channels/")


def test_a_room_message_pinned_and_a_followup_added_show_in_the_story(
    site: Site, pages: Pages, room: Room
) -> None:
    page = incident_page(site, pages, room)
    story = page.get_by_test_id("timeline")
    first = page.get_by_test_id("message").first
    quoted = first.locator(".message-text").inner_text().split("\n")[0][:40]
    first.get_by_test_id("pin-to-timeline").click()
    expect(page.get_by_test_id("reply-command")).to_contain_text("Pinned to the timeline.")
    expect(story).to_contain_text(quoted)

    panel = page.get_by_role("region", name="Follow-ups")
    panel.get_by_label("Action item").fill("Alert on pool exhaustion")
    panel.get_by_role("button", name="Add follow-up").click()
    expect(page.get_by_test_id("reply-followups")).to_contain_text("Follow-up recorded")
    expect(page.get_by_test_id("followup")).to_contain_text("Alert on pool exhaustion")
    expect(story).to_contain_text("Follow-up: Alert on pool exhaustion")
    assert blocking_violations(page) == []
