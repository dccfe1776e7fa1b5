"""The built-in status page against the StatusPage suite."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from tests.contract.statuspage_suite import PublicBodies, StatusPageContract
from tests.support.clock import ManualClock


class TestBuiltinStatusPage(StatusPageContract):
    @pytest.fixture
    def status_page(self, db: Database, clock: ManualClock) -> BuiltinStatusPage:
        return BuiltinStatusPage(db, base_url="http://127.0.0.1:8080", clock=clock)

    @pytest.fixture
    def public_bodies(self, status_page: BuiltinStatusPage) -> PublicBodies:
        async def bodies(incident_id: str) -> list[str]:
            doc = await status_page.incidents()
            return [
                u["body"]
                for i in doc["incidents"]
                if i["id"] == incident_id
                for u in i["incident_updates"]
            ]

        return bodies
