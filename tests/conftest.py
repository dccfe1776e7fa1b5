"""Fixtures shared by every test layer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapters.embedded.db import Database
from tests.support.clock import ManualClock


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock()


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    """A fresh SQLite file per test (a real file, so WAL and reopening behave as in production)."""
    database = await Database(tmp_path / "incident-response.sqlite3").open()
    try:
        yield database
    finally:
        await database.close()
