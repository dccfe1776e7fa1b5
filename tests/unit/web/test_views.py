"""What the console shows: chat text made safe, incidents in the order an IC wants them."""

from __future__ import annotations

from datetime import timedelta

from incident_response.domain.alert import Severity
from incident_response.domain.audit import GENESIS_HASH, AuditEvent, AuditEventType, seal
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.people import Person
from incident_response.web.console.rendering import duration_text, time_tag
from incident_response.web.console.views import (
    button_command,
    chat_text,
    incident_rows,
    timeline_entries,
)
from tests.contract.incident_samples import STARTED, sample_incident
from tests.support.audit import AUDIT_KEY


def test_chat_text_escapes_everything_but_its_own_markup() -> None:
    html = chat_text(
        "<script>alert(1)</script> *bold* `x<y` <@U1> see https://x.example/a?b=1&c=2.",
        {"U1": "Bob"},
    )
    assert "<script>" not in html
    assert "&lt;script&gt;" in html
    assert "<strong>bold</strong>" in html
    assert "<code>x&lt;y</code>" in html
    assert '<span class="mention">@Bob</span>' in html
    assert 'href="https://x.example/a?b=1&amp;c=2"' in html
    assert html.endswith("</a>.")


def test_a_link_cannot_break_out_of_its_attribute() -> None:
    html = chat_text('https://x.example/"onmouseover="alert(1)', {})
    assert 'onmouseover="' not in html


def test_open_incidents_come_first_worst_first_then_resolved_newest_first() -> None:
    now = STARTED + timedelta(hours=5)
    incidents = [
        sample_incident(id="old-p2", severity=Severity.P2),
        sample_incident(id="new-p2", severity=Severity.P2, created_at=STARTED + timedelta(hours=1)),
        sample_incident(id="p1", severity=Severity.P1, created_at=STARTED - timedelta(hours=1)),
        sample_incident(id="done-old", status=IncidentStatus.RESOLVED, resolved_at=STARTED),
        sample_incident(
            id="done-new",
            status=IncidentStatus.RESOLVED,
            created_at=STARTED + timedelta(hours=2),
            resolved_at=STARTED + timedelta(hours=3),
        ),
    ]
    people = {"alice@example.com": Person(email="alice@example.com", name="Alice Martin")}
    rows = incident_rows(incidents, people, now)
    assert [r.id for r in rows] == ["p1", "new-p2", "old-p2", "done-new", "done-old"]
    assert rows[0].ic == "Alice Martin"
    assert rows[3].age_seconds == 3600  # a resolved incident's age stops at resolution


def test_buttons_become_the_commands_a_person_would_type() -> None:
    assert button_command("checklist.toggle", "ack") == "checklist toggle ack"
    assert button_command("draft.create", "inc-1") == "draft"
    assert button_command("pulse.rate", "4") == "rate 4"
    assert button_command("incident.resolve", "inc-1") == "resolve"
    assert button_command("unknown.thing", "x") is None


def test_times_carry_utc_for_the_script_and_the_tooltip() -> None:
    tag = time_tag(STARTED)
    assert 'datetime="2026-11-26T09:00:00Z"' in tag
    assert 'title="UTC 2026-11-26 09:00:00"' in tag
    assert "never" in time_tag(None)


def test_durations_read_at_a_human_precision() -> None:
    assert duration_text(0.25) == "250 ms"
    assert duration_text(4.2) == "4.2 s"
    assert duration_text(725) == "12m 05s"
    assert duration_text(3 * 3600 + 20 * 60) == "3h 20m"
    assert duration_text(2 * 86400 + 4 * 3600) == "2d 4h"
    assert duration_text(None) == "\u2014"


def test_the_timeline_tells_the_story_in_words_and_names() -> None:
    events = [
        (AuditEventType.ASSEMBLY_STEP_COMPLETED, "system", {"step": "start"}),
        (AuditEventType.IC_ASSIGNED, "system", {"ic": "alice@example.com"}),
        (
            AuditEventType.STATUSPAGE_DRAFT_CREATED,
            "alice@example.com",
            {"draft_id": "d1", "version": 1},
        ),
        (AuditEventType.TIMELINE_NOTE_ADDED, "alice@example.com", {"text": "cache flushed"}),
    ]
    records = [
        seal(
            AuditEvent(
                incident_id="inc-1", type=kind, key=str(n), at=STARTED, actor=actor, data=data
            ),
            n,
            GENESIS_HASH,
            AUDIT_KEY,
        )
        for n, (kind, actor, data) in enumerate(events, start=1)
    ]
    people = {"alice@example.com": Person(email="alice@example.com", name="Alice Martin")}
    entries = timeline_entries(sample_incident(), records, people)
    assert entries[0].text.startswith("Opened by the alert")  # its opening record is not here
    assert [(e.who, e.text) for e in entries[1:]] == [
        ("system", "Alice Martin is the incident commander"),
        ("Alice Martin", "cache flushed"),
    ]
