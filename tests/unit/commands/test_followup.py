"""`followup <text> [@owner]` records an action item; `followup` lists them."""

from __future__ import annotations

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from tests.unit.commands.world import World

A = AuditEventType


async def test_a_followup_is_recorded_audited_and_told_on_the_timeline(world: World) -> None:
    await world.open_incident()
    world.clock.advance(minutes=5)

    reply = await world.command(
        "followup Alert on pool exhaustion @UBOB2", actor="alice@example.com"
    )

    assert reply.ok, reply.text
    [item] = (await world.incident()).followups
    assert (item.text, item.owner, item.created_by) == (
        "Alert on pool exhaustion",
        "bob@example.com",
        "alice@example.com",
    )
    assert item.issue is None
    [record] = await world.records(A.FOLLOWUP_ADDED)
    assert record.data == {
        "id": item.id,
        "text": "Alert on pool exhaustion",
        "owner": "bob@example.com",
    }
    story = (await world.command("timeline")).text
    assert "Follow-up: Alert on pool exhaustion (owner: Bob Okafor)  (Alice Martin)" in story


async def test_the_owner_is_optional_and_may_be_an_email(world: World) -> None:
    await world.open_incident()

    await world.command("followup Write the runbook for failover")
    await world.command("followup Load-test checkout carol@example.com")

    items = (await world.incident()).followups
    assert [(i.text, i.owner) for i in items] == [
        ("Write the runbook for failover", None),
        ("Load-test checkout", "carol@example.com"),
    ]
    listed = await world.command("followup", actor="carol@example.com")
    assert listed.text.splitlines() == [
        "Follow-ups of inc-0001:",
        "1. Write the runbook for failover",
        "2. Load-test checkout (owner: carol@example.com)",
    ]


async def test_an_unknown_owner_records_nothing(world: World) -> None:
    await world.open_incident()

    reply = await world.command("followup Fix it @nobody@example.com")

    assert not reply.ok
    assert "nobody@example.com is not in the directory" in reply.text
    assert (await world.incident()).followups == ()
    assert await world.records(A.FOLLOWUP_ADDED) == []


async def test_the_same_invocation_delivered_twice_records_one_followup(world: World) -> None:
    await world.open_incident()

    for _ in range(2):
        await world.command("followup Rotate the key", invocation_id="slack-trigger-1")

    assert len((await world.incident()).followups) == 1
    assert len(await world.records(A.FOLLOWUP_ADDED)) == 1


async def test_a_resolved_incident_takes_no_more_followups(world: World) -> None:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))

    reply = await world.command("followup Too late")

    assert not reply.ok
    assert "resolved" in reply.text
    assert (await world.incident()).followups == ()


async def test_an_empty_list_says_how_to_add_one(world: World) -> None:
    await world.open_incident()

    reply = await world.command("followup")

    assert reply.ok
    assert "`followup <text> [@owner]`" in reply.text
