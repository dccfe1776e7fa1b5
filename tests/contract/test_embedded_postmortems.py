"""Markdown postmortems against the IssueTracker suite."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_response.adapters.embedded.postmortems import MarkdownIssueTracker
from incident_response.domain.context import FiledPostmortem
from tests.contract.issue_tracker_suite import FiledText, IssueTrackerContract


class TestMarkdownIssueTracker(IssueTrackerContract):
    @pytest.fixture
    def tracker(self, tmp_path: Path) -> MarkdownIssueTracker:
        return MarkdownIssueTracker(tmp_path, base_url="http://127.0.0.1:8080")

    @pytest.fixture
    def filed_text(self, tracker: MarkdownIssueTracker) -> FiledText:
        async def text(filed: FiledPostmortem) -> str:
            found = await tracker.read(filed.id)
            assert found is not None
            return found

        return text

    async def test_the_url_is_the_console_page_of_the_file(
        self, tracker: MarkdownIssueTracker
    ) -> None:
        filed = await tracker.file_postmortem(key="inc-1", title="Postmortem: X", body="b")
        assert filed.url == f"http://127.0.0.1:8080/console/postmortems/{filed.id}"
        assert (await tracker.list())[0].url == filed.url
