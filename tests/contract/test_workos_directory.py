"""WorkOS Directory Sync as the Directory port: the shared suite against the fake WorkOS, with
two users a page so every listing spans pages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapters.workos.directory import Limits, WorkOSDirectory
from tests.contract.directory_suite import DirectoryContract
from tests.support.workos import workos_world


class TestWorkOSDirectory(DirectoryContract):
    @pytest.fixture
    async def directory(self, tmp_path: Path) -> AsyncIterator[WorkOSDirectory]:
        async with workos_world(tmp_path, limits=Limits(page_size=2)) as world:
            yield world.directory
            assert world.fake.violations == []
