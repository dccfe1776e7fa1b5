"""A postmortem is filed in the tracker and read across the company: people by name or role,
no e-mail, chat id, host, IP, token or phone number, and every fact still there."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest

from incident_response.adapters.embedded.drafter import postmortem_markdown
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord, seal
from incident_response.domain.context import Change
from incident_response.domain.incident import ChannelRef, ChecklistItem, IncidentStatus, Responder
from incident_response.domain.privacy import found_personal_data
from incident_response.domain.responder_names import ResponderNames
from incident_response.ports import PostmortemContext
from incident_response.services.postmortem import postmortem_title, skeleton
from tests.contract.incident_samples import STARTED, sample_incident
from tests.support.audit import AUDIT_KEY

APPROVED = (
    "Checkout: as of 09:07 UTC, we are investigating a major outage that began at 09:00 UTC. "
    "Customers may be unable to use Checkout. We will post another update by 09:37 UTC."
)
PLANTED = (
    "alice@example.com",
    "bob@example.com",
    "dana@example.com",
    "eve@example.com",
    "frank@example.com",
    "carol@customer.io",
    "U01ALICE1",
    "U02BOBOK2",
    "ip-10-4-2-17",
    "203.0.113.42",
    "db-primary.prod.internal",
    "198.51.100.23",
    "10.20.4.31",
    "xoxb-123456789012",
    "AKIAIOSFODNN7EXAMPLE",
    "redis-master.cache.svc.cluster.local",
    "+44 20 7946 0958",
    "cus_N8aZ3kLm9QxY",
)
TITLE = "HighErrorRate on ip-10-4-2-17.eu-west-1.compute.internal for carol@customer.io"


def record(seq: int, kind: AuditEventType, minutes: int, actor: str, **data: Any) -> AuditRecord:
    event = AuditEvent(
        incident_id="inc-1",
        type=kind,
        key=f"k{seq}",
        at=STARTED + timedelta(minutes=minutes),
        actor=actor,
        data=data,
    )
    return seal(event, seq, "0" * 64, AUDIT_KEY)


def planted_context() -> PostmortemContext:
    incident = sample_incident(
        id="inc-1",
        title=TITLE,
        status=IncidentStatus.RESOLVED,
        assembled_at=STARTED + timedelta(seconds=4),
        resolved_at=STARTED + timedelta(minutes=42),
        channel=ChannelRef(
            id="C0123ABCD", name="inc-checkout", url="https://acme.slack.com/archives/C0123ABCD"
        ),
        responders=(
            Responder(
                email="alice@example.com", name="Alice Martin", chat_id="U01ALICE1", role="primary"
            ),
            Responder(
                email="bob@example.com", name="Bob Okafor", chat_id="U02BOBOK2", role="secondary"
            ),
            Responder(email="dana@example.com", role="invited"),  # not in the roster's names
        ),
        checklist=(
            ChecklistItem(
                id="c1",
                text="Page the DB owner on +44 20 7946 0958",
                done=True,
                done_by="bob@example.com",
            ),
        ),
    )
    timeline = (
        record(
            1,
            AuditEventType.INCIDENT_OPENED,
            0,
            "alert:grafana-oncall",
            title=TITLE,
            labels={"instance": "db-primary.prod.internal", "client_ip": "203.0.113.42"},
        ),
        record(2, AuditEventType.IC_ASSIGNED, 2, "alice@example.com", ic="alice@example.com"),
        record(
            3,
            AuditEventType.TIMELINE_NOTE_ADDED,
            5,
            "bob@example.com",
            text="carol@customer.io (customer_id=cus_N8aZ3kLm9QxY) fails from 198.51.100.23 "
            "with xoxb-123456789012-1234567890123-AbCdEfGhIjKl; pinged U01ALICE1",
            noted_by="bob@example.com",
        ),
        record(
            4, AuditEventType.TIMELINE_NOTE_ADDED, 6, "dana@example.com", text="10.20.4.31 down"
        ),
        record(5, AuditEventType.STATUSPAGE_PUBLISHED, 7, "eve@example.com", draft="d1"),
        record(6, AuditEventType.INCIDENT_RESOLVED, 42, "alice@example.com"),
    )
    change = Change(
        repo="shop/checkout",
        sha="0123456789abcdef",
        title="Rotate AKIAIOSFODNN7EXAMPLE on redis-master.cache.svc.cluster.local",
        author="frank@example.com",
        at=STARTED - timedelta(hours=2),
        url="https://github.com/shop/checkout/pull/42",
    )
    return PostmortemContext(
        incident=incident, timeline=timeline, changes=(change,), published_updates=(APPROVED,)
    )


def as_read(markdown: str) -> str:
    """What a reader sees: Markdown's backslash escapes undone (`cus\\_1` is `cus_1`)."""
    return re.sub(r"\\(.)", r"\1", markdown)


