"""Declaring an incident in the console: the list's button, the form, and the war room that
follows, in Chromium against a real `serve` (whose processor assembles it)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.harness import Pages, Site, screenshot
from tests.browser.test_accessibility import blocking_violations

pytestmark = pytest.mark.browser

TITLE = "Checkout is slow for EU customers"


def test_declare_from_the_list_and_watch_the_war_room_assemble(site: Site, pages: Pages) -> None:
    page = pages.new()
    page.goto(site.base + "/console/sign-in")
    page.get_by_label("Personal token").fill(site.token("dan@example.com"))
    page.get_by_role("button", name="Sign in").click()
    page.get_by_test_id("declare-link").click()

    expect(page.get_by_role("heading", name="Declare incident")).to_be_visible()
    expect(page.get_by_label("Incident commander")).to_have_value("dan@example.com")
    page.get_by_role("button", name="Declare incident").click()  # no title: refused in place
    expect(page.get_by_label("What is wrong?")).to_be_focused()  # the browser's own check first
    page.get_by_label("What is wrong?").fill(TITLE)
    page.get_by_label("Severity").select_option("P1")
    page.get_by_label("Service affected").fill("checkout")
    page.get_by_label("What is known so far").fill("Latency doubled at 09:10 UTC.")
    assert blocking_violations(page) == []
    screenshot(page, "console-declare")
    page.get_by_role("button", name="Declare incident").click()

    expect(page.get_by_test_id("flash")).to_contain_text("Declared P1 incident")
    expect(page.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(page.get_by_test_id("declared-by")).to_have_text("Dan Kowalski")
    # the processor assembles it like an alert's: the page follows live
    expect(page.get_by_test_id("incident-status")).to_contain_text("Active")
    expect(page.get_by_test_id("incident-ic")).to_have_text("Dan Kowalski")
