"""Conformance suite for the IssueTracker port.

Subclass `IssueTrackerContract` and provide:
- `tracker`: the adapter under test, with nothing filed;
- `filed_text`: an async callable (FiledPostmortem -> the text people see in the tracker).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from incident_response.domain.context import FiledPostmortem
from incident_response.ports import IssueTracker

FiledText = Callable[[FiledPostmortem], Awaitable[str]]

BODY = "## Summary\n\nCheckout returned errors for 12 minutes.\n"


class IssueTrackerContract:
    async def test_adapter_implements_the_port(self, tracker: IssueTracker) -> None:
        assert isinstance(tracker, IssueTracker)

    async def test_filing_returns_where_to_find_it(
        self, tracker: IssueTracker, filed_text: FiledText
    ) -> None:
        filed = await tracker.file_postmortem(
            key="postmortem:inc-1", title="Postmortem: checkout errors", body=BODY
        )
        assert filed.key == "postmortem:inc-1"
        assert filed.id
        assert filed.url
        text = await filed_text(filed)
        assert "Checkout returned errors for 12 minutes." in text
        assert "Postmortem: checkout errors" in text

    async def test_find_returns_what_was_filed(self, tracker: IssueTracker) -> None:
        filed = await tracker.file_postmortem(key="postmortem:inc-2", title="PM", body=BODY)
        assert await tracker.find_postmortem("postmortem:inc-2") == filed

    async def test_nothing_is_found_for_an_unfiled_key(self, tracker: IssueTracker) -> None:
        assert await tracker.find_postmortem("postmortem:never") is None

    async def test_filing_a_key_again_returns_the_first_and_keeps_its_text(
        self, tracker: IssueTracker, filed_text: FiledText
    ) -> None:
        first = await tracker.file_postmortem(key="postmortem:inc-3", title="PM", body=BODY)
        again = await tracker.file_postmortem(
            key="postmortem:inc-3", title="PM (retry)", body="## Summary\n\nA different draft.\n"
        )
        assert again == first
        assert "A different draft." not in await filed_text(first)

    async def test_concurrent_filings_of_one_key_file_once(self, tracker: IssueTracker) -> None:
        results = await asyncio.gather(
            *(
                tracker.file_postmortem(key="postmortem:inc-4", title="PM", body=BODY)
                for _ in range(4)
            )
        )
        assert len({r.id for r in results}) == 1

    async def test_different_keys_are_different_postmortems(self, tracker: IssueTracker) -> None:
        a = await tracker.file_postmortem(key="postmortem:inc-5", title="PM", body=BODY)
        b = await tracker.file_postmortem(key="postmortem:inc-6", title="PM", body=BODY)
        assert a.id != b.id
        assert a.url != b.url

    async def test_a_followup_is_filed_once_per_id(self, tracker: IssueTracker) -> None:
        first = await tracker.file_followup(
            postmortem_key="postmortem:inc-5",
            followup_id="fu-1",
            title="Alert on pool exhaustion",
            body="Follow-up from incident inc-5.",
        )
        again = await tracker.file_followup(
            postmortem_key="postmortem:inc-5",
            followup_id="fu-1",
            title="Alert on pool exhaustion (retry)",
            body="Follow-up from incident inc-5.",
        )
        other = await tracker.file_followup(
            postmortem_key="postmortem:inc-5",
            followup_id="fu-2",
            title="Write the runbook",
            body="Follow-up from incident inc-5.",
        )
        assert first.url
        assert again == first
        assert other.id != first.id
