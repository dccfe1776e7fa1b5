"""One current draft: publishing a draft supersedes every older pending one, which can then never
be approved (a conflict naming the newer update), and asking for a draft again returns the
waiting one when nothing about it changed."""

from __future__ import annotations

from collections import Counter

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.commands.timeline import describe
from incident_response.domain.approval import approval_decision, missing_draft_events
from incident_response.domain.audit import AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.status_update import DraftKind, DraftStatus
from incident_response.services.status_update_gate import DraftSuperseded
from tests.support.clock import ManualClock
from tests.unit.test_status_update_gate import (
    IC,
    INCIDENT_ID,
    RESPONDER,
    World,
    a_draft,
    actor,
    an_incident,
    build_world,
)

SUPERSEDED = AuditEventType.STATUSPAGE_DRAFT_SUPERSEDED


@pytest.fixture
async def world(db: Database, clock: ManualClock) -> World:
    return await build_world(db, clock)


async def two_drafts(world: World) -> tuple[str, str]:
    world.drafter.text = "We are investigating errors at checkout."
    older = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.drafter.text = "A fix is rolling out; errors are dropping."
    newer = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    return older.id, newer.id


async def test_publishing_a_newer_draft_supersedes_the_older_one_which_can_never_publish(
    world: World,
) -> None:
    older, newer = await two_drafts(world)
    await world.gate.approve_and_publish(INCIDENT_ID, newer, version=1, actor=IC)

    with pytest.raises(DraftSuperseded, match=f"superseded by draft {newer}") as caught:
        await world.gate.approve_and_publish(INCIDENT_ID, older, version=1, actor=IC)
    assert (caught.value.draft_id, caught.value.newer) == (older, newer)
    assert world.page.calls == Counter({f"{newer}:v1": 1})
    stored = await world.draft(older)
    assert (stored.status, stored.superseded_by) == (DraftStatus.SUPERSEDED, newer)
    [record] = await world.records(SUPERSEDED)
    assert record.data["draft_id"] == older
    assert record.data["superseded_by"] == newer
    assert f"superseded by draft {newer}" in describe(record)  # as `timeline` shows it
    assert (await world.audit.verify(INCIDENT_ID)).ok


async def test_a_superseded_draft_can_be_neither_edited_nor_rejected(world: World) -> None:
    older, newer = await two_drafts(world)
    await world.gate.approve_and_publish(INCIDENT_ID, newer, version=1, actor=IC)
    before = await world.draft(older)
    with pytest.raises(DraftSuperseded, match="can no longer be edited"):
        await world.gate.edit(INCIDENT_ID, older, body="Other.", actor=IC, expected_version=1)
    with pytest.raises(DraftSuperseded, match=newer):
        await world.gate.reject(INCIDENT_ID, older, actor=IC)
    assert await world.draft(older) == before


async def test_recovery_restores_a_supersession_record_a_crash_lost(world: World) -> None:
    older, newer = await two_drafts(world)
    await world.gate.approve_and_publish(INCIDENT_ID, newer, version=1, actor=IC)
    incident = await world.incident()
    have = {r.key for r in await world.audit.records(INCIDENT_ID)}
    assert missing_draft_events(incident, have) == []  # recorded, once
    lost = {k for k in have if not k.startswith("statuspage-draft-superseded:")}
    [restored] = missing_draft_events(incident, lost)
    assert (restored.type, restored.data["draft_id"], restored.data["superseded_by"]) == (
        SUPERSEDED,
        older,
        newer,
    )
    await world.gate.recover(INCIDENT_ID)  # writing it again records nothing new
    assert len(await world.records(SUPERSEDED)) == 1


def test_an_older_pending_draft_behind_a_published_newer_one_is_a_conflict_to_approve(
    clock: Clock,
) -> None:
    older = a_draft(clock)
    newer = a_draft(clock, status=DraftStatus.PUBLISHED).model_copy(update={"id": "d2"})
    incident = an_incident(clock, drafts=(older, newer))
    decision = approval_decision(incident, older, actor=actor(IC), version=1)
    assert not decision.allowed
    assert decision.superseded_by == "d2"
    assert decision.only_superseded
    assert "superseded by draft d2" in decision.reasons[0]


async def test_asking_again_returns_the_unchanged_waiting_draft_instead_of_a_new_one(
    world: World,
) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    again = await world.gate.create_draft(INCIDENT_ID, actor=IC)
    assert again == first
    assert len((await world.incident()).drafts) == 1
    assert len(await world.records(AuditEventType.STATUSPAGE_DRAFT_CREATED)) == 1


async def test_an_edited_or_different_draft_is_not_reused(world: World) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.edit(INCIDENT_ID, first.id, stage="identified", actor=IC, expected_version=1)
    second = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    assert second.id != first.id  # the first was edited: the IC's choices are not overwritten
    world.drafter.text = "Something new to say."
    third = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    resolved = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER, kind=DraftKind.RESOLVED)
    assert len({first.id, second.id, third.id, resolved.id}) == 4
