"""Conformance suite for the StatusPage port.

Subclass `StatusPageContract` and provide:
- `status_page`: the adapter under test, on an empty page;
- `public_bodies`: an async callable (status page incident id -> the update bodies the public
  sees, in any order), e.g. read from the built-in page's JSON or a Statuspage fake's records.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import pytest

from incident_response.domain.context import Impact, PublicStatus, PublishRequest
from incident_response.domain.errors import NotFound
from incident_response.ports import StatusPage

PublicBodies = Callable[[str], Awaitable[list[str]]]


def request(key: str, body: str, **fields: object) -> PublishRequest:
    values: dict[str, object] = {
        "key": key,
        "incident_name": "Checkout errors",
        "body": body,
        "status": PublicStatus.INVESTIGATING,
        "impact": Impact.MAJOR,
    }
    values.update(fields)
    return PublishRequest.model_validate(values)


class StatusPageContract:
    async def test_adapter_implements_the_port(self, status_page: StatusPage) -> None:
        assert isinstance(status_page, StatusPage)

    async def test_the_first_update_creates_a_public_incident(
        self, status_page: StatusPage, public_bodies: PublicBodies
    ) -> None:
        published = await status_page.publish(request("d1:1", "We are investigating errors."))
        assert published.key == "d1:1"
        assert published.status_page_incident_id
        assert published.update_id
        assert published.published_at.tzinfo is not None
        assert await public_bodies(published.status_page_incident_id) == [
            "We are investigating errors."
        ]

    async def test_a_later_update_joins_the_same_incident(
        self, status_page: StatusPage, public_bodies: PublicBodies
    ) -> None:
        first = await status_page.publish(request("d1:1", "Investigating."))
        second = await status_page.publish(
            request(
                "d2:1",
                "A fix is in place; we are monitoring.",
                status=PublicStatus.MONITORING,
                status_page_incident_id=first.status_page_incident_id,
            )
        )
        assert second.status_page_incident_id == first.status_page_incident_id
        assert second.update_id != first.update_id
        assert sorted(await public_bodies(first.status_page_incident_id)) == sorted(
            ["Investigating.", "A fix is in place; we are monitoring."]
        )

    async def test_publishing_a_key_again_publishes_nothing_new(
        self, status_page: StatusPage, public_bodies: PublicBodies
    ) -> None:
        first = await status_page.publish(request("d1:1", "Investigating."))
        again = await status_page.publish(request("d1:1", "Investigating."))
        assert again == first
        assert await public_bodies(first.status_page_incident_id) == ["Investigating."]

    async def test_a_retried_follow_up_publishes_once(
        self, status_page: StatusPage, public_bodies: PublicBodies
    ) -> None:
        first = await status_page.publish(request("d1:1", "Investigating."))
        follow = request(
            "d2:1", "Identified.", status_page_incident_id=first.status_page_incident_id
        )
        results = await asyncio.gather(*(status_page.publish(follow) for _ in range(3)))
        assert len({r.update_id for r in results}) == 1
        assert sorted(await public_bodies(first.status_page_incident_id)) == [
            "Identified.",
            "Investigating.",
        ]

    async def test_find_published_recovers_an_earlier_publish(
        self, status_page: StatusPage
    ) -> None:
        published = await status_page.publish(request("d7:2", "Investigating."))
        assert await status_page.find_published("d7:2") == published

    async def test_find_published_knows_nothing_of_unpublished_keys(
        self, status_page: StatusPage
    ) -> None:
        assert await status_page.find_published("d404:1") is None

    async def test_a_resolved_update_is_published(
        self, status_page: StatusPage, public_bodies: PublicBodies
    ) -> None:
        first = await status_page.publish(request("d1:1", "Investigating."))
        await status_page.publish(
            request(
                "d9:1",
                "This incident has been resolved.",
                status=PublicStatus.RESOLVED,
                impact=Impact.NONE,
                status_page_incident_id=first.status_page_incident_id,
            )
        )
        assert "This incident has been resolved." in await public_bodies(
            first.status_page_incident_id
        )

    async def test_an_update_to_an_unknown_incident_is_not_found(
        self, status_page: StatusPage
    ) -> None:
        with pytest.raises(NotFound):
            await status_page.publish(
                request("d1:1", "Investigating.", status_page_incident_id="nosuchincident")
            )
        assert await status_page.find_published("d1:1") is None
