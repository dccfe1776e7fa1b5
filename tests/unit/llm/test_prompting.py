"""Prompts: versioned files in the package, facts stripped of personal data, stable system text."""

from __future__ import annotations

from datetime import timedelta

import pytest

from incident_response.adapters.llm import prompting
from incident_response.adapters.llm.prompting import (
    PromptFileError,
    classify_request,
    load_prompt,
    parse_classification,
    parse_prompt,
    postmortem_request,
    status_update_request,
)
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord, seal
from incident_response.domain.context import Change, PublicStatus
from incident_response.domain.incident import ChecklistItem, Incident
from incident_response.ports import PostmortemContext, StatusContext
from tests.contract.incident_samples import LABELS, STARTED, sample_incident
from tests.support.audit import AUDIT_KEY

PLANTED = (
    "alice@example.com",
    "bob@example.com",
    "Alice Martin",
    "Bob Okafor",
    "Alice",
    "Bob",
    LABELS["instance"],
    LABELS["pod"],
    "10-4-2-17",
    "203.0.113.9",
    "carol@customer.io",
    "xoxb-123456789012-abcdefABCDEF",
    "123456789012",
)
NOW = STARTED + timedelta(minutes=12)


def incident_with_planted_data() -> Incident:
    return sample_incident(
        title="HighErrorRate on ip-10-4-2-17.eu-west-1.compute.internal for carol@customer.io",
        labels={**LABELS, "client_ip": "203.0.113.9", "account": "123456789012"},
        checklist=(ChecklistItem(id="c1", text="Ask Bob Okafor to check 203.0.113.9"),),
    )


def timeline(incident_id: str) -> tuple[AuditRecord, ...]:
    events = [
        (AuditEventType.INCIDENT_OPENED, STARTED, "system", {}),
        (
            AuditEventType.TIMELINE_NOTE_ADDED,
            STARTED + timedelta(minutes=5),
            "bob@example.com",
            {
                "text": "Bob Okafor: pod checkout-7f9c6d8b5-x2kqp OOM, token xoxb-123456789012-abcdefABCDEF"
            },
        ),
        (
            AuditEventType.INCIDENT_RESOLVED,
            STARTED + timedelta(minutes=42),
            "alice@example.com",
            {},
        ),
    ]
    records: list[AuditRecord] = []
    previous = "0" * 64
    for seq, (kind, at, actor, data) in enumerate(events, start=1):
        record = seal(
            AuditEvent(
                incident_id=incident_id, type=kind, key=f"k{seq}", at=at, actor=actor, data=data
            ),
            seq,
            previous,
            AUDIT_KEY,
        )
        previous = record.hash
        records.append(record)
    return tuple(records)


@pytest.mark.parametrize("task", ["status_update", "postmortem", "classify"])
def test_each_prompt_file_ships_with_a_version(task: str) -> None:
    prompt = load_prompt(task)  # type: ignore[arg-type]
    assert prompt.version >= 1
    assert prompt.name == f"{task}@{prompt.version}"
    assert prompt.system
    assert "{{" not in prompt.system  # the system text is not a template: it never varies


def test_a_status_update_prompt_carries_public_facts_and_no_personal_data() -> None:
    incident = incident_with_planted_data()
    request = status_update_request(
        StatusContext(
            incident=incident,
            public_status="identified",
            previous_updates=("Checkout: investigating; contact alice@example.com",),
        ),
        now=NOW,
    )
    assert request.task == "status_update"
    assert request.version == "status_update@1"
    for planted in PLANTED:
        assert planted not in request.user, planted
    assert "Checkout" in request.user
    assert "identified" in request.user
    assert "09:00 UTC on 26 November 2026" in request.user  # started
    assert "09:12 UTC on 26 November 2026" in request.user  # now
    assert "09:42 UTC" in request.user  # next update due
    assert "[host]" in request.user  # the title, stripped, is still there to understand


def test_the_system_text_is_the_same_for_every_incident() -> None:
    one = status_update_request(
        StatusContext(incident=sample_incident(), public_status="investigating"), now=NOW
    )
    other = status_update_request(
        StatusContext(
            incident=sample_incident(service="search", title="Disk full"), public_status="resolved"
        ),
        now=NOW + timedelta(hours=3),
    )
    assert one.system == other.system
    assert one.user != other.user


def test_a_postmortem_prompt_names_people_by_role_and_strips_the_rest() -> None:
    incident = incident_with_planted_data()
    context = PostmortemContext(
        incident=incident.update(resolved_at=STARTED + timedelta(minutes=42)),
        timeline=timeline(incident.id),
        changes=(
            Change(
                repo="acme/checkout",
                sha="a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
                title="Raise pool size (reviewed by Bob Okafor)",
                author="bob-okafor",
                at=STARTED - timedelta(minutes=20),
            ),
        ),
        published_updates=("Checkout: we are investigating.",),
    )
    request = postmortem_request(context)
    for planted in (*PLANTED, "bob-okafor"):
        assert planted not in request.user, planted
    assert "the incident commander" in request.user
    assert "responder 2" in request.user
    # the story, not audit rows: the note itself, by its author's role
    assert "- 2026-11-26 09:05:00 responder 2: pod [host] OOM" in request.user
    assert "(by responder 2)" in request.user
    assert "TIMELINE_NOTE_ADDED" not in request.user
    assert "Timeline note added" not in request.user
    assert "Stages: investigating" in request.user
    assert "42 min" in request.user
    assert "a1b2c3d4e5" in request.user
    assert "Checkout: we are investigating." in request.user


def test_a_classification_prompt_strips_the_message() -> None:
    request = classify_request("told carol@customer.io and the status page: investigating")
    assert request.task == "classify"
    assert "carol@customer.io" not in request.user
    assert "[email]" in request.user


@pytest.mark.parametrize(
    ("answer", "expected"),
    [("yes", True), ("Yes.", True), (" YES\n", True), ("no", False), ("No, it is not.", False)],
)
def test_classification_answers(answer: str, expected: bool) -> None:
    assert parse_classification(answer) is expected


@pytest.mark.parametrize("answer", ["", "maybe", "It depends"])
def test_an_unclear_classification_is_an_error(answer: str) -> None:
    with pytest.raises(ValueError, match="not yes or no"):
        parse_classification(answer)


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("no front matter\n<!-- user -->\n{{ x }}", "front matter"),
        ("---\ntask: classify\n---\nsystem\n<!-- user -->\n{{ x }}", "integer 'version'"),
        ("---\nversion: 1\n---\nsystem only", "needs system text"),
        ("---\nversion: 1\ntask: postmortem\n---\ns\n<!-- user -->\nu", "names task"),
    ],
)
def test_a_malformed_prompt_file_is_refused_with_the_reason(text: str, reason: str) -> None:
    with pytest.raises(PromptFileError, match=reason):
        parse_prompt("classify", text)


def test_a_missing_fact_in_a_template_is_an_error_not_an_empty_line() -> None:
    prompt = parse_prompt("classify", "---\nversion: 3\n---\nsystem\n<!-- user -->\n{{ missing }}")
    with pytest.raises(Exception, match="missing"):
        prompt.request(text="x")


def test_public_status_must_be_a_stage() -> None:
    with pytest.raises(ValueError, match="on fire"):
        status_update_request(StatusContext(incident=sample_incident(), public_status="on fire"))


def test_times_are_written_one_way() -> None:
    assert prompting.when(STARTED) == "09:00 UTC on 26 November 2026"
    assert prompting.when(STARTED, with_date=False) == "09:00 UTC"
    assert PublicStatus.RESOLVED not in prompting.NEXT_UPDATE
