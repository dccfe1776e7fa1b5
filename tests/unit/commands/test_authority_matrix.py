"""Who may do what, cell by cell: every command and draft action against every standing.

The application is the one the composition root builds; the approver is added to the roster
file after start-up, so every cell also shows that approvers are read live. A refused cell must
change nothing (the incident, its audit trail beyond the command's own receipt, the room) and
its reply must say who may do it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from incident_response.commands.context import CommandContext
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.people import Person
from incident_response.services.authority import NotPermitted
from tests.unit.commands.world import ROSTER, World

NOT_IN_ROSTER, OUTSIDER, RESPONDER, IC, APPROVER = (
    "not in roster",
    "outsider",
    "responder",
    "IC",
    "approver",
)
WHO = {
    NOT_IN_ROSTER: "mallory@example.com",
    OUTSIDER: "carol@example.com",
    RESPONDER: "bob@example.com",
    IC: "alice@example.com",
    APPROVER: "dan@example.com",
}
EVERYONE_IN_ROSTER = {OUTSIDER, RESPONDER, IC, APPROVER}
WORKING = {RESPONDER, IC, APPROVER}
COMMANDING = {IC, APPROVER}
WORKING_WHO = (
    "only the incident's responders, its incident commander (alice@example.com) or an approver"
)
COMMANDING_WHO = "only the incident commander (alice@example.com) or an approver"


@dataclass(frozen=True)
class Case:
    """One row: what is asked, of which incident, and who may ask it."""

    name: str
    allowed: set[str]
    who_may: str = ""  # in every refusal to someone in the roster
    command: str = ""  # a command's text, or empty for a draft action
    draft_action: str = ""  # create | edit | approve | reject (through the StatusUpdateGate)
    resolved: bool = False  # `rate` needs a resolved incident


CASES = [
    Case("help", EVERYONE_IN_ROSTER, command="help"),
    Case("timeline", EVERYONE_IN_ROSTER, command="timeline"),
    Case("status", EVERYONE_IN_ROSTER, command="status"),
    Case("ic (who)", EVERYONE_IN_ROSTER, command="ic"),
    Case("checklist (show)", EVERYONE_IN_ROSTER, command="checklist"),
    Case("checklist done", WORKING, WORKING_WHO, command="checklist done 1"),
    Case("checklist undo", WORKING, WORKING_WHO, command="checklist undo 1"),
    Case("draft", WORKING, WORKING_WHO, command="draft"),
    Case("invite", WORKING, WORKING_WHO, command="invite erin@example.com"),
    Case("silence", WORKING, WORKING_WHO, command="silence"),
    Case("note", WORKING, WORKING_WHO, command="note checking the graphs"),
    Case("unsilence", WORKING, WORKING_WHO, command="unsilence"),
    Case("resolve", WORKING, WORKING_WHO, command="resolve"),
    Case("rate", WORKING, WORKING_WHO, command="rate 4", resolved=True),
    Case("ic @person", COMMANDING, COMMANDING_WHO, command="ic erin@example.com"),
    Case("create draft", WORKING, WORKING_WHO, draft_action="create"),
    Case("edit draft", WORKING, WORKING_WHO, draft_action="edit"),
    Case("approve draft", COMMANDING, COMMANDING_WHO, draft_action="approve"),
    Case("reject draft", COMMANDING, COMMANDING_WHO, draft_action="reject"),
    Case("insights", EVERYONE_IN_ROSTER, command="insights weeks 2"),
    Case("declare", EVERYONE_IN_ROSTER, command="declare P3 api: Something odd"),
    Case("split", COMMANDING, COMMANDING_WHO, command="split 1"),
    Case("severity (show)", EVERYONE_IN_ROSTER, command="severity"),
    Case("severity P1", WORKING, WORKING_WHO, command="severity P1"),
    Case("stage (show)", EVERYONE_IN_ROSTER, command="stage"),
    Case("stage identified", WORKING, WORKING_WHO, command="stage identified"),
    Case("role (list)", EVERYONE_IN_ROSTER, command="role"),
    Case("role comms", COMMANDING, COMMANDING_WHO, command="role comms erin@example.com"),
    Case("followup (list)", EVERYONE_IN_ROSTER, command="followup"),
    Case("followup <text>", WORKING, WORKING_WHO, command="followup add a pool alert"),
    Case(
        "followup <text> @owner",
        WORKING,
        WORKING_WHO,
        command="followup add a pool alert @erin@example.com",
    ),
    # issue 12, point 9: scheduled maintenance belongs to no incident; only approvers manage it
    Case("maintenance (list)", EVERYONE_IN_ROSTER, command="maintenance"),
    Case(
        "maintenance schedule",
        {APPROVER},
        "only an approver",
        command="maintenance schedule 2026-12-05 02:00Z 04:00Z Payments: Database upgrade",
    ),
    Case(
        "maintenance approve",
        {APPROVER},
        "only an approver",
        command="maintenance approve {maintenance} 1",
    ),
]
CELLS = [(case, standing) for case in CASES for standing in WHO]


async def make_dan_an_approver(world: World) -> None:
    """Edit the roster file while the application runs, as an operator would."""
    path = world.data_dir / "roster.yaml"
    path.write_text(ROSTER + "approvers: [dan@example.com]\n", encoding="utf-8")
    assert await world.directory.approvers() == frozenset({"dan@example.com"})


async def snapshot(world: World) -> tuple[Any, ...]:
    """What a refused action must leave as it was: the incident, its audit trail beyond the
    command's own receipt, the room, and anything queued (drained first, so a refused `resolve`
    that queued its resolution would show here)."""
    await world.drain()
    incident = await world.incident()
    records = [
        (r.type, r.key)
        for r in await world.audit.records(incident.id)
        if r.type is not AuditEventType.SLASH_COMMAND_RECEIVED
    ]
    maintenance = world.container.maintenance
    assert maintenance is not None
    scheduled = [m.model_dump() for m in await maintenance.recent(actor="dan@example.com")]
    public = await world.status_page.maintenances()
    return incident.model_dump(), records, await world.room_texts(), scheduled, public


async def act(
    world: World, case: Case, email: str, draft_id: str, maintenance_id: str = ""
) -> tuple[bool, str]:
    """(allowed, what the person was told)."""
    if case.command:
        person = await world.directory.person(email) or Person(email=email, name="Mallory")
        reply = await world.registry.handle(
            case.command.replace("{maintenance}", maintenance_id),
            CommandContext(actor=person, surface="api", incident_id="inc-0001"),
        )
        return not reply.data.get("not_permitted"), reply.text
    calls: dict[str, Callable[[], Awaitable[object]]] = {
        "create": lambda: world.gate.create_draft("inc-0001", actor=email),
        "edit": lambda: world.gate.edit(
            "inc-0001", draft_id, body="We are rolling back.", actor=email, expected_version=1
        ),
        "approve": lambda: world.gate.approve_and_publish(
            "inc-0001", draft_id, version=1, actor=email
        ),
        "reject": lambda: world.gate.reject("inc-0001", draft_id, actor=email, reason="no"),
    }
    try:
        await calls[case.draft_action]()
    except NotPermitted as exc:
        return False, str(exc)
    return True, ""


@pytest.mark.parametrize(
    ("case", "standing"), CELLS, ids=[f"{c.name}-{s}".replace(" ", "_") for c, s in CELLS]
)
async def test_who_may_do_what(world: World, case: Case, standing: str) -> None:
    incident = await world.open_incident()
    await make_dan_an_approver(world)
    await world.nudges.silence(incident.id, actor="alice@example.com")  # so unsilence does work
    await world.registry.handle("checklist done 1", await world.context())  # so undo does work
    draft = await world.gate.create_draft(incident.id, actor="alice@example.com")
    assert world.container.maintenance is not None
    maintenance = await world.container.maintenance.schedule(
        actor="dan@example.com",
        title="Search reindex",
        body="Search may return stale results.",
        scheduled_for="2026-12-06T02:00:00Z",
        scheduled_until="2026-12-06T03:00:00Z",
        components=["Search"],
    )
    if case.resolved:
        current = await world.incident()
        await world.store.save(current.transition(IncidentStatus.RESOLVED, at=world.clock.now()))
    before = await snapshot(world)

    allowed, told = await act(world, case, WHO[standing], draft.id, maintenance.id)

    assert allowed == (standing in case.allowed), told
    if allowed:
        return
    assert await snapshot(world) == before
    if standing == NOT_IN_ROSTER:
        assert "mallory@example.com is not in the roster" in told
    else:
        assert f"{WHO[standing]} may not" in told
        assert case.who_may in told


async def test_an_outsider_asking_for_the_status_reads_it_but_drafts_nothing(
    world: World,
) -> None:
    await world.open_incident()

    reply = await world.command("status", actor="carol@example.com")

    assert reply.ok
    assert "Checkout error rate above 5%" in reply.text
    assert (
        "No status update draft: carol@example.com may not draft or edit a status update: "
        + WORKING_WHO
    ) in reply.text
    assert reply.data["draft"] is None
    assert (await world.incident()).drafts == ()


# -- issue 12, point 9: the status page's subscribers and scheduled maintenance -----------------
# Not an incident's business: only an approver may, whatever their standing on open incidents.
PAGE_MANAGERS = {APPROVER}
PAGE_WHO = "only an approver"


@pytest.mark.parametrize("standing", list(WHO))
async def test_who_may_manage_the_status_pages_subscribers(world: World, standing: str) -> None:
    await world.open_incident()  # alice is its IC, bob a responder: neither counts here
    await make_dan_an_approver(world)
    subscriptions = world.container.subscriptions
    assert subscriptions is not None
    try:
        await subscriptions.subscribers(actor=WHO[standing])
        allowed, told = True, ""
    except NotPermitted as exc:
        allowed, told = False, str(exc)
    assert allowed == (standing in PAGE_MANAGERS), told
    if not allowed and standing != NOT_IN_ROSTER:
        assert f"{WHO[standing]} may not manage the status page's subscribers" in told
        assert PAGE_WHO in told
