"""Resolving an incident files its postmortem in Linear through the Resolver, once, with the
incident's severity as priority and its IC as assignee, even when the process dies between
Linear's answer and the record of it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.domain.alert import Severity
from incident_response.domain.context import FiledPostmortem
from tests.fakes.linear import FakeLinear
from tests.integration.linear.conftest import USERS, Connect
from tests.support.clock import ManualClock
from tests.unit.commands.world import build_world


class Crash(BaseException):
    """The process dying (a SIGKILL): no `except Exception` catches it."""


class DiesAfterFiling:
    """The tracker, in a process that dies as soon as Linear answered the filing."""

    def __init__(self, inner: LinearIssueTracker) -> None:
        self._inner = inner

    async def find_postmortem(self, key: str) -> FiledPostmortem | None:
        return await self._inner.find_postmortem(key)

    async def file_postmortem(self, **fields: Any) -> FiledPostmortem:
        await self._inner.file_postmortem(**fields)
        raise Crash("died before recording the postmortem")


async def test_a_resolution_dying_after_filing_leaves_one_linear_issue_assigned_to_the_ic(
    tmp_path: Path, linear: FakeLinear, connect: Connect
) -> None:
    world = await build_world(tmp_path, ManualClock())
    try:
        await world.open_incident(severity=Severity.P2, ic="alice@example.com")
        await world.command("resolve")

        try:
            await world.drain(resolver=world.resolver_with(issues=DiesAfterFiling(connect())))
        except Crash:
            pass
        else:
            raise AssertionError("the filing process should have died")
        world.clock.advance(seconds=31)  # the queue's visibility timeout: the message comes back
        assert await world.drain(resolver=world.resolver_with(issues=connect())) == 1

        [issue] = linear.issues.values()
        assert len(linear.created()) == 1
        assert issue["priority"] == 2  # P2: high
        assert issue["assignee"]["id"] == USERS[0]["id"]  # alice, the IC
        assert issue["title"].startswith("Postmortem: P2 Checkout error rate above 5%")
        incident = await world.incident()
        assert incident.postmortem is not None
        assert incident.postmortem.url == issue["url"]
        assert f"Postmortem draft filed: {issue['url']}" in await world.room_texts()
    finally:
        await world.aclose()
