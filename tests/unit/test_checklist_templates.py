"""The checklist a raised severity grows into, and the events already past when it grows: pure
domain functions, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.checklist import (
    DEFAULT_CHECKLISTS,
    ChecklistEvent,
    already_happened,
    checklist_for,
    items_ticked_by,
    parse_checklists,
    template_for,
    with_items_of,
)
from incident_response.domain.incident import ChecklistItem, Incident, IncidentRole
from incident_response.domain.status_update import DraftStatus, StatusDraft

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def ids(checklist: tuple[ChecklistItem, ...]) -> list[str]:
    return [item.id for item in checklist]


def test_a_p3_list_raised_to_p1_keeps_its_items_and_gains_the_p1_items_it_lacks() -> None:
    p3 = list(checklist_for(Severity.P3))
    p3[0] = p3[0].model_copy(update={"done": True, "done_by": "bob@example.com", "done_at": T0})

    grown = with_items_of(p3, template_for(Severity.P1))

    assert ids(grown) == [
        *("ack", "impact", "changes", "verify"),  # the P3 list, where it was
        *("status", "comms", "execs", "mitigate", "postmortem"),  # P1's others, in P1's order
    ]
    assert grown[:4] == tuple(p3)  # ticked stays ticked, texts kept (P3's "Verify recovery")
    assert not any(item.done for item in grown[4:])
    by_id = {item.id: item.text for item in DEFAULT_CHECKLISTS[Severity.P1]}
    assert [item.text for item in grown[4:]] == [by_id[i] for i in ids(grown)[4:]]


def test_growing_twice_adds_nothing_the_second_time() -> None:
    once = with_items_of(checklist_for(Severity.P3), template_for(Severity.P1))

    assert with_items_of(once, template_for(Severity.P1)) == once
    assert with_items_of(once, template_for(Severity.P3)) == once  # a lower list adds nothing here


def test_a_configured_template_is_the_one_a_raise_uses() -> None:
    templates = parse_checklists({"P1": ["Page the VP", {"id": "ack", "text": "Acknowledge"}]})

    grown = with_items_of(
        checklist_for(Severity.P3, templates), template_for(Severity.P1, templates)
    )

    assert ids(grown) == ["ack", "impact", "changes", "verify", "page-the-vp"]
    assert template_for(Severity.P2, templates) == DEFAULT_CHECKLISTS[Severity.P2]


def test_naming_a_comms_lead_ticks_the_comms_item_only() -> None:
    checklist = checklist_for(Severity.P1)
    [comms] = [n for n, item in enumerate(checklist, 1) if item.id == "comms"]

    assert items_ticked_by(ChecklistEvent.COMMS_LEAD_NAMED, checklist) == (comms,)
    assert items_ticked_by(ChecklistEvent.COMMS_LEAD_NAMED, checklist_for(Severity.P3)) == ()


def incident(**changes: object) -> Incident:
    base = Incident(
        id="inc-0001",
        severity=Severity.P3,
        title="Checkout errors",
        source=AlertSource.ALERTMANAGER,
        alert_group_id="g",
        alert_group_key="alertmanager:g",
        service="checkout",
        created_at=T0,
        updated_at=T0,
    )
    return base.model_copy(update=changes)


def test_already_happened_names_the_past_events() -> None:
    draft = StatusDraft(
        id="d1",
        body="We are investigating.",
        content_hash="h",
        created_by="alice@example.com",
        created_at=T0,
        updated_at=T0,
    )
    published = draft.model_copy(update={"status": DraftStatus.PUBLISHED})

    assert already_happened(incident()) == ()
    assert already_happened(incident(drafts=(draft,))) == ()  # a draft is not an update
    assert already_happened(
        incident(drafts=(published,), roles={IncidentRole.COMMS: "carol@example.com"})
    ) == (ChecklistEvent.FIRST_UPDATE_PUBLISHED, ChecklistEvent.COMMS_LEAD_NAMED)
    assert already_happened(incident(roles={IncidentRole.SCRIBE: "carol@example.com"})) == ()
