"""A person's walk through the console in real Chromium: sign in, watch an alert become a war
room without reloading, read what the alert's authors left in the room's first message, tick
the checklist, approve a draft as the IC (a non-IC is not offered
the button), see the update on /status, resolve, and open the postmortem."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from incident_response.demo.alert import SCENARIOS, oncall_alert
from tests.browser.harness import PHONE, Pages, Site, screenshot, screenshot_of, wait_for

pytestmark = pytest.mark.browser

GROUP = "IFLOWCHECKOUT1"
CHECKOUT = SCENARIOS[0]  # the demo's alert: realistic labels, links and runbook
TITLE = CHECKOUT.title
RUNBOOK = f"https://runbooks.example.com/{CHECKOUT.service}/{CHECKOUT.alertname}"
DASHBOARD = "https://grafana.example.com/d/checkout-red/checkout?orgId=1&var-env=prod"


def sign_in(page: Page, site: Site, email: str, *, then: str = "/console") -> None:
    page.goto(site.base + then)
    expect(page).to_have_url(re.compile(r"/console/sign-in"))
    page.get_by_label("Personal token").fill(site.token(email))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()
    expect(page).to_have_url(re.compile(re.escape(then) + r"$"))


def test_alert_to_postmortem_in_the_console(site: Site, pages: Pages) -> None:
    watcher_email = site.emails()[0]
    watcher = pages.new()
    watcher.goto(site.base + "/console")
    screenshot(watcher, "console-sign-in")
    sign_in(watcher, site, watcher_email)
    expect(watcher.get_by_role("heading", name="Incidents", level=1)).to_be_visible()
    expect(watcher.locator("[data-live-state]")).to_be_visible()  # listening for changes

    # the alert arrives while the page is open: its row appears without a reload
    watcher.evaluate("window.__sameDocument = true")
    alert = oncall_alert(CHECKOUT, group_id=GROUP, at=datetime.now(UTC))
    annotations = alert["alert_payload"]["annotations"]
    assert annotations["runbook_url"] == RUNBOOK
    annotations["dashboard_url"] = DASHBOARD
    site.fire_oncall(alert)
    row = watcher.get_by_test_id("open-incidents").get_by_role("link", name=TITLE)
    expect(row).to_be_visible()
    assert watcher.evaluate("window.__sameDocument") is True
    incident = site.incident_for(GROUP)
    iid, ic_email = incident["id"], incident["ic"]["email"]
    ic_row = watcher.locator(f'[data-incident-id="{iid}"]')
    expect(ic_row).to_contain_text(incident["ic"]["name"])  # the IC shows once assembled
    screenshot(watcher, "console-incidents")

    # the IC and someone else, each in their own browser context
    ic = watcher if watcher_email == ic_email else pages.new()
    if ic is not watcher:
        sign_in(ic, site, ic_email)
    other_email = next(e for e in site.emails() if e != ic_email)
    other = watcher if watcher_email == other_email else pages.new()
    if other is not watcher:
        sign_in(other, site, other_email)

    ic.goto(site.base + "/console")
    ic.get_by_role("link", name=TITLE).click()
    expect(ic).to_have_url(re.compile(rf"/console/incidents/{iid}$"))
    expect(ic.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(ic.get_by_test_id("incident-ic")).to_contain_text(incident["ic"]["name"])
    expect(ic.get_by_test_id("message").first).to_be_visible()
    expect(ic.get_by_test_id("chain-result")).to_contain_text("Hash chain verified")

    # the room's first message keeps what the alert's authors left: summary, description, the
    # runbook and dashboard as links, and the labels on one line
    brief = ic.get_by_test_id("message").filter(has_text="Labels:").first
    expect(brief).to_contain_text(f"Summary: {CHECKOUT.summary}")
    expect(brief).to_contain_text(f"Description: {CHECKOUT.description}")
    expect(brief.get_by_role("link", name=RUNBOOK, exact=True)).to_have_attribute("href", RUNBOOK)
    expect(brief.get_by_role("link", name=DASHBOARD, exact=True)).to_have_attribute(
        "href", DASHBOARD
    )
    [labels] = [line for line in brief.inner_text().splitlines() if line.startswith("Labels:")]
    for label in (
        f"alertname={CHECKOUT.alertname}",
        "cluster=prod-eu-1",
        f"service={CHECKOUT.service}",
        f"severity={CHECKOUT.severity}",
    ):
        assert label in labels, labels
    bookmarks = ic.get_by_role("list", name="Bookmarks")
    expect(bookmarks.get_by_role("link", name="Runbook")).to_have_attribute("href", RUNBOOK)
    expect(bookmarks.get_by_role("link", name="Dashboard")).to_have_attribute("href", DASHBOARD)
    screenshot_of(brief, "console-alert-context")
    # the runbook opens from the message (the runbook site answered here by the test)
    ic.route(RUNBOOK, lambda route: route.fulfill(body="<h1>HighErrorRate runbook</h1>"))
    brief.get_by_role("link", name=RUNBOOK, exact=True).click()
    expect(ic).to_have_url(RUNBOOK)
    ic.go_back()
    expect(ic).to_have_url(re.compile(rf"/console/incidents/{iid}$"))

    # tick the first checklist item
    first_item = incident["checklist"][0]
    box = ic.get_by_role("checkbox", name=first_item["text"])
    expect(box).to_have_attribute("aria-checked", "false")
    box.click()
    expect(ic.get_by_role("checkbox", name=first_item["text"])).to_have_attribute(
        "aria-checked", "true"
    )
    ticked = site.incident(iid)["checklist"][0]
    assert ticked["done"] is True
    assert ticked["done_by"] == ic_email

    # a draft: the IC may approve it, anyone else sees it without the button
    updates = ic.get_by_role("region", name="Status updates")
    updates.get_by_role("button", name="Draft a status update").click()
    draft_card = updates.get_by_test_id("draft").first
    expect(draft_card).to_be_visible()
    draft = next(d for d in site.incident(iid)["drafts"] if d["status"] == "draft")
    expect(draft_card.get_by_test_id("draft-body")).to_have_text(draft["body"])
    expect(draft_card.get_by_test_id("approve-button")).to_be_visible()
    screenshot(ic, "console-incident")

    other.goto(f"{site.base}/console/incidents/{iid}")
    expect(other.get_by_test_id("draft").first.get_by_test_id("draft-body")).to_have_text(
        draft["body"]
    )
    expect(other.get_by_test_id("approve-button")).to_have_count(0)
    expect(other.get_by_role("button", name=re.compile("Approve"))).to_have_count(0)
    expect(other.get_by_text("Only the incident commander")).to_be_visible()
    screenshot(other, "console-incident-non-ic")

    # Approve & Publish asks for confirmation, showing the exact text
    draft_card.get_by_test_id("approve-button").click()
    expect(ic.get_by_test_id("confirm-body")).to_have_text(draft["body"])
    screenshot(ic, "console-approve-confirm")
    ic.get_by_role("button", name="Publish to status page").click()
    # the answer shows beside the draft it is about
    expect(ic.get_by_test_id(f"reply-draft-{draft['id']}")).to_contain_text("Published")
    expect(ic.get_by_test_id("draft").first).to_contain_text("Published")
    assert [d["status"] for d in site.incident(iid)["drafts"]] == ["published"]

    # the public page shows the approved text, to anyone, on a laptop and on a phone
    public = pages.new()
    public.goto(site.base + "/status")
    public_id = site.incident(iid)["status_page"]["incident_id"]
    card = public.locator(f'[data-testid="status-incident"][aria-labelledby="si-{public_id}"]')
    expect(card.get_by_test_id("status-update-body")).to_have_text(draft["body"])
    expect(public.get_by_test_id("overall-status")).not_to_contain_text("All Systems Operational")
    screenshot(public, "status-page")
    phone = pages.new(viewport=PHONE)
    phone.goto(site.base + "/status")
    expect(phone.get_by_test_id("status-update-body").first).to_be_visible()
    screenshot(phone, "status-page-phone")

    # resolve (confirmed), then the postmortem link appears on the open page by itself
    ic.get_by_role("button", name="Resolve incident…").click()
    expect(ic.get_by_role("heading", name="Resolve this incident?")).to_be_visible()
    ic.get_by_role("button", name="Resolve incident").click()
    expect(ic).to_have_url(re.compile(rf"/console/incidents/{iid}"))
    postmortem = ic.get_by_test_id("postmortem-link")
    expect(postmortem).to_be_visible()
    expect(ic.get_by_test_id("incident-status")).to_contain_text("Resolved")
    resolved = wait_for(lambda: (d := site.incident(iid))["postmortem"] and d)
    screenshot(ic, "console-incident-resolved")
    postmortem.click()
    expect(ic).to_have_url(resolved["postmortem"]["url"])
    # a console page with the Markdown rendered: headings, tables, the published update quoted
    document = ic.get_by_test_id("postmortem")
    expect(document.get_by_role("heading", level=1)).to_contain_text(TITLE)
    expect(document.get_by_role("heading", name="Timeline (UTC)", level=2)).to_be_visible()
    expect(document.get_by_role("columnheader", name="What happened")).to_be_visible()
    for section in ("Impact", "Contributing factors", "Lessons learned", "Follow-ups"):
        expect(document.get_by_role("heading", name=section, level=2)).to_be_visible()
    expect(document.locator("blockquote").first).to_contain_text(draft["body"])
    expect(ic.get_by_test_id("signed-in-as")).to_be_visible()
    with ic.expect_download() as download:
        ic.get_by_role("link", name="Download Markdown").click()
    markdown = Path(download.value.path()).read_text(encoding="utf-8")
    assert markdown.splitlines()[1].startswith("# Postmortem:")
    assert draft["body"] in markdown
    screenshot(ic, "postmortem")
    ic.get_by_test_id("postmortem-incident-link").click()
    expect(ic).to_have_url(re.compile(rf"/console/incidents/{iid}$"))
