"""The built-in drafter's text: what customers read, and the postmortem responders start from."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from incident_response.adapters.embedded.drafter import (
    BuiltinDrafter,
    postmortem_markdown,
    status_update_text,
)
from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.audit import AuditEvent, AuditEventType, seal
from incident_response.domain.context import Change, PublicStatus
from incident_response.domain.incident import ChecklistItem, IncidentStatus
from incident_response.domain.public import public_service_name
from incident_response.ports import PostmortemContext, StatusContext
from tests.contract.incident_samples import LABELS, LINKS, STARTED, sample_incident
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
AT = STARTED + timedelta(minutes=7)


def draft(status: PublicStatus, **changes: object) -> str:
    context = StatusContext(incident=sample_incident(**changes), public_status=status.value)
    return status_update_text(context, at=AT)


@pytest.mark.parametrize(
    ("status", "words"),
    [
        (PublicStatus.INVESTIGATING, "we are investigating"),
        (PublicStatus.IDENTIFIED, "we have identified the cause"),
        (PublicStatus.MONITORING, "a fix has been applied"),
        (PublicStatus.RESOLVED, "has been resolved"),
    ],
)
def test_the_update_says_the_status_and_names_the_service(status: PublicStatus, words: str) -> None:
    text = draft(status)
    assert words in text.lower()
    assert "Checkout" in text
    assert "09:07 UTC" in text
    assert text.startswith("Checkout: ")


def test_the_first_update_gives_start_time_and_next_update() -> None:
    text = draft(PublicStatus.INVESTIGATING)
    assert text == (
        "Checkout: as of 09:07 UTC, we are investigating a major outage that began at 09:00 UTC. "
        "Customers may be unable to use Checkout. We will post another update by 09:37 UTC."
    )


def test_a_start_on_another_day_gives_its_date() -> None:
    context = StatusContext(incident=sample_incident(), public_status="identified")
    text = status_update_text(context, at=STARTED + timedelta(hours=16))
    assert "began at 09:00 UTC on 26 November 2026" in text
    assert "as of 01:00 UTC" in text


@pytest.mark.parametrize("service", ["checkout", "payments-api", "db01"])
def test_updates_differ_in_their_opening_words(service: str) -> None:
    """Two updates in the same minute still start differently, so each can be found once."""
    incident = sample_incident(service=service)
    openings = {
        status_update_text(
            StatusContext(incident=incident, public_status=status.value, previous_updates=previous),
            at=AT,
        )[:40]
        for status in PublicStatus
        for previous in ((), ("earlier",))
        if previous == () or status is PublicStatus.INVESTIGATING
    }
    assert len(openings) == len(PublicStatus) + 1


def test_a_follow_up_says_the_work_continues() -> None:
    context = StatusContext(
        incident=sample_incident(),
        public_status="investigating",
        previous_updates=("As of 09:07 UTC, we are investigating...",),
    )
    assert "still investigating" in status_update_text(context, at=AT + timedelta(minutes=30))


def test_the_resolution_gives_the_window_in_utc() -> None:
    resolved = sample_incident(resolved_at=STARTED + timedelta(minutes=42))
    context = StatusContext(incident=resolved, public_status="resolved")
    text = status_update_text(context, at=STARTED + timedelta(minutes=45))
    assert "Between 09:00 and 09:42 UTC, customers may have been unable to use Checkout." in text
    assert "Checkout is operating normally." in text


@pytest.mark.parametrize(
    ("severity", "wording"),
    [
        (Severity.P1, "a major outage"),
        (Severity.P2, "a partial outage"),
        (Severity.P3, "degraded performance"),
        (Severity.P4, "a minor issue"),
    ],
)
def test_severity_sets_the_impact_wording(severity: Severity, wording: str) -> None:
    assert wording in draft(PublicStatus.INVESTIGATING, severity=severity)


@pytest.mark.parametrize("status", list(PublicStatus))
def test_nothing_internal_reaches_customers(status: PublicStatus) -> None:
    text = draft(status)
    assert not EMAIL.search(text)
    internal = [v for k, v in LABELS.items() if k != "service"]  # the service is public
    for secret in (*internal, *LINKS.values(), "Alice", "Bob", "payments"):
        assert secret.lower() not in text.lower(), secret


@pytest.mark.parametrize(
    ("service", "shown"),
    [
        ("checkout", "Checkout"),
        ("payments-api", "Payments API"),
        ("user_accounts", "User Accounts"),
        ("search-v2", "Search V2"),
        ("ip-10-4-2-17.eu-west-1.compute.internal", None),
        ("db01", None),
        ("10.0.0.7:9100", None),
        ("unknown", None),
        ("", None),
    ],
)
def test_service_names_that_look_internal_are_withheld(service: str, shown: str | None) -> None:
    assert public_service_name(service) == shown


def test_an_internal_service_name_becomes_some_of_our_services() -> None:
    text = draft(PublicStatus.IDENTIFIED, service="ip-10-4-2-17.eu-west-1.compute.internal")
    assert "some of our services" in text
    assert "10-4-2-17" not in text


def test_an_unknown_public_status_is_refused() -> None:
    context = StatusContext(incident=sample_incident(), public_status="on fire")
    with pytest.raises(ValueError, match="on fire"):
        status_update_text(context, at=AT)


@given(
    service=st.text(min_size=1, max_size=40),
    severity=st.sampled_from(list(Severity)),
    status=st.sampled_from(list(PublicStatus)),
    minutes=st.integers(0, 60 * 24 * 3),
)
def test_any_service_label_gives_a_safe_update(
    service: str, severity: Severity, status: PublicStatus, minutes: int
) -> None:
    incident = sample_incident(service=service, severity=severity)
    text = status_update_text(
        StatusContext(incident=incident, public_status=status.value),
        at=STARTED + timedelta(minutes=minutes),
    )
    assert ": as of " in text
    assert "UTC" in text
    assert not EMAIL.search(text)
    assert "\n" not in text
    if public_service_name(service) is None and service.strip() not in text:
        assert "services" in text


async def test_the_drafter_uses_its_clock(clock: ManualClock) -> None:
    clock.set(STARTED + timedelta(hours=1, minutes=15))
    text = await BuiltinDrafter(clock=clock).draft_status_update(
        StatusContext(incident=sample_incident(), public_status="investigating")
    )
    assert text.startswith("Checkout: as of 10:15 UTC, ")


def timeline() -> tuple:
    incident = sample_incident()
    events = [
        (AuditEventType.INCIDENT_OPENED, STARTED, "system", {"alert": "HighErrorRate"}),
        (
            AuditEventType.WAR_ROOM_ASSEMBLED,
            STARTED + timedelta(seconds=4),
            "system",
            {"channel": "inc-1 | checkout"},
        ),
        (
            AuditEventType.STATUSPAGE_PUBLISHED,
            STARTED + timedelta(minutes=9),
            "alice@example.com",
            {"draft": "d1"},
        ),
        (
            AuditEventType.INCIDENT_RESOLVED,
            STARTED + timedelta(minutes=42),
            "alice@example.com",
            {},
        ),
    ]
    records = []
    prev = "0" * 64
    for seq, (kind, at, actor, data) in enumerate(events, start=1):
        record = seal(
            AuditEvent(
                incident_id=incident.id, type=kind, key=f"k{seq}", at=at, actor=actor, data=data
            ),
            seq,
            prev,
            AUDIT_KEY,
        )
        records.append(record)
        prev = record.hash
    return tuple(records)


def postmortem() -> str:
    incident = sample_incident(
        status=IncidentStatus.RESOLVED,
        assembled_at=STARTED + timedelta(seconds=4),
        resolved_at=STARTED + timedelta(minutes=42),
        checklist=(
            ChecklistItem(id="c1", text="Assign an IC", done=True, done_by="alice@example.com"),
            ChecklistItem(id="c2", text="Post a status update"),
        ),
    )
    change = Change(
        repo="shop/checkout",
        sha="0123456789abcdef",
        title="Raise connection pool size",
        author="bob",
        at=STARTED - timedelta(hours=2),
        url="https://github.example.com/shop/checkout/pull/42",
    )
    context = PostmortemContext(
        incident=incident,
        timeline=timeline(),
        changes=(change,),
        published_updates=(
            "We are investigating errors.\nMore soon.",
            "This incident has been resolved.",
        ),
    )
    return postmortem_markdown(context)


def section(markdown: str, heading: str) -> str:
    start = markdown.index(f"\n## {heading}\n")
    end = markdown.find("\n## ", start + 1)
    return markdown[start : end if end != -1 else None]


def test_the_postmortem_has_every_section_in_order() -> None:
    text = postmortem()
    headings = re.findall(r"^#{1,2} (.+)$", text, flags=re.MULTILINE)
    assert headings == [
        "Postmortem: HighErrorRate on \\[host\\]",  # the host is stripped, the alert name kept
        "Summary",
        "Impact",
        "Timeline (UTC)",
        "Contributing factors",
        "Lessons learned",
        "Follow-ups",
        "Responders",
        "Recent changes",
        "Checklist",
    ]


def test_the_postmortem_timeline_is_the_story_not_the_audit_log() -> None:
    rows = [
        line
        for line in section(postmortem(), "Timeline (UTC)").splitlines()
        if line.startswith("| 2026")
    ]
    assert rows == [
        "| 2026-11-26 09:00:00 | system | Opened |",
        "| 2026-11-26 09:09:00 | Alice Martin | Status update published |",
        "| 2026-11-26 09:42:00 | Alice Martin | Resolved |",
    ]  # the war room's assembly stays in the audit log


def test_the_judgement_is_left_to_people_as_headed_prompts() -> None:
    text = postmortem()
    assert section(text, "Contributing factors").strip().splitlines()[-1].startswith("_What ")
    lessons = section(text, "Lessons learned")
    for heading in ("What went well", "What went badly", "Where we got lucky"):
        assert f"### {heading}\n\n_" in lessons


def test_the_postmortem_quotes_published_updates_verbatim() -> None:
    published = section(postmortem(), "Impact")
    assert "> We are investigating errors." in published
    assert "> More soon." in published
    assert "> This incident has been resolved." in published


def test_the_postmortem_lists_responders_changes_and_facts() -> None:
    text = postmortem()
    responders = section(text, "Responders")
    assert "| Alice Martin | incident commander |" in responders
    assert "| Bob Okafor | secondary |" in responders
    changes = section(text, "Recent changes")
    assert (
        "[Raise connection pool size](<https://github.example.com/shop/checkout/pull/42>)"
        in changes
    )
    assert "0123456789" in changes
    assert "| Duration | 42 min |" in text
    assert "- [x] Assign an IC (Alice Martin)" in section(text, "Checklist")
    assert "- [ ] Post a status update" in section(text, "Checklist")
    impact = section(text, "Impact")
    assert "- Status updates published to customers: 2" in impact
    assert "- Duration: 42 min (opened 2026-11-26 09:00:00 UTC, resolved " in impact
    assert "- Stages: investigating" in impact


def test_a_declared_incident_says_who_declared_it_not_an_alert_group() -> None:
    incident = sample_incident(
        source=AlertSource.MANUAL, declared_by="alice@example.com", ic="alice@example.com"
    )
    text = postmortem_markdown(PostmortemContext(incident=incident, timeline=()))
    assert "| Source | declared by Alice Martin |" in text
    assert "manual alert group" not in text


def test_an_empty_record_says_so_instead_of_leaving_gaps() -> None:
    incident = sample_incident(responders=(), ic=None)
    text = postmortem_markdown(PostmortemContext(incident=incident, timeline=()))
    assert "No follow-ups were recorded" in text
    assert "No status update was published" in text
    assert "No responders were recorded" in text
    assert "No recent changes found" in text
    assert "| Duration | still open |" in text


HOSTILE_TITLE = (
    "Checkout [click here](https://evil.example/a) <https://evil.example/b> "
    "![img](https://evil.example/c.png) www.evil.example mail@evil.example `x` *boom*"
)


def test_alert_text_never_becomes_a_live_link_in_the_postmortem() -> None:
    incident = sample_incident(
        title=HOSTILE_TITLE,
        service="checkout https://evil.example/svc",
        checklist=(ChecklistItem(id="1", text="see [docs](https://evil.example/d)"),),
    )
    record = seal(
        AuditEvent(
            incident_id=incident.id,
            type=AuditEventType.ALERT_ATTACHED,
            key="k1",
            at=STARTED,
            actor="alert:grafana-oncall",
            data={"title": HOSTILE_TITLE},
        ),
        1,
        "0" * 64,
        AUDIT_KEY,
    )
    text = postmortem_markdown(
        PostmortemContext(
            incident=incident,
            timeline=(record,),
            published_updates=("Fixed, see <https://evil.example/e|here>",),
        )
    )

    html = MarkdownIt("commonmark").enable("table").render(text)
    assert "<a " not in html
    assert "<img" not in html
    # GitHub's and Linear's renderers also link bare URLs, `www.` and e-mails: those only ever
    # stand inside code spans
    outside_code = re.sub(r"(`+).*?\1", "", text)
    assert "evil.example" not in outside_code


@pytest.mark.parametrize(
    "text",
    [
        "Status update: checkout errors identified, fix rolling out",
        "Posted to the status page: investigating elevated errors",
        "Told support and the customers that payments are slow",
        "emailed stakeholders the ETA",
        "let the support team know the dashboard has a minor issue",
    ],
)
async def test_the_builtin_drafter_reads_a_status_update(text: str) -> None:
    assert await BuiltinDrafter().is_status_update(text) is True


@pytest.mark.parametrize(
    "text",
    [
        "restarted the pods",
        "customers are seeing 500s",  # an observation, not an update to them
        "need to update the config map",
        "",
    ],
)
async def test_the_builtin_drafter_reads_other_messages_as_not_updates(text: str) -> None:
    assert await BuiltinDrafter().is_status_update(text) is False
