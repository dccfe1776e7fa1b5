"""Issue 12's walk, as one responder does it in the console, in Chromium against a real `serve`:
declare → name a communications lead → raise the severity → note → publish an "identified"
update for two components → follow-up → resolve → the postmortem tells the story. At each step
the test looks where a person would: the war room's lines and topic, the page's header, the
timeline, the public status page. It also photographs the war room, the timeline and the
postmortem for the README."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, ViewportSize, expect

from tests.browser.harness import LAPTOP, Pages, Site, screenshot, screenshot_between, screenshot_of
from tests.browser.test_accessibility import blocking_violations

pytestmark = pytest.mark.browser

IC = "dan@example.com"
IC_NAME = "Dan Kowalski"
COMMS = "carol@example.com"
COMMS_NAME = "Carol Nguyen"
TITLE = "Card payments fail for some EU customers"
NOTE = "Rolled back payments-gateway 2.14; error rate falling"
UPDATE = (
    "We have identified a faulty release of our payment gateway and are rolling it back. "
    "Some card payments in the EU fail; retrying usually works."
)
COMPONENTS = ("Payments API", "Checkout")
FOLLOWUP = "Add a canary stage to payments-gateway releases"
TALL: ViewportSize = {"width": LAPTOP["width"], "height": 1150}


def timeline_entry(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_test_id("timeline").get_by_test_id("timeline-entry").filter(has_text=text)


def room_line(page: Page, text: str | re.Pattern[str]) -> Locator:
    return page.get_by_test_id("messages").get_by_test_id("message").filter(has_text=text)


def test_declare_steer_note_publish_follow_up_resolve_and_read_the_postmortem(
    site: Site, pages: Pages
) -> None:
    page = pages.new()
    page.goto(site.base + "/console/sign-in")
    page.get_by_label("Personal token").fill(site.token(IC))
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_test_id("signed-in-as")).to_be_visible()

    # 1. declare by hand, at P3, with the declarer as IC
    page.get_by_test_id("declare-link").click()
    page.get_by_label("What is wrong?").fill(TITLE)
    page.get_by_label("Severity").select_option("P3")
    page.get_by_label("Service affected").fill("payments")
    page.get_by_label("What is known so far").fill("Card declines rose at 09:10 UTC.")
    expect(page.get_by_label("Incident commander")).to_have_value(IC)
    page.get_by_role("button", name="Declare incident").click()
    expect(page.get_by_test_id("flash")).to_contain_text("Declared P3 incident")
    expect(page).to_have_url(re.compile(r"/console/incidents/[^/#?]+$"))
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text(TITLE)
    expect(heading).to_contain_text("P3")
    expect(page.get_by_test_id("incident-status")).to_contain_text("Active")
    expect(page.get_by_test_id("incident-ic")).to_have_text(IC_NAME)
    expect(page.get_by_test_id("incident-stage")).to_have_text("Stage: Investigating")
    expect(timeline_entry(page, f"Declared: \u201c{TITLE}\u201d (P3, payments)")).to_be_visible()
    expect(page.get_by_test_id("message").first).to_be_visible()  # the room is assembled
    assert blocking_violations(page) == []

    steer = page.get_by_role("region", name="Steer")
    steered = page.get_by_test_id("reply-steer")

    # 2. a communications lead, shown in the header, the room and the timeline
    steer.get_by_label("Incident role").select_option("comms")
    steer.get_by_label("Role holder (e-mail or name)").fill(COMMS)
    steer.get_by_role("button", name="Assign role").click()
    expect(steered).to_contain_text("is now the communications lead")
    expect(page.get_by_test_id("incident-roles")).to_contain_text(
        f"Communications lead: {COMMS_NAME}"
    )
    expect(
        room_line(page, f"{COMMS_NAME} ({COMMS}) is now the communications lead")
    ).to_be_visible()
    expect(timeline_entry(page, f"{COMMS_NAME} is the communications lead")).to_be_visible()

    # 3. raise the severity: the header and the room's topic follow
    steer.get_by_label("Incident severity").select_option("P1")
    steer.get_by_role("button", name="Set severity").click()
    expect(steered).to_contain_text("The incident is now P1 (was P3).")
    expect(heading).to_contain_text("P1")
    topic = page.locator("#conversation").get_by_text(re.compile(r"^#"))
    expect(topic).to_contain_text("P1")
    expect(topic).to_contain_text(IC_NAME)
    expect(timeline_entry(page, "Severity raised from P3 to P1")).to_be_visible()
    expect(room_line(page, f"Severity raised from P3 to P1 by {IC_NAME}")).to_be_visible()

    # 4. a note from the command box
    command = page.get_by_label("Command", exact=True)
    command.fill(f"note {NOTE}")
    command.press("Enter")
    expect(page.get_by_test_id("reply-command")).to_contain_text(re.compile("note", re.I))
    expect(command).to_have_value("")
    expect(timeline_entry(page, NOTE)).to_contain_text(IC_NAME)

    # 5. a status update: draft, choose the stage and two components, approve, publish
    updates = page.get_by_role("region", name="Status updates")
    updates.get_by_role("button", name="Draft a status update").click()
    draft = updates.get_by_test_id("draft").first
    expect(draft).to_be_visible()
    draft_id = draft.get_attribute("data-draft-id")
    assert draft_id
    draft.get_by_text("Edit", exact=True).click()
    draft.get_by_label(f"Text of {draft_id}").fill(UPDATE)
    draft.get_by_label("Stage").select_option("identified")
    draft.get_by_label("Affected components (comma-separated)").fill(", ".join(COMPONENTS))
    draft.get_by_role("button", name=re.compile(r"Save as version")).click()
    draft = updates.locator(f'[data-draft-id="{draft_id}"]')
    expect(draft.get_by_test_id("draft-body")).to_have_text(UPDATE)
    expect(draft.get_by_test_id("draft-public")).to_contain_text("Identified")
    for component in COMPONENTS:
        expect(draft.get_by_test_id("draft-public")).to_contain_text(component)
    expect(room_line(page, f"{IC_NAME} edited status update {draft_id}").first).to_be_visible()

    draft.get_by_test_id("approve-button").click()
    expect(page.get_by_test_id("confirm-body")).to_have_text(UPDATE)
    expect(page.get_by_test_id("confirm-stage")).to_have_text("Identified")
    statuses = page.get_by_test_id("confirm-component-statuses")
    statuses.get_by_label(COMPONENTS[0]).select_option("major_outage")
    statuses.get_by_label(COMPONENTS[1]).select_option("degraded_performance")
    assert blocking_violations(page) == []
    page.get_by_role("button", name="Publish to status page").click()
    expect(page.get_by_test_id(f"reply-draft-{draft_id}")).to_contain_text("Published")
    expect(page.get_by_test_id("incident-stage")).to_have_text("Stage: Identified")
    expect(
        timeline_entry(page, f"Status update published (identified): \u201c{UPDATE}\u201d")
    ).to_be_visible()
    published = re.compile(rf"{IC_NAME} approved and published .*{draft_id}")
    expect(room_line(page, published)).to_be_visible()
    expect(topic).to_contain_text("identified")
    page.set_viewport_size(TALL)  # the header, the whole room and its command box
    screenshot(page, "console-war-room")
    page.set_viewport_size(LAPTOP)

    public = pages.new()
    public.goto(site.base + "/status")
    card = public.get_by_test_id("status-incident").filter(has_text=UPDATE)
    expect(card.get_by_test_id("status-update-body")).to_have_text(UPDATE)
    expect(card).to_contain_text("Identified")
    expect(card).to_contain_text(f"Affects {COMPONENTS[0]}, {COMPONENTS[1]}")
    shown = {
        c.locator(".name").inner_text(): c.locator(".component-status").inner_text()
        for c in public.get_by_test_id("component").all()
    }
    assert shown[COMPONENTS[0]] == "Major outage", shown
    assert shown[COMPONENTS[1]] == "Degraded performance", shown

    # 6. a follow-up from its panel
    followups = page.get_by_role("region", name=re.compile("Follow-ups"))
    followups.get_by_label("Action item").fill(FOLLOWUP)
    followups.get_by_label("Owner (e-mail, optional)").fill(COMMS)
    followups.get_by_role("button", name="Add follow-up").click()
    expect(followups.get_by_test_id("followup")).to_contain_text(FOLLOWUP)
    expect(followups.get_by_test_id("followup")).to_contain_text(f"owner {COMMS_NAME}")
    expect(timeline_entry(page, f"Follow-up: {FOLLOWUP}")).to_be_visible()
    assert blocking_violations(page) == []
    screenshot_of(page.get_by_role("region", name="Timeline"), "console-timeline")

    # 7. resolve (confirmed); the postmortem link appears by itself
    page.get_by_role("button", name="Resolve incident…").click()
    expect(page.get_by_role("heading", name="Resolve this incident?")).to_be_visible()
    page.get_by_role("button", name="Resolve incident").click()
    expect(page.get_by_test_id("incident-status")).to_contain_text("Resolved")
    expect(page.get_by_test_id("timeline").locator("li.kind-resolved")).to_contain_text("Resolved")
    postmortem = page.get_by_test_id("postmortem-link")
    expect(postmortem).to_be_visible()

    # 8. the postmortem starts from the story and lists the follow-up
    postmortem.click()
    document = page.get_by_test_id("postmortem")
    expect(document.get_by_role("heading", level=1)).to_contain_text(TITLE)
    story = document.get_by_role("table").filter(
        has=page.get_by_role("columnheader", name="What happened")
    )
    for told in (
        "Declared",
        "is the communications lead",
        "Severity raised from P3 to P1",
        NOTE,
        "Status update published (identified)",
        f"Follow-up: {FOLLOWUP}",
        "Resolved",
    ):
        expect(story).to_contain_text(told)
    expect(document.get_by_role("heading", name="Follow-ups", level=2)).to_be_visible()
    impact = document.get_by_role("listitem").filter(has_text="Stages: investigating → identified")
    expect(impact).to_be_visible()
    expect(document.locator("blockquote").first).to_contain_text(UPDATE)  # as customers read it
    followed = document.get_by_role("table").filter(
        has=page.get_by_role("columnheader", name="Follow-up", exact=True)
    )
    expect(followed.get_by_role("row").filter(has_text=FOLLOWUP)).to_contain_text(COMMS_NAME)
    assert blocking_violations(page) == []
    screenshot_between(
        page,
        document.get_by_role("heading", name="Timeline (UTC)", level=2),
        followed,
        "postmortem-story",
    )
