"""LinearIssueTracker against the IssueTracker suite, over HTTP to the fake Linear (which refuses
any request Linear's published schema would refuse)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.linear.client import LinearGraphQL
from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.domain.context import FiledPostmortem
from incident_response.http import CallPolicy, OutboundHttp
from tests.contract.issue_tracker_suite import FiledText, IssueTrackerContract
from tests.fakes.linear import DEFAULT_TEAM, FakeLinear


class TestLinearIssueTracker(IssueTrackerContract):
    @pytest.fixture
    async def linear(self) -> AsyncIterator[FakeLinear]:
        async with FakeLinear() as fake:
            yield fake
        assert not fake.violations, fake.violations

    @pytest.fixture
    async def tracker(self, linear: FakeLinear) -> AsyncIterator[LinearIssueTracker]:
        http = OutboundHttp()
        client = http.vendor(
            "linear",
            base_url=linear.api_url,
            headers={"Authorization": linear.api_key},
            policy=CallPolicy(timeout=2.0),
        )
        yield LinearIssueTracker(LinearGraphQL(client), team_id=DEFAULT_TEAM["id"])
        await http.aclose()

    @pytest.fixture
    def filed_text(self, linear: FakeLinear) -> FiledText:
        async def text(filed: FiledPostmortem) -> str:
            issue = linear.issue_by_id(filed.id)
            return f"{issue['title']}\n\n{issue['description']}"

        return text
