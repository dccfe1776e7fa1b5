"""The real embedded store and queue, on the per-test SQLite database."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.store import SqliteIncidentStore
from tests.support.clock import ManualClock


@pytest.fixture
async def store(db: Database, clock: ManualClock) -> SqliteIncidentStore:
    return await SqliteIncidentStore(db=db, clock=clock).open()


@pytest.fixture
async def queue(db: Database, clock: ManualClock) -> SqliteEventQueue:
    return await SqliteEventQueue(db=db, clock=clock).open()
