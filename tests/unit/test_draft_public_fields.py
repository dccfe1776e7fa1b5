"""Everything public is approved: the public name, stage, impact and components are fields of the
draft, covered by the content hash the approval binds, editable by the IC, validated, and the
only source of what the status page shows."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.config import ConfigurationError, load_settings
from incident_response.domain.approval import approval_decision, publish_request
from incident_response.domain.clock import Clock
from incident_response.domain.context import Impact, PublicStatus
from incident_response.domain.public import ComponentMap
from incident_response.domain.status_update import PublicComponent, draft_hash
from incident_response.services.status_update_gate import InvalidDraft, StaleDraftVersion
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


@pytest.fixture
async def world(db: Database, clock: ManualClock) -> World:
    return await build_world(db, clock)


@pytest.mark.parametrize(
    "change",
    [
        {"title": "Partial outage: Payments"},
        {"stage": PublicStatus.IDENTIFIED},
        {"impact": Impact.CRITICAL},
        {"components": (PublicComponent(name="Payments"),)},
        {"body": "Another text."},
    ],
)
def test_the_content_hash_covers_every_public_field(clock: Clock, change: dict[str, Any]) -> None:
    draft = a_draft(clock)
    changed = draft.model_copy(update=change)
    assert draft_hash(changed) != draft.content_hash
    # a field changed behind the approval's back is refused, not published
    decision = approval_decision(an_incident(clock), changed, actor=actor(IC), version=1)
    assert "the content of draft d1 does not match its content hash" in decision.reasons


def test_the_publish_request_uses_only_the_drafts_fields(clock: Clock) -> None:
    draft = a_draft(
        clock,
        title="Payments are slow",
        stage=PublicStatus.MONITORING,
        impact=Impact.MINOR,
        components=(PublicComponent(name="Payments"), PublicComponent(name="Checkout")),
    )
    incident = an_incident(clock, service="db-7.internal", title="disk full on db-7")
    request = publish_request(incident, draft)
    assert (request.incident_name, request.status, request.impact, request.components) == (
        "Payments are slow",
        PublicStatus.MONITORING,
        Impact.MINOR,
        ("Payments", "Checkout"),
    )


async def test_a_new_draft_proposes_public_fields_from_the_component_map(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    assert draft.title == "Partial outage: Checkout"
    assert (draft.stage, draft.impact) == (PublicStatus.INVESTIGATING, Impact.MAJOR)
    assert draft.component_names == ("Checkout",)


async def test_an_unmapped_service_falls_under_the_default_component_never_its_own_name(
    world: World,
) -> None:
    await world.open_incident("inc-internal", service="db-7.internal", title="disk full on db-7")
    draft = await world.gate.create_draft("inc-internal", actor=RESPONDER)
    assert draft.component_names == ("Platform",)
    assert draft.title == "Partial outage: Platform"
    gate = world.new_gate(components=ComponentMap(by_service={}, default="Our services"))
    await world.open_incident("inc-plain", service="search", title="search down")
    assert (await gate.create_draft("inc-plain", actor=RESPONDER)).component_names == (
        "Our services",
    )


async def test_editing_only_the_stage_makes_a_new_version_to_approve(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    edited = await world.gate.edit(
        INCIDENT_ID, draft.id, stage="identified", actor=IC, expected_version=1
    )
    assert (edited.version, edited.stage, edited.body) == (2, PublicStatus.IDENTIFIED, draft.body)
    assert edited.content_hash != draft.content_hash
    with pytest.raises(StaleDraftVersion):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=2, actor=IC)
    [request] = world.page.requests
    assert request.status is PublicStatus.IDENTIFIED


async def test_what_the_ic_approved_is_what_the_page_shows(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    edited = await world.gate.edit(
        INCIDENT_ID,
        draft.id,
        title="Payments are slow",
        stage="monitoring",
        impact="minor",
        components=["Payments", " Checkout ", "Payments"],
        actor=IC,
        expected_version=1,
    )
    assert edited.component_names == ("Payments", "Checkout")
    await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=2, actor=IC)
    [incident] = (await world.page.real.incidents())["incidents"]
    assert (incident["name"], incident["status"], incident["impact"]) == (
        "Payments are slow",
        "monitoring",
        "minor",
    )
    assert [c["name"] for c in incident["components"]] == ["Payments", "Checkout"]
    # the next draft keeps the name customers already follow
    world.drafter.text = "Errors are back to normal."
    following = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    assert following.title == "Payments are slow"


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ({"stage": "fixed"}, "unknown stage 'fixed': use one of investigating, identified"),
        ({"impact": "huge"}, "unknown impact 'huge': use one of none, minor, major, critical"),
        ({"title": "  "}, "the public incident name is empty"),
        ({"title": "x" * 121}, "the public incident name has 121 characters; the limit is 120"),
        ({"title": "\u202e\u200b\n\t"}, "the public incident name is empty"),  # once cleaned
        ({"components": ["Checkout, Payments"]}, "must be one line without commas"),
        ({"components": []}, "name at least one status-page component"),
        ({"components": ["y" * 61]}, "has 61 characters; the limit is 60"),
        ({"components": [f"c{n}" for n in range(11)]}, "11 components are named; the limit is 10"),
    ],
)
async def test_an_invalid_public_field_is_refused_and_changes_nothing(
    world: World, edit: dict[str, Any], message: str
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    with pytest.raises(InvalidDraft) as caught:
        await world.gate.edit(
            INCIDENT_ID, draft.id, body="Fine text.", actor=IC, expected_version=1, **edit
        )
    assert message in str(caught.value)
    assert await world.draft(draft.id) == draft
    assert world.page.calls == Counter()


def test_the_component_map_is_read_from_the_environment() -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_STATUS_PAGE_COMPONENTS": "checkout=Checkout, payments-api=Payments",
            "INCIDENT_RESPONSE_STATUS_PAGE_DEFAULT_COMPONENT": "Our services",
        }
    )
    mapping = settings.status_page_components
    assert mapping.component_for("Payments-API") == PublicComponent(name="Payments")
    assert mapping.component_for("db-7.internal") == PublicComponent(name="Our services")
    assert load_settings({}).status_page_components.default == "Platform"
    with pytest.raises(ConfigurationError, match="is not service=Component"):
        load_settings({"INCIDENT_RESPONSE_STATUS_PAGE_COMPONENTS": "checkout"})


def test_a_draft_that_names_no_component_cannot_be_approved(clock: Clock) -> None:
    draft = a_draft(clock, components=())

    decision = approval_decision(an_incident(clock), draft, actor=actor(IC), version=1)

    assert not decision.allowed
    assert "draft d1 names no status-page component" in decision.reasons
