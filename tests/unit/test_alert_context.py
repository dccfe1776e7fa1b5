"""The alert's context kept (issue 12, point 6): its runbook, dashboard, summary and description
reach the room's first message and its bookmarks, and its labels read on one line."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.incident import Incident
from incident_response.intake import alertmanager, grafana_oncall
from incident_response.services import war_room_messages as msgs
from tests.support.clock import ManualClock
from tests.unit.intake.examples import alertmanager_body, am_alert, oncall_body
from tests.unit.test_war_room import World, build_world
from tests.unit.test_war_room import settled as settled  # the fixture, for this module too

RUNBOOK = "https://runbooks.example.com/checkout-errors"
DASHBOARD = "https://grafana.example.com/d/checkout"
PANEL = "https://grafana.example.com/d/checkout?viewPanel=4"
SUMMARY = "Checkout error rate above 5%"
DESCRIPTION = "5xx ratio on /api/checkout has been above 5% for 10 minutes"


def annotated_alertmanager_body() -> bytes:
    alert = am_alert(fingerprint="a1b2c3", labels={"service": "checkout"})
    alert["dashboardURL"] = DASHBOARD  # Grafana-managed alerts carry these beside annotations
    alert["panelURL"] = PANEL
    alert["annotations"] = {"summary": SUMMARY, "owner_note": "page payments if it lasts"}
    body = alertmanager_body(
        common_labels={
            "alertname": "HighErrorRate",
            "service": "checkout",
            "env": "prod",
            "team": "payments",
            "severity": "critical",
        },
        alerts=[alert],
    )
    body["commonAnnotations"] = {
        "summary": "Checkout is failing",
        "description": DESCRIPTION,
        "runbook_url": RUNBOOK,
    }
    return json.dumps(body).encode()


def test_alertmanager_annotations_are_kept_as_links_and_texts(clock: ManualClock) -> None:
    [alert] = alertmanager.parse(annotated_alertmanager_body(), received_at=clock.now())

    assert alert.links["runbook_url"] == RUNBOOK
    assert alert.links["dashboard"] == DASHBOARD
    assert alert.links["panel"] == PANEL
    assert alert.links["alertmanager"] == "https://alertmanager.example.com"  # still there
    # the group's common annotations win over its first alert's; the alert's own fill the gaps
    assert alert.annotations == {
        "summary": "Checkout is failing",
        "description": DESCRIPTION,
        "owner_note": "page payments if it lasts",
    }


def test_grafana_oncall_keeps_the_raw_alerts_annotations(clock: ManualClock) -> None:
    body = oncall_body()
    body["alert_payload"]["annotations"] = {
        "description": "  p99 ledger write latency\nabove 800 ms  ",
        "runbook_url": RUNBOOK,
        "dashboard_url": "not a link",
    }
    body["alert_payload"]["dashboardURL"] = DASHBOARD

    [alert] = grafana_oncall.parse(json.dumps(body).encode(), received_at=clock.now())

    assert alert.links["runbook_url"] == RUNBOOK
    assert alert.links["dashboard"] == DASHBOARD
    assert alert.links["web"].startswith("https://oncall.example.org/")  # the permalink stays
    assert alert.annotations == {
        "description": "p99 ledger write latency above 800 ms",
        "dashboard_url": "not a link",  # words, not an address: shown, never bookmarked
    }


def test_a_malformed_annotation_field_still_opens_the_incident(clock: ManualClock) -> None:
    body = oncall_body()
    body["alert_payload"]["annotations"] = ["not", "a", "mapping"]
    body["alert_payload"]["dashboardURL"] = {"no": "string"}

    [alert] = grafana_oncall.parse(json.dumps(body).encode(), received_at=clock.now())

    assert alert.annotations == {}
    assert "dashboard" not in alert.links


def test_the_brief_shows_the_alerts_words_links_and_labels_on_one_line(
    clock: ManualClock,
) -> None:
    [alert] = alertmanager.parse(annotated_alertmanager_body(), received_at=clock.now())
    incident = Incident.open_from(alert, grouping_key="", now=clock.now())

    text = "\n".join(msgs.context(incident, {}, None, "not taken").sections)
    lines = text.splitlines()

    [labels] = [line for line in lines if "service=checkout" in line]
    assert labels == (
        "Labels: alertname=HighErrorRate · env=prod · service=checkout · severity=critical"
        " · team=payments"
    )
    assert not any(line.startswith(("env=", "team=")) for line in lines)
    assert "*P1 Checkout is failing*" in lines  # the summary is the title: said once
    assert text.count("Checkout is failing") == 1
    assert f"Description: {DESCRIPTION}" in lines
    assert "owner_note: page payments if it lasts" in lines
    assert f"Runbook: {RUNBOOK}" in lines
    assert f"Dashboard: {DASHBOARD}" in lines
    assert f"Panel: {PANEL}" in lines
    assert text.count(RUNBOOK) == 1


def test_a_summary_other_than_the_title_has_its_own_line(clock: ManualClock) -> None:
    body = oncall_body(title="Ledger write latency")
    body["alert_payload"]["annotations"] = {"summary": SUMMARY, "description": DESCRIPTION}
    [alert] = grafana_oncall.parse(json.dumps(body).encode(), received_at=clock.now())
    incident = Incident.open_from(alert, grouping_key="", now=clock.now())

    lines = "\n".join(msgs.context(incident, {}, None, None).sections).splitlines()

    assert lines[0] == "*P3 Ledger write latency*"
    assert lines.index(f"Summary: {SUMMARY}") < lines.index(f"Description: {DESCRIPTION}")


@pytest.fixture
async def world(db: Database, clock: ManualClock, tmp_path: Path) -> World:
    return await build_world(db, clock, tmp_path / "roster.yaml", status_page_url=None)


async def test_the_rooms_first_message_and_bookmarks_carry_the_alerts_context(
    world: World, clock: ManualClock
) -> None:
    [alert] = alertmanager.parse(annotated_alertmanager_body(), received_at=clock.now())
    incident = await world.store.create(Incident.open_from(alert, grouping_key="", now=clock.now()))

    await world.assembler.assemble(incident.id)
    await world.assembler.settle()

    room = await world.room(incident.id)
    [brief] = [
        m for m in await world.console.messages(room.id) if m.key == f"{incident.id}:context"
    ]
    text = "\n".join([brief.text, *brief.sections])
    for expected in (f"Runbook: {RUNBOOK}", f"Dashboard: {DASHBOARD}", DESCRIPTION):
        assert expected in text
    # said once: the snapshot without a telemetry backend does not list the alert's links again
    for url in (RUNBOOK, DASHBOARD, PANEL):
        assert len([line for line in text.splitlines() if line.endswith(f": {url}")]) == 1, text
    assert "Checkout is failing" in text
    marks = [(b.title, b.url) for b in await world.console.bookmarks(room.id)]
    assert marks == [
        ("Runbook", RUNBOOK),
        ("Dashboard", DASHBOARD),
        ("Panel", PANEL),
        ("Alertmanager", "https://alertmanager.example.com"),
    ]
