"""`checklist`: numbered items; ticks persisted with compare-and-set and audited."""

from __future__ import annotations

import asyncio

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from tests.unit.commands.world import World

A = AuditEventType


async def test_checklist_lists_items_with_numbers(world: World) -> None:
    incident = await world.open_incident()

    reply = await world.command("checklist")

    assert reply.ok
    assert f"Checklist (0/{len(incident.checklist)} done):" in reply.text
    for n, item in enumerate(incident.checklist, 1):
        assert f"  {n}. [ ] {item.text}" in reply.text
    assert [i["number"] for i in reply.data["checklist"]] == list(
        range(1, len(incident.checklist) + 1)
    )


async def test_ticking_an_item_is_persisted_and_audited(world: World) -> None:
    incident = await world.open_incident()
    world.clock.advance(minutes=4)

    reply = await world.command("checklist done 2", actor="bob@example.com")

    assert reply.ok
    item = (await world.incident()).checklist[1]
    assert item.id == incident.checklist[1].id
    assert item.done
    assert item.done_by == "bob@example.com"
    assert item.done_at == world.clock.now()
    assert "  2. [x] " in reply.text
    assert "(bob@example.com, 2026-11-26 09:04 UTC)" in reply.text
    [record] = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert record.actor == "bob@example.com"
    assert record.data == {"item_id": item.id, "number": 2, "text": item.text, "done": True}


async def test_ticking_twice_changes_and_records_nothing_more(world: World) -> None:
    await world.open_incident()
    await world.command("checklist done 2")
    version = (await world.incident()).version

    reply = await world.command("checklist done 2", actor="bob@example.com")

    assert reply.ok
    assert "was already done" in reply.text
    assert not reply.data["changed"]
    assert (await world.incident()).version == version
    assert len(await world.records(A.CHECKLIST_ITEM_UPDATED)) == 1
    assert (await world.incident()).checklist[1].done_by == "alice@example.com"


async def test_undo_unticks_and_is_audited(world: World) -> None:
    await world.open_incident()
    await world.command("checklist done 3")

    reply = await world.command("checklist undo 3")

    assert reply.ok
    item = (await world.incident()).checklist[2]
    assert not item.done
    assert item.done_by is None
    records = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert [r.data["done"] for r in records] == [True, False]


async def test_items_can_be_named_by_id(world: World) -> None:
    incident = await world.open_incident()

    await world.command(f"checklist done {incident.checklist[0].id}")

    assert (await world.incident()).checklist[0].done


async def test_toggle_flips_an_item(world: World) -> None:
    incident = await world.open_incident()
    item_id = incident.checklist[1].id

    await world.command(f"checklist toggle {item_id}")
    ticked = (await world.incident()).checklist[1].done
    await world.command(f"checklist toggle {item_id}")

    assert ticked
    assert not (await world.incident()).checklist[1].done
    records = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert [r.data["done"] for r in records] == [True, False]


async def test_bad_item_numbers_and_verbs_change_nothing(world: World) -> None:
    incident = await world.open_incident()

    replies = [
        await world.command("checklist done 0"),
        await world.command(f"checklist done {len(incident.checklist) + 1}"),
        await world.command("checklist done"),
        await world.command("checklist smash 1"),
    ]

    assert [r.ok for r in replies] == [False] * 4
    assert "give a number from 1 to" in replies[0].text
    assert "Use `checklist" in replies[3].text
    assert (await world.incident()).version == incident.version
    assert await world.records(A.CHECKLIST_ITEM_UPDATED) == []


async def test_concurrent_ticks_all_persist(world: World) -> None:
    incident = await world.open_incident()
    count = len(incident.checklist)

    replies = await asyncio.gather(
        *(world.command(f"checklist done {n}") for n in range(1, count + 1))
    )

    assert all(r.ok for r in replies)
    assert all(item.done for item in (await world.incident()).checklist)
    assert len(await world.records(A.CHECKLIST_ITEM_UPDATED)) == count


async def test_a_tick_whose_audit_record_was_lost_is_recorded_when_asked_again(
    world: World,
) -> None:
    incident = await world.open_incident()
    # a crash after the compare-and-set, before the audit write
    items = list(incident.checklist)
    items[0] = items[0].model_copy(
        update={"done": True, "done_by": "bob@example.com", "done_at": world.clock.now()}
    )
    await world.store.save(incident.update(checklist=tuple(items)))

    reply = await world.command("checklist done 1")

    assert "was already done" in reply.text
    [record] = await world.records(A.CHECKLIST_ITEM_UPDATED)
    assert record.actor == "bob@example.com"
    assert record.data["done"] is True


async def test_ticking_a_resolved_incident_is_refused(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("checklist done 1")
    listing = await world.command("checklist")

    assert not reply.ok
    assert "is resolved" in reply.text
    assert listing.ok
    assert not (await world.incident()).checklist[0].done
