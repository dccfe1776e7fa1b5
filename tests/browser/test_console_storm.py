"""An alert storm in the console, in Chromium against a `serve` whose cap of new incidents a
minute is two: four services fail, two get incidents of their own and two land in the alert
storm incident. Its IC opens it, sees both in the Alerts card, splits one out with its Split
button and follows the link to the new incident, which has a war room of its own; the storm
incident no longer lists that alert."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.harness import LAPTOP, Pages, Site, screenshot_of, wait_for
from tests.browser.test_accessibility import blocking_violations
from tests.browser.test_console_answers import signed_in_state
from tests.support.server import ServeProcess, clean_env

pytestmark = pytest.mark.browser

CAP = 2
STORM_SERVICE = "alert storm"


@pytest.fixture(scope="module")
def storm_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """A `serve` of its own: the cap is a setting, and the shared one keeps the default."""
    data_dir = tmp_path_factory.mktemp("storm-serve")
    env = clean_env(data_dir, INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE=str(CAP))
    with ServeProcess(data_dir, env=env) as server:
        yield Site(server)


def storm_incident(site: Site, alerts: int) -> dict[str, Any]:
    """The alert storm incident, once it holds `alerts` alerts and its war room is assembled."""

    def found() -> dict[str, Any] | None:
        with site.api(site.emails()[0]) as api:
            listed = api.get("/api/incidents").json()["incidents"]
        for item in listed:
            if item["service"] == STORM_SERVICE:
                incident = site.incident(item["id"])
                if len(incident["alerts"]) == alerts and incident["assembled_at"]:
                    return incident
        return None

    return wait_for(found)


def test_the_ic_splits_an_alert_out_of_the_storm_incident(
    storm_site: Site, pages: Pages, browser: Browser
) -> None:
    site = storm_site
    # webhook deliveries, one after the other: the first two open incidents of their own
    for n, service in enumerate(("payments", "checkout")):
        group = f"ISTORMOWN{n}"
        site.fire_alert(group, title=f"Down {service}", service=service, alertname="Down")
        site.incident_for(group, assembled=False)
    for n, service in enumerate(("search", "ledger"), start=1):
        site.fire_alert(f"ISTORMOVER{n}", title=f"Down {service}", service=service, alertname="Dn")
        storm = storm_incident(site, n)
    ic = storm["ic"]["email"]
    page = pages.new(viewport=LAPTOP, storage_state=signed_in_state(site, browser, ic))
    page.goto(f"{site.base}/console/incidents/{storm['id']}")

    expect(page.get_by_role("heading", level=1)).to_contain_text(
        f"Alert storm: more than {CAP} new incidents a minute"
    )
    card = page.get_by_role("region", name="Alerts")
    alerts = card.get_by_test_id("alert")
    expect(alerts).to_have_count(2)
    expect(alerts.nth(0)).to_contain_text("Down search")
    expect(alerts.nth(1)).to_contain_text("Down ledger")
    assert blocking_violations(page) == []
    screenshot_of(card, "storm-alerts")

    card.get_by_role("button", name="Split Down search into its own incident").click()

    expect(page.get_by_test_id("reply-alerts")).to_contain_text("Split 'Down search' out into")
    expect(alerts).to_have_count(1)  # redrawn in place: the storm no longer lists it
    expect(alerts.nth(0)).to_contain_text("Down ledger")
    link = card.get_by_test_id("split-out-link")
    expect(link).to_have_text("Down search")
    room = page.get_by_test_id("messages")
    expect(room).to_contain_text("Alert storm: Down search (search, P1) was split out into")
    expect(room.get_by_role("button", name="Split out…")).to_have_count(1)  # ledger's only
    assert blocking_violations(page) == []
    screenshot_of(card, "storm-split")

    link.click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("Down search")
    new_id = page.url.rsplit("/", 1)[-1].split("#", 1)[0]
    new = site.incident(new_id)
    assert new["service"] == "search"
    assert new["previous_incident_id"] == storm["id"]
    assert new["channel"] is not None  # a war room of its own, assembled the normal way
    assert new["channel"]["id"] != storm["channel"]["id"]
    expect(page.get_by_text(f"#{new['channel']['name']}").first).to_be_visible()
    left = site.incident(storm["id"])
    assert [a["title"] for a in left["alerts"]] == ["Down ledger"]
