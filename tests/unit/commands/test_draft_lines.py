"""The room's line for each thing that happens to a status draft (issue 12, point 5), and the
checklist's automatic tick on the first published update: through the StatusUpdateGate as the
composition root wires it, on the console chat."""

from __future__ import annotations

from typing import Any

from incident_response.domain.audit import AuditEventType
from incident_response.domain.status_update import DraftStatus
from incident_response.services.status_update_gate import StatusUpdateGate
from tests.unit.commands.test_checklist_board import pin_checklist, pinned_text
from tests.unit.commands.world import BASE_URL, World

A = AuditEventType
INCIDENT = "inc-0001"


async def room_lines(world: World) -> list[str]:
    incident = await world.incident()
    assert incident.channel is not None
    return [m.text for m in await world.chat.messages(incident.channel.id) if not m.buttons]


async def test_a_new_draft_gets_a_line_naming_who_and_linking_its_approval_screen(
    world: World,
) -> None:
    await world.open_incident()

    reply = await world.command("draft", actor="bob@example.com")

    assert reply.ok
    [draft] = (await world.incident()).drafts
    link = f"{BASE_URL}/console/incidents/{INCIDENT}#draft-{draft.id}"
    assert await room_lines(world) == [
        f"Bob Okafor drafted status update {draft.id} (version 1) for Alice Martin to approve: "
        f"{link}"
    ]


async def test_edit_reject_and_publish_each_get_one_line(world: World) -> None:
    await world.open_incident()
    first = await world.gate.create_draft(INCIDENT, actor="alice@example.com")
    await world.gate.edit(
        INCIDENT,
        first.id,
        actor="bob@example.com",
        expected_version=1,
        body="We are investigating failed checkouts. Next update in 30 minutes.",
    )
    await world.gate.reject(INCIDENT, first.id, actor="alice@example.com", reason="Too vague")
    second = await world.gate.create_draft(INCIDENT, actor="alice@example.com")
    await world.gate.approve_and_publish(INCIDENT, second.id, version=1, actor="alice@example.com")
    # told again (a double click, recovery): no second line
    await world.gate.approve_and_publish(INCIDENT, second.id, version=1, actor="alice@example.com")

    page = (await world.incident()).status_page
    assert page is not None
    lines = await room_lines(world)
    assert lines[0].startswith(f"Alice Martin drafted status update {first.id} (version 1):")
    assert lines[1:3] == [
        f"Bob Okafor edited status update {first.id}: version 2 waits for approval.",
        f"Alice Martin rejected status update {first.id} version 2: Too vague",
    ]
    assert lines[3].startswith(f"Alice Martin drafted status update {second.id} (version 1):")
    assert lines[4:] == [
        f"Alice Martin approved and published status update {second.id} version 1 ({page.url})."
    ]


async def test_the_first_published_update_ticks_its_checklist_item(world: World) -> None:
    incident = await world.open_incident()
    message_id = await pin_checklist(world)
    [number] = [n for n, i in enumerate(incident.checklist, 1) if i.id == "status"]
    draft = await world.gate.create_draft(INCIDENT, actor="alice@example.com")
    assert not (await world.incident()).checklist[number - 1].done  # a draft is not an update

    await world.gate.approve_and_publish(INCIDENT, draft.id, version=1, actor="alice@example.com")

    item = (await world.incident()).checklist[number - 1]
    assert (item.done, item.done_by) == (True, "system")
    [record] = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert (record.actor, record.data["item_id"]) == ("system", "status")
    assert record.data["reason"] == "the first status update was published"
    assert f"[x] {item.text}" in await pinned_text(world, message_id)


async def test_only_the_first_update_ticks_it(world: World) -> None:
    incident = await world.open_incident()
    [number] = [n for n, i in enumerate(incident.checklist, 1) if i.id == "status"]
    first = await world.gate.create_draft(INCIDENT, actor="alice@example.com")
    await world.gate.approve_and_publish(INCIDENT, first.id, version=1, actor="alice@example.com")
    assert (await world.incident()).checklist[number - 1].done
    await world.command(f"checklist undo {number}")  # the IC had a reason

    second = await world.gate.create_draft(INCIDENT, actor="alice@example.com")
    await world.gate.approve_and_publish(INCIDENT, second.id, version=1, actor="alice@example.com")

    assert [d.status for d in (await world.incident()).drafts].count(DraftStatus.PUBLISHED) == 2
    assert not (await world.incident()).checklist[number - 1].done


class Exploding:
    """An observer that fails: the room's chat is down, say."""

    def __init__(self) -> None:
        self.told: list[AuditEventType] = []

    async def draft_changed(self, change: AuditEventType, *args: Any, **kwargs: Any) -> None:
        self.told.append(change)
        raise ConnectionError("chat: service_unavailable")


async def test_an_observer_that_fails_never_stops_a_draft_or_its_publication(
    world: World,
) -> None:
    await world.open_incident()
    observer = Exploding()
    gate = StatusUpdateGate(
        store=world.store,
        audit=world.audit,
        status_page=world.status_page,
        llm=world.llm,
        clock=world.clock,
        authority=world.container.authority,
        observers=(observer,),
    )

    draft = await gate.create_draft(INCIDENT, actor="alice@example.com")
    outcome = await gate.approve_and_publish(
        INCIDENT, draft.id, version=1, actor="alice@example.com"
    )

    assert outcome.published_now
    assert observer.told == [A.STATUSPAGE_DRAFT_CREATED, A.STATUSPAGE_PUBLISHED]
    assert len((await world.status_page.incidents())["incidents"]) == 1
