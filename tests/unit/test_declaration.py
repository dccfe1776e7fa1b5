"""What a person may declare: the rules every surface (Slack, console, API) applies alike."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.declaration import (
    MAX_TITLE_CHARS,
    Declaration,
    DeclareText,
    InvalidDeclaration,
    read_declare_text,
)
from incident_response.domain.incident import Incident, declared_incident_id
from incident_response.domain.people import Person

NOW = datetime(2026, 12, 1, 9, 30, tzinfo=UTC)


def test_a_declaration_is_tidied_into_one_line_and_a_known_severity() -> None:
    declared = Declaration.parse(
        title="  Checkout\n  is slow \t for EU ",
        severity="p2",
        service=" checkout ",
        summary="Latency doubled at 09:10.\r\nNo deploy since yesterday.",
    )
    assert declared.title == "Checkout is slow for EU"
    assert declared.severity is Severity.P2
    assert declared.service == "checkout"
    assert declared.summary == "Latency doubled at 09:10.\nNo deploy since yesterday."
    assert declared.ic is None


def test_no_service_files_it_under_unknown_like_an_alert_without_one() -> None:
    assert Declaration.parse(title="Something is off", severity="P4").service == "unknown"


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(InvalidDeclaration) as refused:
        Declaration.parse(
            title=" \n ", severity="P9", service="s" * 101, summary="x" * 4001, ic="bob"
        )
    problems = refused.value.problems
    assert set(problems) == {"title", "severity", "service", "summary", "ic"}
    assert "empty" in problems["title"]
    assert "'P9' is not a severity: choose one of P1, P2, P3, P4" in problems["severity"]
    assert "not an e-mail address" in problems["ic"]
    assert str(refused.value).startswith("title: ")


def test_a_title_past_the_limit_is_refused_not_cut() -> None:
    with pytest.raises(InvalidDeclaration) as refused:
        Declaration.parse(title="x" * (MAX_TITLE_CHARS + 1), severity="P1")
    assert "put the rest in the summary" in refused.value.problems["title"]


def test_a_declared_incident_has_its_own_alert_group_and_the_ic_and_declarer_on_it() -> None:
    alice = Person(email="alice@example.com", name="Alice Martin", chat_id="U0ALICE")
    carol = Person(email="carol@example.com", name="Carol Nguyen")
    declaration = Declaration.parse(title="Checkout is slow", severity="P2", service="checkout")
    incident_id = declared_incident_id(alice.email, "key-1")
    incident = Incident.declare(
        declaration, incident_id=incident_id, declared_by=alice, ic=carol, now=NOW
    )
    assert incident.source is AlertSource.MANUAL
    assert incident.declared
    assert incident.alert_group_key == f"manual:{incident_id}"
    assert incident.grouping_key == ""  # no storm groups into it
    assert incident.ic == "carol@example.com"
    assert incident.declared_by == "alice@example.com"
    assert [(r.email, r.role) for r in incident.responders] == [
        ("carol@example.com", "ic"),
        ("alice@example.com", "declarer"),
    ]
    # the same declarer and key name the same incident; another key another one
    assert declared_incident_id("ALICE@example.com ", "key-1") == incident_id
    assert declared_incident_id(alice.email, "key-2") != incident_id


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("P1 checkout: Checkout is slow", DeclareText("P1", "checkout", "Checkout is slow")),
        ("p3 Search results are stale", DeclareText("p3", "", "Search results are stale")),
        ("Checkout is slow: EU only", DeclareText("", "", "Checkout is slow: EU only")),
        ("P2 api:", DeclareText("P2", "", "api:")),
        ("", DeclareText("", "", "")),
    ],
)
def test_the_typed_declare_command_reads_severity_service_and_title(
    typed: str, read: DeclareText
) -> None:
    assert read_declare_text(typed) == read


def test_a_missing_severity_is_asked_for() -> None:
    with pytest.raises(InvalidDeclaration) as refused:
        Declaration.parse(title="Checkout is slow", severity=" ")
    assert refused.value.problems == {"severity": "missing: choose one of P1, P2, P3, P4"}
