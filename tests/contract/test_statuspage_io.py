"""The Statuspage.io adapter against the StatusPage suite, on the fake Statuspage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.statuspage.statuspage_io import StatuspageIo
from incident_response.http import OutboundHttp
from tests.contract.statuspage_suite import PublicBodies, StatusPageContract
from tests.fakes.statuspage import FakeStatuspage
from tests.support.statuspage import Sleeps, statuspage_io


@pytest.fixture
async def fake() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as server:
        yield server
        assert server.violations == []


@pytest.fixture
async def http() -> AsyncIterator[OutboundHttp]:
    outbound = OutboundHttp(sleep=Sleeps())
    yield outbound
    await outbound.aclose()


class TestStatuspageIo(StatusPageContract):
    @pytest.fixture
    def status_page(self, fake: FakeStatuspage, http: OutboundHttp) -> StatuspageIo:
        return statuspage_io(fake, http)

    @pytest.fixture
    def public_bodies(self, fake: FakeStatuspage) -> PublicBodies:
        async def bodies(incident_id: str) -> list[str]:
            return fake.bodies(incident_id)

        return bodies
