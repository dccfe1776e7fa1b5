"""The violations sweep over the AuditLog port, on SQLite and on DynamoDB (moto server): a
published status update without an approval of that exact draft version is found."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapters.aws.dynamodb_audit import DynamoDbAuditLog
from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.domain.approval import approval_event, draft_event, revised
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import StatusDraft
from incident_response.ports import AuditLog
from incident_response.services.approval_violations import unapproved_publishes
from tests.contract.incident_samples import sample_incident
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables

IC = "alice@example.com"


@pytest.fixture(params=["sqlite", "dynamodb"])
async def audit_log(
    request: pytest.FixtureRequest, clock: ManualClock, tmp_path: Path
) -> AsyncIterator[AuditLog]:
    if request.param == "dynamodb":
        tables: Tables = request.getfixturevalue("dynamodb")
        yield DynamoDbAuditLog(client=tables.client, table=tables.audit, clock=clock, key=AUDIT_KEY)
        return
    db = await Database(tmp_path / "audit.sqlite3").open()
    try:
        yield await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
    finally:
        await db.close()


def draft(clock: ManualClock, draft_id: str = "sd-1") -> StatusDraft:
    return StatusDraft(
        id=draft_id,
        body="We are investigating errors at checkout.",
        title="Checkout errors",
        content_hash="",
        created_by=IC,
        created_at=clock.now(),
        updated_at=clock.now(),
    ).sealed()


async def approve_and_publish(
    log: AuditLog, incident: Incident, one: StatusDraft, clock: ManualClock
) -> None:
    """What the gate records for a draft it publishes: the approval, then the publish."""
    await log.append(approval_event(incident, one, actor=IC, at=clock.now()))
    await log.append(publish(incident, one, clock))


def publish(incident: Incident, one: StatusDraft, clock: ManualClock) -> AuditEvent:
    return draft_event(
        AuditEventType.STATUSPAGE_PUBLISHED, incident.id, one, actor=IC, at=clock.now()
    )


async def test_approved_publishes_are_no_violation(audit_log: AuditLog, clock: ManualClock) -> None:
    incident = sample_incident()
    first = draft(clock)
    await approve_and_publish(audit_log, incident, first, clock)
    await approve_and_publish(
        audit_log, incident, revised(first, {"body": "Fixed."}, clock.advance(60)), clock
    )

    assert await unapproved_publishes(audit_log) == []


async def test_a_planted_publish_without_its_approval_is_found(
    audit_log: AuditLog, clock: ManualClock
) -> None:
    incident = sample_incident()
    first = draft(clock)
    await approve_and_publish(audit_log, incident, first, clock)
    newer = revised(first, {"body": "Checkout is recovering."}, clock.advance(60))
    planted = await audit_log.append(publish(incident, newer, clock))  # version 2, never approved

    violations = await unapproved_publishes(audit_log)

    assert [(v.incident_id, v.seq, v.draft_id, v.version) for v in violations] == [
        (incident.id, planted.seq, "sd-1", 2)
    ]
    assert "without an approval of that version" in str(violations[0])
    assert await unapproved_publishes(audit_log, incident_id="inc-other") == []


async def test_a_publish_of_other_text_than_the_approved_version_is_found(
    audit_log: AuditLog, clock: ManualClock
) -> None:
    incident = sample_incident()
    approved = draft(clock)
    await audit_log.append(approval_event(incident, approved, actor=IC, at=clock.now()))
    swapped = approved.model_copy(update={"body": "All fine, nothing to see."}).sealed()
    await audit_log.append(publish(incident, swapped, clock))

    violations = await unapproved_publishes(audit_log)

    assert [(v.draft_id, v.version) for v in violations] == [("sd-1", 1)]
    assert "other than the approved text" in violations[0].problem
