"""The `world` fixture: the application built by the composition root on a fresh data dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.clock import ManualClock
from tests.unit.commands.world import World, build_world


@pytest.fixture
async def world(clock: ManualClock, tmp_path: Path) -> AsyncIterator[World]:
    built = await build_world(tmp_path, clock)
    try:
        yield built
    finally:
        await built.aclose()
