"""Fixtures shared by every test layer."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapters.embedded.db import Database
from tests.support.clock import ManualClock

# pytest-xdist's workers run with COLUMNS=80 and LINES=24 in their environment; rich's consoles
# (created when the CLI module is imported) would freeze that width, and the CLI tests, which set
# COLUMNS for each invocation, would see their tables wrapped at 80 columns on a worker only.
for _variable in ("COLUMNS", "LINES"):
    os.environ.pop(_variable, None)


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
