"""Filing a postmortem in Linear: what the issue carries, and once per key whatever happens."""

from __future__ import annotations

import asyncio

import pytest

from incident_response.adapters.linear.tracker import LinearIssueTracker, marker_line
from incident_response.domain.alert import Severity
from incident_response.http import VendorError
from tests.fakes.linear import FakeLinear
from tests.integration.linear.conftest import LABELS, PROJECT, USERS, Connect

BODY = "## Summary\n\nCheckout returned errors for 12 minutes.\n"


async def test_the_issue_carries_team_project_labels_priority_assignee_and_the_markdown(
    linear: FakeLinear, connect: Connect
) -> None:
    tracker = connect(project_id=PROJECT, label_ids=LABELS)

    filed = await tracker.file_postmortem(
        key="inc-1",
        title="Postmortem: P1 Checkout errors (inc-1)",
        body=BODY,
        severity=Severity.P1,
        owner_email="alice@example.com",
    )

    issue = linear.issue_by_id(filed.id)
    assert (
        filed.url
        == issue["url"]
        == "https://linear.app/acme/issue/ENG-1/postmortem-p1-checkout-errors-inc-1"
    )
    assert issue["team"]["key"] == "ENG"
    assert issue["project"]["id"] == PROJECT
    assert issue["labelIds"] == list(LABELS)
    assert issue["priority"] == 1  # urgent
    assert issue["assignee"]["email"] == "alice@example.com"
    assert issue["title"] == "Postmortem: P1 Checkout errors (inc-1)"
    assert issue["description"].startswith(BODY.rstrip())
    assert issue["description"].rstrip().endswith(marker_line("inc-1"))


@pytest.mark.parametrize(
    ("severity", "priority"),
    [(Severity.P1, 1), (Severity.P2, 2), (Severity.P3, 3), (Severity.P4, 4), (None, 0)],
)
async def test_the_priority_follows_the_severity(
    linear: FakeLinear, tracker: LinearIssueTracker, severity: Severity | None, priority: int
) -> None:
    filed = await tracker.file_postmortem(key="inc-1", title="PM", body=BODY, severity=severity)

    assert linear.issue_by_id(filed.id)["priority"] == priority


async def test_the_ic_is_found_by_email_whatever_its_case(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    filed = await tracker.file_postmortem(
        key="inc-1", title="PM", body=BODY, owner_email="Bob@Example.COM"
    )

    assert linear.issue_by_id(filed.id)["assignee"]["id"] == USERS[1]["id"]


async def test_an_ic_without_a_linear_account_leaves_the_issue_unassigned(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    filed = await tracker.file_postmortem(
        key="inc-1", title="PM", body=BODY, owner_email="carol@example.com"
    )

    assert linear.issue_by_id(filed.id)["assignee"] is None


async def test_a_crash_before_the_filing_was_recorded_files_nothing_twice(
    linear: FakeLinear, connect: Connect
) -> None:
    first = await connect().file_postmortem(key="inc-1", title="PM", body=BODY)
    # the process dies before the resolver records `first`; its retry runs in a new process
    again = await connect().file_postmortem(key="inc-1", title="PM (retry)", body="Other draft")

    assert again == first
    assert list(linear.issues) == [first.id]
    assert len(linear.created()) == 1
    assert linear.issue_by_id(first.id)["title"] == "PM"


async def test_two_processes_filing_one_key_at_once_make_one_issue(
    linear: FakeLinear, connect: Connect
) -> None:
    linear.latency = 0.05  # both look before either creates
    one, two = await asyncio.gather(
        connect().file_postmortem(key="inc-1", title="PM", body=BODY),
        connect().file_postmortem(key="inc-1", title="PM", body=BODY),
    )

    assert one == two
    assert len(linear.issues) == 1
    assert len(linear.created()) == 2  # the second create was refused: the id was taken


async def test_a_create_whose_answer_was_lost_is_found_and_not_sent_again(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.lose_next_answer("issueCreate", status=502)

    filed = await tracker.file_postmortem(key="inc-1", title="PM", body=BODY)

    assert list(linear.issues) == [filed.id]
    assert linear.requested() == ["issues", "issueCreate", "issues"]


async def test_a_create_that_timed_out_after_taking_effect_is_found(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.lose_next_answer("issueCreate", stall=1.0)  # longer than the 0.3 s attempt timeout

    filed = await tracker.file_postmortem(key="inc-1", title="PM", body=BODY)

    assert list(linear.issues) == [filed.id]
    assert linear.requested() == ["issues", "issueCreate", "issues"]


async def test_a_create_refused_with_a_5xx_is_sent_again_only_after_looking(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.fail_next_call("issueCreate", status=503)

    filed = await tracker.file_postmortem(key="inc-1", title="PM", body=BODY)

    assert list(linear.issues) == [filed.id]
    assert linear.requested() == ["issues", "issueCreate", "issues", "issueCreate"]


async def test_a_create_failing_twice_gives_up_with_a_transient_error(
    linear: FakeLinear, tracker: LinearIssueTracker
) -> None:
    linear.fail_next_call("issueCreate", 2, status=503)

    with pytest.raises(VendorError, match="issueCreate failed: HTTP 503") as raised:
        await tracker.file_postmortem(key="inc-1", title="PM", body=BODY)

    assert raised.value.transient  # the resolver retries the step later
    assert linear.issues == {}
    assert linear.requested() == ["issues", "issueCreate", "issues", "issueCreate"]


@pytest.mark.parametrize(("key", "title"), [("", "PM"), ("a\nb", "PM"), ("inc-1", " ")])
async def test_a_bad_key_or_title_is_refused_before_calling_linear(
    linear: FakeLinear, tracker: LinearIssueTracker, key: str, title: str
) -> None:
    with pytest.raises(ValueError, match="postmortem"):
        await tracker.file_postmortem(key=key, title=title, body=BODY)

    assert linear.calls == []


async def test_every_request_the_adapter_sends_is_one_linears_schema_accepts(
    linear: FakeLinear, connect: Connect
) -> None:
    tracker = connect(project_id=PROJECT, label_ids=LABELS)

    await tracker.probe()
    filed = await tracker.file_postmortem(
        key="inc-1", title="PM", body=BODY, severity=Severity.P3, owner_email="alice@example.com"
    )
    await tracker.find_postmortem(filed.key)

    # each document parsed and validated against the schema, its variables coerced to the
    # operation's definitions (the fixture also asserts no violation was recorded)
    assert [e.operation for e in linear.executed] == [
        "IncidentResponseProbe",
        "IncidentResponseFindPostmortem",
        "IncidentResponseUserByEmail",
        "IncidentResponseFilePostmortem",
        "IncidentResponseFindPostmortem",
    ]
    assert linear.violations == []