def leaked(text: str) -> list[str]:
    return [value for value in PLANTED if value.lower() in text.lower()]


def test_the_postmortem_carries_no_personal_data() -> None:
    text = as_read(postmortem_markdown(planted_context()))
    assert leaked(text) == []
    assert found_personal_data(text) == []


def test_the_postmortem_keeps_names_times_and_the_approved_updates() -> None:
    text = postmortem_markdown(planted_context())
    assert "| Incident commander | Alice Martin |" in text
    assert "| Alice Martin | incident commander |" in text
    assert "| Bob Okafor | secondary |" in text
    assert "| 2026-11-26 09:02:00 | Alice Martin | Alice Martin is the incident commander |" in text
    assert "| 2026-11-26 09:05:00 | Bob Okafor | \\[email\\] \\(customer\\_id=" in text
    assert "pinged Alice Martin" in text  # a chat id in a note becomes the name
    assert "| Opened | 2026-11-26 09:00:00 UTC |" in text
    assert "| Duration | 42 min |" in text
    assert "# Postmortem: HighErrorRate on \\[host\\] for \\[email\\]" in text
    assert f"   > {APPROVED}" in text  # what customers saw, word for word
    assert "- [x] Page the DB owner on \\[phone\\] (Bob Okafor)" in text
    assert "(<https://acme.slack.com/archives/C0123ABCD>)" not in text
    assert "<https://acme.slack.com/archives/C0123ABCD>" in text  # the war room link stays
    assert "(<https://github.com/shop/checkout/pull/42>)" in text  # so does the change's


def test_people_without_a_name_appear_by_role() -> None:
    text = postmortem_markdown(planted_context())
    assert "| 2026-11-26 09:06:00 | an invited responder | \\[ip\\] down |" in text
    assert "| name not recorded | invited |" in text
    # an approver who was not a responder: the incident does not know their name
    assert "| 2026-11-26 09:07:00 | another team member | Status update published |" in text


def test_details_are_stripped_before_they_are_cut() -> None:
    """A detail cut in the middle of an e-mail address leaves a stub no stripper recognises."""
    context = planted_context()
    long_note = record(
        7,
        AuditEventType.TIMELINE_NOTE_ADDED,
        8,
        "bob@example.com",
        text="x" * 148 + " carol.longname@customer-example.io",
    )
    text = postmortem_markdown(context.model_copy(update={"timeline": (long_note,)}))
    assert "carol" not in text
    assert "\\[email\\]" in text


def test_the_skeleton_and_the_filed_title_carry_no_personal_data() -> None:
    context = planted_context()
    text = as_read(skeleton(context, problem="VendorError: 401 for alice@example.com"))
    assert leaked(text) == []
    assert "Incident commander: Alice Martin" in text
    assert "2026-11-26 09:05:00 UTC [email] (customer_id=[account])" in text  # the note
    assert "pinged Alice Martin (Bob Okafor)" in text
    assert "Status update published (another team member)" in text
    assert APPROVED in text
    title = postmortem_title(context.incident)
    assert title == "Postmortem: P1 HighErrorRate on [host] for [email] (inc-1)"


@pytest.mark.parametrize(
    ("actor", "shown"),
    [
        ("system", "system"),
        ("", "system"),
        ("alert:grafana-oncall", "alert:grafana-oncall"),
        ("Alice@Example.com", "Alice Martin"),
        ("U02BOBOK2", "Bob Okafor"),
        ("dana@example.com", "an invited responder"),
        ("eve@example.com", "another team member"),
        ("U09SOMEONE9", "another team member"),
    ],
)
def test_an_actor_is_named_as_readers_know_them(actor: str, shown: str) -> None:
    assert ResponderNames.of(planted_context().incident).who(actor) == shown


def test_an_ic_outside_the_responders_is_the_incident_commander() -> None:
    incident = sample_incident(ic="zoe@example.com")
    names = ResponderNames.of(incident)
    assert names.who("zoe@example.com") == "the incident commander"
    assert names.text("handed over by zoe@example.com") == "handed over by the incident commander"
    assert "| name not recorded | incident commander |" in postmortem_markdown(
        PostmortemContext(incident=incident, timeline=())
    )
