"""Over HTTP (API and console) on a real Container: one current draft, and everything public
(name, stage, impact, components) approved with the text and shown before approving."""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from incident_response.domain.incident import Incident
from tests.support.clock import ManualClock
from tests.support.console import Browser, ConsoleWorld, console_world, csrf_of


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(
        tmp_path, clock, components="checkout=Checkout,payments-api=Payments"
    ) as world:
        yield world


def page_of(incident: Incident) -> str:
    return f"/console/incidents/{incident.id}"


def api_of(incident: Incident) -> str:
    return f"/api/incidents/{incident.id}"


def bearer(world: ConsoleWorld, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(email)}"}


async def api_drafts(world: ConsoleWorld, incident: Incident) -> list[dict[str, Any]]:
    client = world.browser().client
    got = await client.get(api_of(incident), headers=bearer(world, incident.ic or ""))
    assert got.status_code == 200, got.text
    drafts: list[dict[str, Any]] = got.json()["drafts"]
    return drafts


async def two_drafts_newer_published(
    world: ConsoleWorld, incident: Incident
) -> tuple[dict[str, Any], dict[str, Any]]:
    """An older draft and a newer one (the older was edited, so it is not reused); the newer is
    approved and published through the API."""
    ic = incident.ic or ""
    client = world.browser().client
    older = (await client.post(f"{api_of(incident)}/drafts", headers=bearer(world, ic))).json()
    edited = await client.post(
        f"{api_of(incident)}/drafts/{older['id']}/edit",
        json={"body": "We are looking into checkout errors.", "version": 1},
        headers=bearer(world, ic),
    )
    assert edited.status_code == 200, edited.text
    newer = (await client.post(f"{api_of(incident)}/drafts", headers=bearer(world, ic))).json()
    assert newer["id"] != older["id"]
    approved = await client.post(
        f"{api_of(incident)}/drafts/{newer['id']}/approve",
        json={"version": 1},
        headers=bearer(world, ic),
    )
    assert approved.status_code == 200, approved.text
    return edited.json(), newer


# -- the API ---------------------------------------------------------------------------------


async def test_api_an_unchanged_waiting_draft_is_returned_again(world: ConsoleWorld) -> None:
    incident = await world.alert()
    client, auth = world.browser().client, bearer(world, incident.ic or "")
    first = (await client.post(f"{api_of(incident)}/drafts", headers=auth)).json()
    again = (await client.post(f"{api_of(incident)}/drafts", headers=auth)).json()
    assert again["id"] == first["id"]
    assert len(await api_drafts(world, incident)) == 1


async def test_api_approving_a_draft_older_than_a_published_one_is_a_409_naming_it(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    older, newer = await two_drafts_newer_published(world, incident)
    refused = await world.browser().client.post(
        f"{api_of(incident)}/drafts/{older['id']}/approve",
        json={"version": older["version"]},
        headers=bearer(world, incident.ic or ""),
    )
    assert refused.status_code == 409
    assert f"superseded by draft {newer['id']}" in refused.json()["error"]
    shown = {d["id"]: d for d in await api_drafts(world, incident)}
    assert shown[older["id"]]["status"] == "superseded"
    assert shown[older["id"]]["superseded_by"] == newer["id"]
    page = await world.container.status_page.incidents()
    assert [u["body"] for u in page["incidents"][0]["incident_updates"]] == [newer["body"]]


async def test_api_edits_the_public_fields_and_refuses_bad_ones_with_422(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert(service="payments-api")
    client, auth = world.browser().client, bearer(world, incident.ic or "")
    draft = (await client.post(f"{api_of(incident)}/drafts", headers=auth)).json()
    assert [c["name"] for c in draft["components"]] == ["Payments"]
    assert draft["title"].endswith(": Payments")

    bad = await client.post(
        f"{api_of(incident)}/drafts/{draft['id']}/edit",
        json={"body": draft["body"], "version": 1, "stage": "fixed", "title": ""},
        headers=auth,
    )
    assert bad.status_code == 422
    assert "unknown stage 'fixed'" in bad.json()["error"]
    assert "the public incident name is empty" in bad.json()["error"]
    [unchanged] = await api_drafts(world, incident)
    assert unchanged["version"] == 1

    edited = await client.post(
        f"{api_of(incident)}/drafts/{draft['id']}/edit",
        json={
            "body": draft["body"],
            "version": 1,
            "title": "Payments are slow",
            "stage": "identified",
            "impact": "minor",
            "components": ["Payments", "Checkout"],
        },
        headers=auth,
    )
    assert edited.status_code == 200, edited.text
    [shown] = await api_drafts(world, incident)
    assert (shown["version"], shown["title"], shown["stage"], shown["impact"]) == (
        2,
        "Payments are slow",
        "identified",
        "minor",
    )
    assert shown["components"] == ["Payments", "Checkout"]


# -- the console -----------------------------------------------------------------------------


async def console_draft(world: ConsoleWorld, browser: Browser, incident: Incident) -> str:
    created = await browser.submit(page_of(incident), f"{page_of(incident)}/drafts", {}, fetch=True)
    assert created.json()["ok"] is True, created.text
    found = await world.container.store.get(incident.id)
    assert found is not None
    return found.drafts[-1].id


async def test_console_confirmation_shows_every_public_field_as_it_will_appear(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    draft_id = await console_draft(world, ic, incident)
    edited = await ic.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft_id}/edit",
        {
            "body": "Checkout is failing for some customers.",
            "version": "1",
            "title": "Checkout errors & timeouts",
            "stage": "identified",
            "impact": "critical",
            "components": "Checkout, Payments",
        },
        fetch=True,
    )
    assert edited.json()["ok"] is True, edited.text

    confirm = await ic.submit(
        page_of(incident), f"{page_of(incident)}/drafts/{draft_id}/approve", {"version": "2"}
    )
    assert confirm.status_code == 200
    text = confirm.text
    assert f'data-testid="confirm-name">{html.escape("Checkout errors & timeouts")}<' in text
    assert 'data-testid="confirm-stage">Identified<' in text
    assert 'data-testid="confirm-impact">Critical impact<' in text
    assert (
        'data-testid="confirm-components">Checkout (Major outage), Payments (Major outage)<' in text
    )

    published = await ic.client.post(
        f"{page_of(incident)}/drafts/{draft_id}/approve",
        data={"csrf": csrf_of(text), "version": "2", "confirmed": "yes"},
    )
    assert published.status_code == 303
    status = (await world.browser().get("/status")).text
    assert html.escape("Checkout errors & timeouts") in status
    assert "Critical impact" in status
    assert "Affects Checkout, Payments" in status


async def test_console_no_longer_offers_a_superseded_draft(world: ConsoleWorld) -> None:
    incident = await world.alert()
    older, newer = await two_drafts_newer_published(world, incident)
    ic = await world.signed_in(incident.ic or "")
    page = (await ic.get(page_of(incident))).text
    start = page.index(f'id="draft-{older["id"]}"')
    card = page[start : page.index("</article>", start)]
    assert f'Superseded by update <a href="#draft-{newer["id"]}">{newer["id"]}</a>' in card
    assert 'data-testid="approve-button"' not in card
    assert "/edit" not in card

    forced = await ic.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{older['id']}/approve",
        {"version": str(older["version"])},
        fetch=True,
    )
    assert forced.json()["ok"] is False
    assert f"superseded by update {newer['id']}" in forced.json()["text"]
