"""The brief suggests the service's owners from the code host's CODEOWNERS, and a code host that
fails or hangs never holds the room up."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from incident_response.adapters.embedded.db import Database
from incident_response.domain.incident import IncidentStatus
from incident_response.http import VendorError
from incident_response.services import war_room as war_room_module
from tests.support.clock import ManualClock
from tests.unit.test_war_room import build_world


class Owners:
    def __init__(
        self, owners: list[str] | None = None, *, error: Exception | None = None, hang: bool = False
    ) -> None:
        self._owners = owners or []
        self._error = error
        self._hang = hang
        self.asked: list[str] = []

    async def recent_changes(self, **kwargs: Any) -> list[Any]:
        return []

    async def owners(self, *, service: str) -> list[str]:
        self.asked.append(service)
        if self._hang:
            await asyncio.Event().wait()
        if self._error is not None:
            raise self._error
        return self._owners


async def brief(db: Database, clock: ManualClock, tmp_path: Path, code_host: Any) -> str:
    w = await build_world(db, clock, tmp_path / "roster.yaml", code_host=code_host)
    incident = await w.open_incident()
    done = await w.assembler.assemble(incident.id)
    assert done.status is IncidentStatus.ASSEMBLED
    by_key = {m.key: m for m in await w.messages(incident.id)}
    return "\n".join(by_key[f"{incident.id}:context"].sections)


async def test_the_brief_suggests_the_owners_in_one_line(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    host = Owners(["@acme/payments", "ann@example.com"])
    text = await brief(db, clock, tmp_path, host)
    assert "Suggested owners (CODEOWNERS): @acme/payments, ann@example.com" in text
    assert host.asked == ["checkout"]


async def test_no_owners_known_adds_no_line(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    assert "Suggested owners" not in await brief(db, clock, tmp_path, Owners([]))


async def test_a_failing_code_host_is_said_and_the_room_assembles(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    host = Owners(error=VendorError("github", "CODEOWNERS", "HTTP 502", transient=True))
    text = await brief(db, clock, tmp_path, host)
    assert "Suggested owners (CODEOWNERS): not available (" in text
    assert "HTTP 502" in text


async def test_a_hanging_code_host_is_given_up_on(
    db: Database, clock: ManualClock, tmp_path: Path, monkeypatch: Any
) -> None:
    monkeypatch.setattr(war_room_module, "OWNERS_DEADLINE_SECONDS", 0.05)
    text = await brief(db, clock, tmp_path, Owners(hang=True))
    assert "Suggested owners (CODEOWNERS): not available (no answer within 0.05 s)" in text
