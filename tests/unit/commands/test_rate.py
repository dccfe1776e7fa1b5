"""`rate 1..5`: the pulse rating after resolution, once per person."""

from __future__ import annotations

import pytest

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IncidentStatus
from tests.unit.commands.world import World

A = AuditEventType


@pytest.fixture
async def resolved(world: World) -> World:
    incident = await world.open_incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))
    return world


async def test_rating_is_recorded_once_per_person(resolved: World) -> None:
    first = await resolved.command("rate 4", actor="bob@example.com")
    second = await resolved.command("rate 1", actor="bob@example.com")
    other = await resolved.command("rate 5", actor="alice@example.com")

    assert first.ok
    assert "4/5 is recorded" in first.text
    assert not second.ok
    assert "already rated this incident 4/5" in second.text
    assert other.ok
    records = await resolved.records(A.IC_RATED)
    assert [(r.actor, r.data["rating"], r.data["ic"]) for r in records] == [
        ("bob@example.com", 4, "alice@example.com"),
        ("alice@example.com", 5, "alice@example.com"),
    ]


async def test_a_retried_rating_delivery_is_thanked_again_and_counted_once(
    resolved: World,
) -> None:
    first = await resolved.command("rate 3", invocation_id="button-1")
    retried = await resolved.command("rate 3", invocation_id="button-1")

    assert first.ok
    assert len(await resolved.records(A.IC_RATED)) == 1
    assert not retried.ok  # the person is told their rating already counts


@pytest.mark.parametrize("arg", ["", "0", "6", "four", "4.5", "-1"])
async def test_ratings_outside_1_to_5_are_refused(resolved: World, arg: str) -> None:
    reply = await resolved.command(f"rate {arg}")

    assert not reply.ok
    assert "from 1" in reply.text
    assert await resolved.records(A.IC_RATED) == []


async def test_rating_an_open_incident_is_refused(world: World) -> None:
    await world.open_incident()

    reply = await world.command("rate 5")

    assert not reply.ok
    assert "ratings open once it is resolved" in reply.text
    assert await world.records(A.IC_RATED) == []
