"""The SQLite Credentials against the Credentials suite, plus how it keeps its table small."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.embedded.credentials import SqliteCredentials
from incident_response.adapters.embedded.db import Database
from tests.contract.credentials_suite import CredentialsContract, record
from tests.support.clock import ManualClock


class TestSqliteCredentials(CredentialsContract):
    @pytest.fixture
    async def credentials(self, db: Database, clock: ManualClock) -> SqliteCredentials:
        return await SqliteCredentials(db=db, clock=clock).open()

    @pytest.fixture
    async def credentials_elsewhere(
        self, db: Database, clock: ManualClock
    ) -> AsyncIterator[SqliteCredentials]:
        """Another connection to the same file, as the CLI's process opens it."""
        other = await Database(db.path).open()
        try:
            yield await SqliteCredentials(db=other, clock=clock).open()
        finally:
            await other.close()


async def test_expired_sessions_are_deleted_when_a_session_is_opened(
    db: Database, clock: ManualClock
) -> None:
    credentials = await SqliteCredentials(db=db, clock=clock).open()
    for n in range(5):
        await credentials.open_session(record(clock, f"{n}" * 64, hours=1))
    clock.advance(hours=2)

    await credentials.open_session(record(clock, "new" * 20))

    row = await db.fetchone("SELECT count(*) AS n FROM console_sessions")
    assert row is not None
    assert row["n"] == 1
