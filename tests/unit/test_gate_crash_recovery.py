"""Crashes around the publish: recovery finishes what was approved, posts nothing twice, and
never publishes a text no approval record binds."""

from __future__ import annotations

from collections import Counter

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import AuditEventType
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.status_update import DraftStatus, StatusDraft, content_hash
from incident_response.services.status_update_gate import (
    PublishFailed,
    PublishNotPermitted,
)
from tests.support.clock import ManualClock
from tests.unit.test_status_update_gate import (
    GRACE,
    IC,
    INCIDENT_ID,
    RESPONDER,
    World,
    build_world,
)


@pytest.fixture
async def world(db: Database, clock: ManualClock) -> World:
    return await build_world(db, clock)


async def crashed_approval(world: World, *, after_publish: bool) -> StatusDraft:
    """Approve a fresh draft while the status page dies before or after taking it."""
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    if after_publish:
        world.page.fail_after = 1
    else:
        world.page.fail_before = 1
    with pytest.raises(PublishFailed):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert (await world.draft(draft.id)).status is DraftStatus.APPROVED
    return draft


async def test_a_crash_between_publish_and_record_is_recorded_without_a_second_post(
    world: World,
) -> None:
    draft = await crashed_approval(world, after_publish=True)
    assert await world.page.public_bodies() == [draft.body]
    world.clock.advance(seconds=GRACE.total_seconds())
    restarted = world.new_gate()
    [outcome] = await restarted.recover(INCIDENT_ID)
    assert (outcome.status, outcome.published_now) == (DraftStatus.PUBLISHED, False)
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    assert await world.page.public_bodies() == [draft.body]
    stored = await world.draft(draft.id)
    assert stored.status is DraftStatus.PUBLISHED
    assert (await world.incident()).status_page == outcome.status_page
    assert len(await world.records(AuditEventType.STATUSPAGE_PUBLISHED)) == 1
    assert len(await world.records(AuditEventType.STATUS_UPDATE_SENT)) == 1
    assert await restarted.recover(INCIDENT_ID) == []
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})


async def test_a_crash_after_approval_before_publish_is_published_once_by_recovery(
    world: World,
) -> None:
    draft = await crashed_approval(world, after_publish=False)
    assert world.page.calls == Counter()
    world.clock.advance(seconds=GRACE.total_seconds())
    [outcome] = await world.new_gate().recover(INCIDENT_ID)
    assert (outcome.status, outcome.published_now) == (DraftStatus.PUBLISHED, True)
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    assert await world.page.public_bodies() == [draft.body]
    assert await world.new_gate().recover(INCIDENT_ID) == []
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    assert (await world.audit.verify(INCIDENT_ID)).ok


async def test_recovery_leaves_a_fresh_approval_to_the_worker_publishing_it(
    world: World,
) -> None:
    draft = await crashed_approval(world, after_publish=False)
    world.clock.advance(seconds=GRACE.total_seconds() - 1)
    assert await world.gate.recover(INCIDENT_ID) == []
    assert world.page.calls == Counter()
    world.clock.advance(seconds=1)
    [outcome] = await world.gate.recover(INCIDENT_ID)
    assert outcome.draft_id == draft.id
    assert outcome.published_now


