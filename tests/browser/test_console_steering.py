"""The incident page's Steer card: the IC sets the severity, moves the stage and names a
communications lead; each answer appears beside the card, and the header (severity, stage,
roles) is redrawn without a reload."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.harness import LAPTOP, Pages, Site
from tests.browser.test_accessibility import blocking_violations
from tests.browser.test_console_answers import signed_in_state

pytestmark = pytest.mark.browser


def test_the_ic_steers_severity_stage_and_roles_from_the_steer_card(
    site: Site, pages: Pages, browser: Browser
) -> None:
    site.fire_alert("ISTEER0001", title="HighErrorRate search", service="search", alertname="Err")
    incident = site.incident_for("ISTEER0001")
    state = signed_in_state(site, browser, incident["ic"]["email"])
    page = pages.new(viewport=LAPTOP, storage_state=state)
    page.goto(f"{site.base}/console/incidents/{incident['id']}")
    steer = page.get_by_role("region", name="Steer")
    reply = page.get_by_test_id("reply-steer")

    steer.get_by_label("Incident severity").select_option("P2")
    steer.get_by_role("button", name="Set severity").click()
    expect(reply).to_contain_text("The incident is now P2 (was P1).")
    expect(page.get_by_role("heading", level=1)).to_contain_text("P2")

    steer.get_by_label("Incident stage").select_option("identified")
    steer.get_by_role("button", name="Move stage").click()
    expect(reply).to_contain_text("now at the identified stage")
    expect(page.get_by_test_id("incident-stage")).to_have_text("Stage: Identified")

    steer.get_by_label("Incident role").select_option("comms")
    steer.get_by_label("Role holder (e-mail or name)").fill("carol@example.com")
    steer.get_by_role("button", name="Assign role").click()
    expect(reply).to_contain_text("is now the communications lead")
    expect(page.get_by_test_id("incident-roles")).to_contain_text(
        "Communications lead: Carol Nguyen"
    )
    expect(page.get_by_test_id("flash")).to_have_text("")  # answered beside the card

    assert blocking_violations(page) == []
    steered = site.incident(incident["id"])
    assert (steered["severity"], steered["stage"]) == ("P2", "identified")
    assert steered["roles"]["comms"]["email"] == "carol@example.com"
