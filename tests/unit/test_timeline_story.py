"""The incident's story (domain/timeline.py): key moments in readable words, bookkeeping left in
the audit log, always in time order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_response.domain.audit import (
    GENESIS_HASH,
    AuditEvent,
    AuditEventType,
    AuditKey,
    AuditRecord,
    seal,
)
from incident_response.domain.timeline import (
    BOOKKEEPING,
    STORY,
    Naming,
    TimelineKind,
    story,
)

A = AuditEventType
KEY = AuditKey(b"timeline-test-key")
T0 = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def records(*events: tuple[int, AuditEventType, str, dict[str, Any]]) -> list[AuditRecord]:
    """(minutes after T0, type, actor, data) -> sealed records in log order."""
    out: list[AuditRecord] = []
    previous = GENESIS_HASH
    for seq, (minutes, type_, actor, data) in enumerate(events, start=1):
        record = seal(
            AuditEvent(
                incident_id="inc-1",
                type=type_,
                key=f"k{seq}",
                at=T0 + timedelta(minutes=minutes),
                actor=actor,
                data=data,
            ),
            seq,
            previous,
            KEY,
        )
        previous = record.hash
        out.append(record)
    return out


def test_an_incident_is_told_as_its_key_moments_in_words() -> None:
    log = records(
        (
            0,
            A.INCIDENT_OPENED,
            "system",
            {"title": "Checkout 5xx", "severity": "P3", "delivery_id": "dlv-123"},
        ),
        (0, A.ASSEMBLY_STEP_COMPLETED, "system", {"step": "channel"}),
        (1, A.IC_ASSIGNED, "system", {"ic": "alice@example.com"}),
        (2, A.SLASH_COMMAND_RECEIVED, "bob@example.com", {"command": "severity", "args": "P1"}),
        (2, A.SEVERITY_CHANGED, "bob@example.com", {"from": "P3", "to": "P1"}),
        (
            3,
            A.ROLE_ASSIGNED,
            "alice@example.com",
            {"role": "comms", "email": "carol@example.com", "previous": None},
        ),
        (4, A.STAGE_CHANGED, "alice@example.com", {"from": "investigating", "to": "identified"}),
        (5, A.STATUSPAGE_DRAFT_APPROVED, "alice@example.com", {"content_hash": "abc123"}),
        (
            5,
            A.STATUSPAGE_PUBLISHED,
            "alice@example.com",
            {"body": "We found the cause.", "stage": "identified", "content_hash": "abc123"},
        ),
        (6, A.TIMELINE_NOTE_ADDED, "bob@example.com", {"text": "rolled back 1.2.3"}),
        (
            7,
            A.FOLLOWUP_ADDED,
            "bob@example.com",
            {"id": "fu-1", "text": "Alert on pool size", "owner": "carol@example.com"},
        ),
        (8, A.INCIDENT_MITIGATED, "system", {"title": "Checkout 5xx"}),
        (9, A.INCIDENT_RESOLVED, "alice@example.com", {}),
    )
    names = {"alice@example.com": "Alice", "bob@example.com": "Bob", "carol@example.com": "Carol"}

    told = story(log, naming=Naming(person=lambda h: names.get(h, h)))

    assert [(e.at - T0, e.who, e.kind, e.text) for e in told] == [
        (
            timedelta(0),
            "system",
            TimelineKind.OPENED,
            "Opened by the alert \u201cCheckout 5xx\u201d (P3)",
        ),
        (timedelta(minutes=1), "system", TimelineKind.IC, "Alice is the incident commander"),
        (
            timedelta(minutes=2),
            "bob@example.com",
            TimelineKind.SEVERITY,
            "Severity raised from P3 to P1",
        ),
        (
            timedelta(minutes=3),
            "alice@example.com",
            TimelineKind.ROLE,
            "Carol is the communications lead",
        ),
        (
            timedelta(minutes=4),
            "alice@example.com",
            TimelineKind.STAGE,
            "Stage moved from investigating to identified",
        ),
        (
            timedelta(minutes=5),
            "alice@example.com",
            TimelineKind.UPDATE,
            "Status update published (identified): \u201cWe found the cause.\u201d",
        ),
        (timedelta(minutes=6), "bob@example.com", TimelineKind.NOTE, "rolled back 1.2.3"),
        (
            timedelta(minutes=7),
            "bob@example.com",
            TimelineKind.FOLLOW_UP,
            "Follow-up: Alert on pool size (owner: Carol)",
        ),
        (
            timedelta(minutes=8),
            "system",
            TimelineKind.MITIGATED,
            "Mitigated: the alert \u201cCheckout 5xx\u201d resolved",
        ),
        (timedelta(minutes=9), "alice@example.com", TimelineKind.RESOLVED, "Resolved"),
    ]


def test_a_pinned_room_message_is_quoted_with_its_author() -> None:
    log = records(
        (
            0,
            A.TIMELINE_NOTE_ADDED,
            "bob@example.com",
            {
                "text": "db primary   is\nfailing over",
                "author": "alice@example.com",
                "source": "slack reaction",
            },
        ),
    )

    (entry,) = story(log, naming=Naming(person=lambda h: h.split("@")[0].title()))

    assert (entry.who, entry.text) == (
        "bob@example.com",
        "\u201cdb primary is failing over\u201d \u2014 Alice",
    )


def test_a_declared_incident_starts_with_its_declaration_not_an_alert() -> None:
    log = records(
        (0, A.INCIDENT_OPENED, "dana@example.com", {"title": "Slow search"}),
        (
            0,
            A.INCIDENT_DECLARED,
            "dana@example.com",
            {
                "by": "dana@example.com",
                "title": "Slow search",
                "severity": "P2",
                "service": "search",
            },
        ),
        (1, A.SEVERITY_CHANGED, "dana@example.com", {"from": "P2", "to": "P4"}),
    )

    told = story(log)

    assert [(e.kind, e.who, e.text) for e in told] == [
        (
            TimelineKind.DECLARED,
            "dana@example.com",
            "Declared: \u201cSlow search\u201d (P2, search)",
        ),
        (TimelineKind.SEVERITY, "dana@example.com", "Severity lowered from P2 to P4"),
    ]


def test_every_audit_type_is_either_story_or_bookkeeping() -> None:
    assert set(STORY) | BOOKKEEPING == set(AuditEventType)
    assert {
        A.ASSEMBLY_STEP_COMPLETED,
        A.SLASH_COMMAND_RECEIVED,
        A.ALERT_ATTACHED,
        A.STATUSPAGE_DRAFT_APPROVED,
        A.FOLLOWUP_FILED,
    } <= BOOKKEEPING


MARK = "zz-bookkeeping-zz"
# the moments the issue names as the story; anything else is bookkeeping
KEY_TYPES = frozenset(
    {
        A.INCIDENT_OPENED,
        A.INCIDENT_DECLARED,
        A.IC_ASSIGNED,
        A.SEVERITY_CHANGED,
        A.STAGE_CHANGED,
        A.ROLE_ASSIGNED,
        A.STATUSPAGE_PUBLISHED,
        A.INCIDENT_MITIGATED,
        A.INCIDENT_REOPENED,
        A.INCIDENT_RESOLVED,
        A.FOLLOWUP_ADDED,
        A.TIMELINE_NOTE_ADDED,
    }
)
json_scalars = st.none() | st.booleans() | st.integers(-100, 100) | st.text(max_size=8)
events = st.lists(
    st.tuples(
        st.integers(0, 600),
        st.sampled_from(list(AuditEventType)),
        st.sampled_from(["system", "alice@example.com"]),
        st.dictionaries(
            st.sampled_from(
                [
                    "title",
                    "text",
                    "from",
                    "to",
                    "role",
                    "email",
                    "body",
                    "stage",
                    "owner",
                    "previous",
                    "ic",
                    "severity",
                    "by",
                    "author",
                ]
            ),
            json_scalars,
            max_size=3,
        ),
    ),
    max_size=12,
)


@settings(max_examples=80, suppress_health_check=[HealthCheck.too_slow])  # 2 shared cores
@given(events)
def test_no_bookkeeping_ever_reaches_the_story_and_it_is_in_time_order(
    specs: list[tuple[int, AuditEventType, str, dict[str, Any]]],
) -> None:
    # bookkeeping records carry a marker in every field: none of it may be told
    log = records(
        *(
            (
                m,
                t,
                MARK if t not in KEY_TYPES else a,
                dict.fromkeys(d, MARK) | {"delivery_id": MARK} if t not in KEY_TYPES else d,
            )
            for m, t, a, d in specs
        )
    )

    told = story(log)

    assert all(MARK not in e.text and e.who != MARK for e in told)
    told_types = [r.type for r in log if r.type in KEY_TYPES]
    declared = A.INCIDENT_DECLARED in told_types
    expected = [t for t in told_types if not (declared and t is A.INCIDENT_OPENED)]
    assert len(told) == len(expected)
    assert [e.at for e in told] == sorted(e.at for e in told)


def test_a_stage_moved_by_a_published_update_is_told_once_by_the_update() -> None:
    log = records(
        (1, A.STAGE_CHANGED, "bob@example.com", {"from": "investigating", "to": "identified"}),
        (
            5,
            A.STATUSPAGE_PUBLISHED,
            "alice@example.com",
            {"body": "We are recovering.", "stage": "monitoring"},
        ),
        (
            5,
            A.STAGE_CHANGED,
            "alice@example.com",
            {"from": "identified", "to": "monitoring", "by": "publish"},
        ),
    )

    told = [entry.text for entry in story(log)]

    assert told == [
        "Stage moved from investigating to identified",
        "Status update published (monitoring): \u201cWe are recovering.\u201d",
    ]
