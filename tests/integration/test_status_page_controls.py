"""Status page controls (issue 12, point 9): the page's name, logo and home link from settings,
and the status the IC chooses for each component an update names: part of what is approved,
shown on the built-in page, picked on the console's confirmation page."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.config import Settings
from incident_response.domain.context import ComponentStatus
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import (
    PublicComponent,
    StatusDraft,
    content_hash,
    draft_hash,
)
from incident_response.services.status_update_gate import InvalidDraft, StaleDraftVersion
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world, csrf_of

TEXT = "Checkout and payments: we are investigating errors."


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(
        tmp_path,
        clock,
        components="checkout=Checkout",
        incident_response_status_page_name="Acme Cloud Status",
        incident_response_status_page_logo_url="https://cdn.acme.test/logo.svg?v=1&x=<b>",
        incident_response_status_page_home_url="https://www.acme.test/",
    ) as world:
        yield world


async def two_component_draft(world: ConsoleWorld, incident: Incident) -> StatusDraft:
    gate, ic = world.container.gate, incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=ic)
    return await gate.edit(
        incident.id,
        draft.id,
        body=TEXT,
        components=["Checkout", "Payments"],
        actor=ic,
        expected_version=draft.version,
    )


# -- the page's name, logo and home link ---------------------------------------------------------


async def test_the_page_shows_its_configured_name_logo_and_home_link(world: ConsoleWorld) -> None:
    public = world.browser()
    page = await public.get("/status")
    assert "<title>Acme Cloud Status</title>" in page.text
    assert '<a class="brand" href="/status">Acme Cloud Status</a>' in page.text
    # escaped in the attribute, linked to the company's site
    assert 'src="https://cdn.acme.test/logo.svg?v=1&amp;x=&lt;b&gt;"' in page.text
    assert 'href="https://www.acme.test/"' in page.text
    # the logo's origin (only) may serve images
    policy = page.headers["content-security-policy"]
    assert "img-src 'self' https://cdn.acme.test data:;" in policy
    for path in ("/status/api/v2/summary.json", "/status/api/v2/incidents.json"):
        doc = (await public.get(path)).json()
        assert doc["page"]["name"] == "Acme Cloud Status"
        assert doc["page"]["url"] == "http://console.test/status"
    feed = await public.get("/status/history.atom")
    assert "Acme Cloud Status: incident history" in feed.text


@pytest.mark.parametrize(
    "setting",
    ["incident_response_status_page_logo_url", "incident_response_status_page_home_url"],
)
@pytest.mark.parametrize("url", ["javascript:alert(1)", "ftp://files.acme.test/logo", "logo.svg"])
def test_logo_and_home_must_be_http_urls(setting: str, url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        Settings.model_validate({setting: url})


def test_the_page_name_is_one_line() -> None:
    with pytest.raises(ValueError, match="one non-empty line"):
        Settings.model_validate({"incident_response_status_page_name": "Acme\nStatus"})


# -- component statuses ------------------------------------------------------------------------


async def test_a_component_status_is_approved_content(world: ConsoleWorld) -> None:
    incident = await world.alert()
    gate, ic = world.container.gate, incident.ic or ""
    draft = await two_component_draft(world, incident)

    chosen = await gate.edit(
        incident.id,
        draft.id,
        component_statuses={"payments": "degraded_performance"},
        actor=ic,
        expected_version=draft.version,
    )
    assert chosen.version == draft.version + 1
    assert chosen.content_hash != draft.content_hash
    assert chosen.components == (
        PublicComponent(name="Checkout"),
        PublicComponent(name="Payments", status=ComponentStatus.DEGRADED_PERFORMANCE),
    )
    # the version the IC read before the status changed can no longer be approved
    with pytest.raises(StaleDraftVersion):
        await gate.approve_and_publish(incident.id, draft.id, version=draft.version, actor=ic)
    with pytest.raises(InvalidDraft, match="unknown status 'on fire'"):
        await gate.edit(
            incident.id,
            draft.id,
            component_statuses={"Checkout": "on fire"},
            actor=ic,
            expected_version=chosen.version,
        )
    with pytest.raises(InvalidDraft, match="not among this update's components"):
        await gate.edit(
            incident.id,
            draft.id,
            component_statuses={"Search": "major_outage"},
            actor=ic,
            expected_version=chosen.version,
        )
    await gate.approve_and_publish(incident.id, draft.id, version=chosen.version, actor=ic)
    summary = await world.container.status_page.summary()
    shown = {c["name"]: c["status"] for c in summary["components"]}
    # Checkout follows the incident's impact (a P1: major outage); Payments as chosen
    assert shown == {"Checkout": "major_outage", "Payments": "degraded_performance"}
    page = (await world.browser().get("/status")).text
    assert re.search(r"Payments</span>\s*<span class=\"component-status\">Degraded", page)
    records = await world.container.audit.records(incident.id)
    approval = next(r for r in records if r.type.value == "STATUSPAGE_DRAFT_APPROVED")
    assert approval.data["component_statuses"] == {"Payments": "degraded_performance"}


def test_drafts_stored_before_component_statuses_keep_their_hash(clock: ManualClock) -> None:
    draft = StatusDraft(
        id="d1",
        body=TEXT,
        title="Partial outage: Checkout",
        components=(PublicComponent(name="Checkout"),),
        content_hash="",
        created_by="ic@example.com",
        created_at=clock.now(),
        updated_at=clock.now(),
    )
    # the content a draft of the previous release was sealed with (components held only a name)
    before = {
        "body": TEXT,
        "title": "Partial outage: Checkout",
        "stage": "investigating",
        "impact": "none",
        "components": [{"name": "Checkout"}],
    }
    assert draft_hash(draft) == content_hash(before)
    chosen = draft.model_copy(
        update={"components": (PublicComponent(name="Checkout", status="major_outage"),)}
    )
    assert draft_hash(chosen) != content_hash(before)


async def test_the_ic_picks_each_components_status_on_the_confirmation_page(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    draft = await two_component_draft(world, incident)
    ic = await world.signed_in(incident.ic or "")
    path = f"/console/incidents/{incident.id}"
    action = f"{path}/drafts/{draft.id}/approve"

    confirm = await ic.submit(path, action, {"version": str(draft.version)})
    assert confirm.status_code == 200
    assert 'name="component_status:Checkout"' in confirm.text
    assert 'name="component_status:Payments"' in confirm.text
    assert '<option value="major_outage" selected>Major outage</option>' in confirm.text

    published = await ic.client.post(
        action,
        data={
            "csrf": csrf_of(confirm.text),
            "version": str(draft.version),
            "confirmed": "yes",
            "component_status:Checkout": "partial_outage",
            "component_status:Payments": "degraded_performance",
        },
    )
    assert published.status_code == 303
    summary = await world.container.status_page.summary()
    assert {c["name"]: c["status"] for c in summary["components"]} == {
        "Checkout": "partial_outage",
        "Payments": "degraded_performance",
    }
    stored = await world.container.store.get(incident.id)
    assert stored is not None
    [done] = stored.drafts
    assert (done.version, done.status.value) == (draft.version + 1, "published")


async def test_a_status_picked_on_a_draft_that_changed_meanwhile_publishes_nothing(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    draft = await two_component_draft(world, incident)
    ic = await world.signed_in(incident.ic or "")
    path = f"/console/incidents/{incident.id}"
    confirm = await ic.submit(path, f"{path}/drafts/{draft.id}/approve", {"version": "2"})
    await world.container.gate.edit(
        incident.id, draft.id, body="Changed.", actor=incident.ic or "", expected_version=2
    )
    answer = await ic.client.post(
        f"{path}/drafts/{draft.id}/approve",
        data={
            "csrf": csrf_of(confirm.text),
            "version": "2",
            "confirmed": "yes",
            "component_status:Checkout": "operational",
        },
        headers={"X-Console-Fetch": "1"},
    )
    assert answer.json()["ok"] is False
    assert (await world.container.status_page.summary())["incidents"] == []


async def test_a_resolution_puts_every_component_back_to_operational(world: ConsoleWorld) -> None:
    incident = await world.alert()
    gate, ic = world.container.gate, incident.ic or ""
    draft = await two_component_draft(world, incident)
    await gate.approve_and_publish(incident.id, draft.id, version=draft.version, actor=ic)
    done = await gate.create_draft(incident.id, actor=ic)
    done = await gate.edit(
        incident.id,
        done.id,
        body="Resolved.",
        stage="resolved",
        components=["Checkout", "Payments"],
        component_statuses={"Checkout": "major_outage"},
        actor=ic,
        expected_version=done.version,
    )
    try:
        await gate.approve_and_publish(incident.id, done.id, version=done.version, actor=ic)
    except IncidentResponseError as exc:  # pragma: no cover - a failure says why
        raise AssertionError(str(exc)) from exc
    summary = await world.container.status_page.summary()
    assert {c["status"] for c in summary["components"]} == {"operational"}