async def test_a_draft_marked_approved_without_an_approval_record_is_never_published(
    world: World,
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    incident = await world.incident()
    forged = draft.model_copy(update={"status": DraftStatus.APPROVED, "approved_by": IC})
    await world.store.save(incident.update(drafts=(forged,)))
    world.clock.advance(seconds=GRACE.total_seconds())
    with pytest.raises(PublishNotPermitted, match="no approval record binds"):
        await world.gate.recover(INCIDENT_ID)
    assert world.page.calls == Counter()
    assert await world.page.public_bodies() == []
    assert (await world.draft(draft.id)).status is DraftStatus.APPROVED
    # a repeated approval finishes overdue drafts through the same check, so it refuses too
    with pytest.raises(PublishNotPermitted):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert world.page.calls == Counter()


async def test_a_text_changed_in_the_store_after_approval_is_never_published(
    world: World,
) -> None:
    draft = await crashed_approval(world, after_publish=False)
    incident = await world.incident()
    approved = incident.draft(draft.id)
    assert approved is not None
    body = "We have fully resolved everything, nothing to see."
    tampered = approved.model_copy(update={"body": body, "content_hash": content_hash(body)})
    await world.store.save(incident.update(drafts=(tampered,)))
    world.clock.advance(seconds=GRACE.total_seconds())
    with pytest.raises(PublishNotPermitted, match=f"draft {draft.id} version 1"):
        await world.new_gate().recover(INCIDENT_ID)
    assert world.page.calls == Counter()


async def test_recovery_restores_draft_records_a_crash_lost(world: World) -> None:
    now = world.clock.now()
    drafts = tuple(
        StatusDraft(
            id=f"d{n}",
            version=version,
            status=status,
            body=f"Update {n}.",
            content_hash=content_hash(f"Update {n}."),
            created_by=RESPONDER,
            created_at=now,
            updated_at=now,
        )
        for n, version, status in [
            (1, 1, DraftStatus.DRAFT),
            (2, 3, DraftStatus.DRAFT),
            (3, 1, DraftStatus.REJECTED),
        ]
    )
    incident = await world.incident()
    await world.store.save(incident.update(drafts=drafts))
    assert await world.gate.recover(INCIDENT_ID) == []
    restored = {(r.type, r.key) for r in await world.audit.records(INCIDENT_ID)}
    assert restored == {
        (AuditEventType.STATUSPAGE_DRAFT_CREATED, "statuspage-draft-created:d1"),
        (AuditEventType.STATUSPAGE_DRAFT_CREATED, "statuspage-draft-created:d2"),
        (AuditEventType.STATUSPAGE_DRAFT_REVISED, "statuspage-draft-revised:d2:v3"),
        (AuditEventType.STATUSPAGE_DRAFT_CREATED, "statuspage-draft-created:d3"),
        (AuditEventType.STATUSPAGE_APPROVAL_REJECTED, "statuspage-approval-rejected:d3:v1"),
    }
    assert all(r.data["restored"] for r in await world.audit.records(INCIDENT_ID))
    await world.gate.recover(INCIDENT_ID)
    assert len(await world.audit.records(INCIDENT_ID)) == 5
    assert await world.records(AuditEventType.STATUSPAGE_DRAFT_APPROVED) == []


async def test_recovering_an_unknown_incident_is_not_found(world: World) -> None:
    with pytest.raises(NotFound):
        await world.gate.recover("inc-missing")


async def test_recover_all_finishes_every_incident_and_reports_the_ones_it_cannot(
    world: World,
) -> None:
    crashed = await crashed_approval(world, after_publish=False)
    # a resolved incident whose resolved announcement was approved, then the process died
    await world.open_incident("inc-resolved")
    late = await world.gate.create_draft("inc-resolved", actor=IC)
    world.page.fail_before = 1
    with pytest.raises(PublishFailed):
        await world.gate.approve_and_publish("inc-resolved", late.id, version=1, actor=IC)
    resolved = await world.incident("inc-resolved")
    await world.store.save(resolved.transition(IncidentStatus.RESOLVED, at=world.clock.now()))
    # a resolved incident with nothing pending is not touched
    quiet = await world.open_incident("inc-quiet", status=IncidentStatus.RESOLVED)
    await world.gate.create_draft(quiet.id, actor=IC)
    # an open incident with a forged approval
    await world.open_incident("inc-forged")
    forged = await world.gate.create_draft("inc-forged", actor=IC)
    incident = await world.incident("inc-forged")
    await world.store.save(
        incident.update(drafts=(forged.model_copy(update={"status": DraftStatus.APPROVED}),))
    )
    world.clock.advance(seconds=GRACE.total_seconds())

    report = await world.new_gate().recover_all()

    assert {(o.incident_id, o.draft_id, o.published_now) for o in report.outcomes} == {
        (INCIDENT_ID, crashed.id, True),
        ("inc-resolved", late.id, True),
    }
    assert list(report.failures) == ["inc-forged"]
    assert "no approval record binds" in report.failures["inc-forged"]
    assert world.page.calls == Counter({f"{crashed.id}:v1": 1, f"{late.id}:v1": 1})
    again = await world.new_gate().recover_all()
    assert again.outcomes == []
    assert world.page.calls == Counter({f"{crashed.id}:v1": 1, f"{late.id}:v1": 1})
