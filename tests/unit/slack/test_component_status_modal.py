"""The Slack Edit modal lets the IC pick each component's status; the pick reaches the gate."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from incident_response.adapters.slack.blocks import edit_modal, submitted_public_fields
from incident_response.adapters.slack.interactions import picked_statuses
from incident_response.domain.context import ComponentStatus, Impact
from incident_response.domain.status_update import PublicComponent, StatusDraft

AT = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def a_draft() -> StatusDraft:
    return StatusDraft(
        id="d1",
        body="We are investigating.",
        title="Partial outage: Checkout",
        impact=Impact.MAJOR,
        components=(
            PublicComponent(name="Checkout"),
            PublicComponent(name="Payments", status=ComponentStatus.MAJOR_OUTAGE),
        ),
        content_hash="",
        created_by="ic@example.com",
        created_at=AT,
        updated_at=AT,
    ).sealed()


def test_the_edit_modal_offers_a_status_for_each_component_at_its_current_one() -> None:
    view = edit_modal(draft=a_draft(), metadata={"draft_id": "d1"})
    selects = {
        b["block_id"]: b["element"]
        for b in view["blocks"]
        if b["block_id"].startswith("component_status:")
    }
    assert set(selects) == {"component_status:Checkout", "component_status:Payments"}
    values = [o["value"] for o in selects["component_status:Checkout"]["options"]]
    assert values == ["degraded_performance", "partial_outage", "major_outage", "operational"]
    # Checkout follows the impact (major: partial outage); Payments was chosen
    assert selects["component_status:Checkout"]["initial_option"]["value"] == "partial_outage"
    assert selects["component_status:Payments"]["initial_option"]["value"] == "major_outage"


def test_a_submitted_modal_carries_the_picked_statuses_to_the_edit() -> None:
    def picked(value: str) -> dict[str, Any]:
        return {"component_status": {"type": "static_select", "selected_option": {"value": value}}}

    view = {
        "state": {
            "values": {
                "component_status:Checkout": picked("degraded_performance"),
                "component_status:Payments": picked("operational"),
            }
        }
    }
    fields = submitted_public_fields(view)
    assert picked_statuses(fields, None) == {
        "Checkout": "degraded_performance",
        "Payments": "operational",
    }
    # a component the same edit removed is left out instead of refusing the edit
    assert picked_statuses(fields, "Checkout") == {"Checkout": "degraded_performance"}
