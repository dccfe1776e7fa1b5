"""Steering from the console and the API: the severity, stage and role controls post the same
commands as Slack, the page shows the stage and the roles, and the API's incident has them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.context import PublicStatus
from incident_response.domain.incident import Incident, IncidentRole
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


def page_of(incident: Incident) -> str:
    return f"/console/incidents/{incident.id}"


async def current(world: ConsoleWorld, incident: Incident) -> Incident:
    found = await world.container.store.get(incident.id)
    assert found is not None
    return found


async def test_the_ic_steers_severity_stage_and_roles_from_the_incident_page(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    page = await browser.get(page_of(incident))
    assert 'data-testid="steer-severity"' in page.text
    assert "Stage: Investigating" in page.text

    lowered = await browser.submit(
        page_of(incident), f"{page_of(incident)}/steer", {"severity": "P2"}, fetch=True
    )
    moved = await browser.submit(
        page_of(incident), f"{page_of(incident)}/steer", {"stage": "identified"}, fetch=True
    )
    named = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/steer",
        {"role": "comms", "person": "carol@example.com"},
        fetch=True,
    )

    for answer in (lowered, moved, named):
        assert answer.json()["ok"] is True, answer.json()
    saved = await current(world, incident)
    assert saved.severity is Severity.P2
    assert saved.stage is PublicStatus.IDENTIFIED
    assert saved.roles == {IncidentRole.COMMS: "carol@example.com"}
    page = await browser.get(page_of(incident))
    assert "Stage: Identified" in page.text
    assert "Communications lead: Carol Nguyen" in page.text
    commands = await world.container.audit.find(incident.id, AuditEventType.SLASH_COMMAND_RECEIVED)
    assert [(c.data["command"], c.data["surface"]) for c in commands[-3:]] == [
        ("severity", "console"),
        ("stage", "console"),
        ("role", "console"),
    ]
    assert incident.channel is not None
    room = await world.container.console_chat.channel(incident.channel.id)
    assert room is not None
    assert room.topic.endswith("status: identified · comms: Carol Nguyen")


async def test_a_bad_value_from_a_control_is_refused_and_changes_nothing(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    before = await current(world, incident)

    answers = [
        await browser.submit(page_of(incident), f"{page_of(incident)}/steer", data, fetch=True)
        for data in (
            {"severity": "P9"},
            {"stage": "resolved"},
            {"stage": "identified\nresolve"},
            {"role": "comms", "person": "mallory@example.com"},
        )
    ]
    nothing = await browser.submit(page_of(incident), f"{page_of(incident)}/steer", {})

    assert [a.json()["ok"] for a in answers] == [False, False, False, False]
    assert nothing.status_code == 400
    assert (await current(world, incident)).model_dump() == before.model_dump()


async def test_an_outsider_is_offered_no_steering_and_posting_anyway_changes_nothing(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    outsider = "dan@example.com"
    assert outsider not in {r.email for r in incident.responders}
    browser = await world.signed_in(outsider)
    page = await browser.get(page_of(incident))
    assert 'id="steer"' not in page.text
    before = await current(world, incident)

    answer = await browser.submit(
        page_of(incident), f"{page_of(incident)}/steer", {"severity": "P3"}, fetch=True
    )

    assert answer.json()["ok"] is False
    assert f"{outsider} may not change the severity" in answer.json()["text"]
    assert (await current(world, incident)).model_dump() == before.model_dump()


async def test_the_api_steers_by_command_and_shows_severity_stage_and_roles(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = incident.ic or ""
    client = world.browser().client
    auth = {"Authorization": f"Bearer {world.token(ic)}"}
    for text in ("severity P2", "stage monitoring", "role scribe carol@example.com"):
        answer = await client.post(
            f"/api/incidents/{incident.id}/commands", json={"text": text}, headers=auth
        )
        assert answer.status_code == 200, answer.text

    doc = (await client.get(f"/api/incidents/{incident.id}", headers=auth)).json()

    assert doc["severity"] == "P2"
    assert doc["stage"] == "monitoring"
    assert doc["roles"] == {
        "scribe": {"email": "carol@example.com", "name": "Carol Nguyen", "chat_id": ""}
    }
    assert "carol@example.com" in [r["email"] for r in doc["responders"]]


async def test_the_approval_screen_leads_back_to_choosing_stage_and_impact(
    world: ConsoleWorld,
) -> None:
    """A new draft starts at the incident's stage; the confirm page shows it and links to the
    draft's form, where the IC picks another stage and impact as a new version."""
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    await browser.submit(
        page_of(incident), f"{page_of(incident)}/steer", {"stage": "identified"}, fetch=True
    )
    await browser.submit(page_of(incident), f"{page_of(incident)}/drafts", {}, fetch=True)
    [draft] = (await current(world, incident)).drafts
    assert draft.stage is PublicStatus.IDENTIFIED

    confirm = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft.id}/approve",
        {"version": str(draft.version)},
    )

    assert 'data-testid="confirm-stage">Identified<' in confirm.text
    assert f'href="{page_of(incident)}#draft-{draft.id}"' in confirm.text
    page = await browser.get(page_of(incident))
    assert f'id="edit-{draft.id}-stage"' in page.text
    assert f'id="edit-{draft.id}-impact"' in page.text
