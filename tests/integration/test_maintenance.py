"""Scheduled maintenance through the approval gate, end to end over the API: an approver
schedules it, nothing is public until an approver approves that exact version, then the
built-in page shows it upcoming, in progress and completed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from incident_response.domain.clock import isoformat
from incident_response.domain.status_update import DraftKind, StatusDraft
from incident_response.services.status_update_gate import PublishNotPermitted, StatusUpdateGate
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

APPROVER = "dan@example.com"
PATH = "/api/status/maintenances"
TEXT = "We are upgrading the payments database. Checkout may be slow for a few minutes."


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock, approvers=APPROVER) as world:
        yield world


def bearer(world: ConsoleWorld, email: str = APPROVER) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(email)}"}


def window(world: ConsoleWorld, **changes: Any) -> dict[str, Any]:
    start = world.clock.now() + timedelta(days=2)
    return {
        "title": "Payments database upgrade",
        "body": TEXT,
        "scheduled_for": isoformat(start),
        "scheduled_until": isoformat(start + timedelta(hours=2)),
        "components": ["Payments", "Checkout"],
        **changes,
    }


async def post(world: ConsoleWorld, path: str, doc: dict[str, Any], email: str = APPROVER) -> Any:
    return await world.browser().client.post(path, json=doc, headers=bearer(world, email))


async def shown(world: ConsoleWorld) -> str:
    return (await world.browser().get("/status")).text


async def test_a_maintenance_is_public_only_once_an_approver_approved_that_version(
    world: ConsoleWorld,
) -> None:
    made = await post(world, PATH, window(world))
    assert made.status_code == 201, made.text
    maintenance = made.json()
    [draft] = maintenance["drafts"]
    assert draft["kind"] == "maintenance"
    assert TEXT not in await shown(world)
    summary = await world.browser().get("/status/api/v2/summary.json")
    assert summary.json()["scheduled_maintenances"] == []

    edited = await post(
        world,
        f"{PATH}/{maintenance['id']}/drafts/{draft['id']}/edit",
        {**window(world, title="Payments database upgrade (v15)"), "version": 1},
    )
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2
    approve = f"{PATH}/{maintenance['id']}/drafts/{draft['id']}/approve"
    stale = await post(world, approve, {"version": 1})
    assert stale.status_code == 409
    incident = await world.alert()  # an incident's IC is no approver of the page
    refused = await post(world, approve, {"version": 2}, email=incident.ic or "")
    assert refused.status_code == 403
    assert TEXT not in await shown(world)

    done = await post(world, approve, {"version": 2})
    assert done.status_code == 200, done.text
    assert done.json()["drafts"][0]["status"] == "published"
    [listed] = (await world.browser().get("/status/api/v2/summary.json")).json()[
        "scheduled_maintenances"
    ]
    assert (listed["name"], listed["status"], listed["impact"]) == (
        "Payments database upgrade (v15)",
        "scheduled",
        "maintenance",
    )
    assert [c["name"] for c in listed["components"]] == ["Payments", "Checkout"]
    page = await shown(world)
    assert TEXT in page
    assert 'data-testid="maintenance-phase">Upcoming<' in page
    assert (await post(world, approve, {"version": 2})).status_code == 200  # once only
    assert len(await world.container.status_page.maintenances()) == 1

    world.clock.advance(days=2, minutes=30)
    assert 'data-testid="maintenance-phase">In progress<' in await shown(world)
    world.clock.advance(hours=2)
    assert 'data-testid="maintenance-phase">Completed<' in await shown(world)
    summary = await world.browser().get("/status/api/v2/summary.json")
    assert summary.json()["scheduled_maintenances"] == []


@pytest.mark.parametrize(
    ("changes", "says"),
    [
        ({"scheduled_until": "2020-01-01T00:00:00Z"}, "end after it starts"),
        ({"scheduled_for": "tomorrow"}, "not an ISO 8601 time"),
        ({"scheduled_for": "2026-12-05T02:00:00"}, "with a zone"),
        ({"components": []}, "at least one status-page component"),
        ({"title": ""}, "name is empty"),
    ],
)
async def test_an_invalid_maintenance_is_refused_and_nothing_is_stored(
    world: ConsoleWorld, changes: dict[str, Any], says: str
) -> None:
    refused = await post(world, PATH, window(world, **changes))
    assert refused.status_code == 422
    assert says in refused.text
    listing = await world.browser().client.get(PATH, headers=bearer(world))
    assert listing.json()["maintenances"] == []


async def test_the_gate_publishes_no_maintenance_without_an_approval_binding_it(
    world: ConsoleWorld,
) -> None:
    made = (await post(world, PATH, window(world))).json()
    draft = StatusDraft.model_validate(made["drafts"][0])
    assert draft.kind is DraftKind.MAINTENANCE
    gate = world.container.gate
    with pytest.raises(PublishNotPermitted):
        await gate.publish_maintenance(made["id"], draft)  # never approved

    approve = f"{PATH}/{made['id']}/drafts/{draft.id}/approve"
    assert (await post(world, approve, {"version": 1})).status_code == 200
    # the approved version with other content (a later window) is not what was approved
    moved = draft.model_copy(
        update={"scheduled_until": draft.scheduled_until + timedelta(hours=5)}  # type: ignore[operator]
    )
    with pytest.raises(PublishNotPermitted):
        await gate.publish_maintenance(made["id"], moved)
    assert len(await world.container.status_page.maintenances()) == 1


async def test_an_approver_schedules_and_approves_maintenance_in_the_console(
    world: ConsoleWorld,
) -> None:
    outsider = await world.signed_in("carol@example.com")
    looked = await outsider.get("/console/maintenance")
    assert looked.status_code == 200
    assert 'data-testid="schedule-maintenance"' not in looked.text

    approver = await world.signed_in(APPROVER)
    start = world.clock.now() + timedelta(days=1)
    made = await approver.submit(
        "/console/maintenance",
        "/console/maintenance",
        {
            "title": "Search index rebuild",
            "scheduled_for": start.strftime("%Y-%m-%dT%H:%M"),
            "scheduled_until": (start + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "components": "Search",
            "body": "Search results may be incomplete for an hour.",
        },
    )
    assert made.status_code == 303
    page = (await approver.get("/console/maintenance")).text
    assert "is drafted. Nothing is public" in page
    assert "Search results may be incomplete for an hour." in page
    assert "Search results may be incomplete" not in await shown(world)
    [maintenance] = await world.container.maintenance.recent(actor=APPROVER)  # type: ignore[union-attr]
    draft = maintenance.drafts[0]
    action = f"/console/maintenance/{maintenance.id}/drafts/{draft.id}/approve"

    refused = await outsider.submit("/console/maintenance", action, {"version": "1"})
    assert refused.status_code == 303
    assert "Not published" in (await outsider.get("/console/maintenance")).text
    assert "Search results may be incomplete" not in await shown(world)

    done = await approver.submit("/console/maintenance", action, {"version": "1"})
    assert done.status_code == 303
    assert "is on the status page" in (await approver.get("/console/maintenance")).text
    public = await shown(world)
    assert "Search results may be incomplete for an hour." in public
    assert 'data-testid="maintenance-phase">Upcoming<' in public


async def approved_maintenance(world: ConsoleWorld) -> tuple[str, StatusDraft]:
    made = (await post(world, PATH, window(world))).json()
    draft_id = made["drafts"][0]["id"]
    done = await post(world, f"{PATH}/{made['id']}/drafts/{draft_id}/approve", {"version": 1})
    assert done.status_code == 200, done.text
    return made["id"], StatusDraft.model_validate(done.json()["drafts"][0])


async def test_publishing_an_approved_maintenance_again_finds_it_on_the_page(
    world: ConsoleWorld,
) -> None:
    """A retry after a crash (the page took it, the draft was not marked) publishes nothing new;
    a gate with no listener (no webhook subscribers wired) publishes the same way."""
    maintenance_id, draft = await approved_maintenance(world)
    c = world.container
    quiet_gate = StatusUpdateGate(
        store=c.store,
        audit=c.audit,
        status_page=c.status_page,
        llm=c.llm,
        clock=c.clock,
        authority=c.authority,
    )

    again = await quiet_gate.publish_maintenance(maintenance_id, draft)

    [only] = await c.status_page.maintenances()
    assert again.status_page_incident_id == only["id"]


async def test_a_status_page_that_fails_leaves_the_approval_standing_and_a_retry_publishes_once(
    world: ConsoleWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = (await post(world, PATH, window(world))).json()
    approve = f"{PATH}/{made['id']}/drafts/{made['drafts'][0]['id']}/approve"

    async def down(*_: Any, **__: Any) -> Any:
        raise RuntimeError("connection refused")

    with monkeypatch.context() as patch:
        patch.setattr(world.container.status_page, "publish", down)
        failed = await post(world, approve, {"version": 1})
    assert failed.status_code >= 500
    assert "did not take maintenance" in failed.text
    assert "approving again publishes it" in failed.text
    assert TEXT not in await shown(world)

    retried = await post(world, approve, {"version": 1})
    assert retried.status_code == 200, retried.text
    assert len(await world.container.status_page.maintenances()) == 1
    assert TEXT in await shown(world)


async def test_the_maintenance_command_works_in_the_console_box_and_over_the_api(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()  # any incident's command box runs it; its IC is no approver
    page = f"/console/incidents/{incident.id}"
    approver = await world.signed_in(APPROVER)
    start = world.clock.now() + timedelta(days=3)
    when = f"{start:%Y-%m-%d %H:%M}Z {start + timedelta(hours=1):%H:%M}Z"

    typed = await approver.submit(
        page,
        f"{page}/commands",
        {"text": f"maintenance schedule {when} Search: Search index rebuild | {TEXT}"},
        fetch=True,
    )

    assert typed.json()["ok"] is True, typed.json()
    desk = world.container.maintenance
    assert desk is not None
    [maintenance] = await desk.recent(actor=APPROVER)
    assert f"`maintenance approve {maintenance.id} 1`" in typed.json()["text"]
    commands = f"/api/incidents/{incident.id}/commands"
    refused = await post(
        world,
        commands,
        {"text": f"maintenance approve {maintenance.id} 1"},
        email=incident.ic or "",
    )
    assert refused.status_code == 403
    assert "only an approver" in refused.json()["error"]["text"]
    assert TEXT not in await shown(world)

    done = await post(world, commands, {"text": f"maintenance approve {maintenance.id} 1"})

    assert done.status_code == 200, done.text
    assert done.json()["data"]["maintenance"]["status"] == "published"
    public = await shown(world)
    assert "Search index rebuild" in public
    assert TEXT in public
