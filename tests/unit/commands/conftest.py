"""The `world` fixture: real embedded adapters and services on a fresh SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_response.adapters.embedded.db import Database
from tests.support.clock import ManualClock
from tests.unit.commands.world import World, build_world


@pytest.fixture
async def world(db: Database, clock: ManualClock, tmp_path: Path) -> World:
    return await build_world(db, clock, tmp_path)
