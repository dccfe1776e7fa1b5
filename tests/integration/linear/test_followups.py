"""Follow-ups become Linear issues on resolve: one issue each, assigned to its owner, linked from
the postmortem, and never twice, even when the process dies between Linear's answer and the
record of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import IssueRef
from tests.fakes.linear import FakeLinear
from tests.integration.linear.conftest import USERS, Connect
from tests.support.clock import ManualClock
from tests.unit.commands.world import build_world


class Crash(BaseException):
    """The process dying (a SIGKILL): no `except Exception` catches it."""


class DiesAfterFilingAFollowUp(LinearIssueTracker):
    """The tracker, in a process that dies as soon as Linear answered a follow-up's filing."""

    def __init__(self, inner: LinearIssueTracker) -> None:
        self._inner = inner

    async def file_followup(self, **fields: Any) -> IssueRef:
        await self._inner.file_followup(**fields)
        raise Crash("died before recording the follow-up's issue")


async def test_each_followup_is_one_linear_issue_linked_from_the_postmortem(
    tmp_path: Path, linear: FakeLinear, connect: Connect
) -> None:
    world = await build_world(tmp_path, ManualClock())
    try:
        await world.open_incident()
        await world.command("followup Alert on pool exhaustion @bob@example.com")
        await world.command("followup Write the failover runbook")
        await world.command("resolve")

        try:
            await world.drain(
                resolver=world.resolver_with(issues=DiesAfterFilingAFollowUp(connect()))
            )
        except Crash:
            pass
        else:
            raise AssertionError("the filing process should have died")
        world.clock.advance(seconds=31)  # the queue's visibility timeout: the message comes back
        assert await world.drain(resolver=world.resolver_with(issues=connect())) == 1
        # a resolution run again (say, by the repair upkeep) files nothing more
        await world.resolver_with(issues=connect()).resolve("inc-0001", "system")

        issues = {i["title"]: i for i in linear.issues.values()}
        assert len(linear.created()) == 3  # two follow-ups and the postmortem, once each
        pool = issues["Alert on pool exhaustion"]
        runbook = issues["Write the failover runbook"]
        assert pool["assignee"]["id"] == USERS[1]["id"]  # bob, the owner
        assert runbook.get("assignee") is None
        assert "Follow-up from incident inc-0001" in pool["description"]
        incident = await world.incident()
        assert [f.issue.url for f in incident.followups if f.issue] == [
            pool["url"],
            runbook["url"],
        ]
        filed = await world.records(AuditEventType.FOLLOWUP_FILED)
        assert sorted(r.data["url"] for r in filed) == sorted([pool["url"], runbook["url"]])
        [postmortem] = [i for t, i in issues.items() if t.startswith("Postmortem:")]
        assert "## Follow-ups" in postmortem["description"]
        assert f"(<{pool['url']}>)" in postmortem["description"]
        assert f"(<{runbook['url']}>)" in postmortem["description"]
    finally:
        await world.aclose()
