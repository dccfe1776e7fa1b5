"""The WorkOS Directory built the way `serve` builds it (settings -> integrations -> factory),
against the fake WorkOS, with a roster beside it, and time the test moves."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from incident_response import integrations
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.roster import Roster, RosterDirectory, RosterOnCall
from incident_response.adapters.workos.directory import Limits, WorkOSDirectory
from incident_response.config import load_settings
from incident_response.http import BreakerPolicy, CallPolicy, OutboundHttp
from tests.contract import directory_suite
from tests.fakes.workos import FakeWorkOS
from tests.support.clock import ManualClock

DIRECTORY = "directory_01HFAKEDIRECTORY000000000000"
OTHER_DIRECTORY = "directory_01HOTHERDIRECTORY00000000000"
API_KEY = "sk_test_fake"


class Ticks:
    """Monotonic time the test moves; `sleep` records waits and moves time instead of waiting."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@dataclass
class WorkOSWorld:
    fake: FakeWorkOS
    directory: WorkOSDirectory
    http: OutboundHttp
    ticks: Ticks
    clock: ManualClock
    groups: dict[str, str]


def seed_suite(fake: FakeWorkOS) -> dict[str, str]:
    """The Directory suite's people and teams in WorkOS, plus people who must not count: a
    suspended member of a team and someone of another directory. Returns team -> group id."""
    seed = directory_suite.SEED
    groups = {team: fake.add_group(DIRECTORY, team.title()) for team in seed.teams}
    for person in seed.people:
        first, _, last = person.name.partition(" ")
        member_of = [groups[t] for t, members in seed.teams.items() if person.email in members]
        fake.add_user(DIRECTORY, person.email, first_name=first, last_name=last, groups=member_of)
    fake.add_user(
        DIRECTORY,
        "eve@example.com",
        first_name="Eve",
        state="inactive",
        groups=[groups["platform"]],
    )
    fake.add_user(OTHER_DIRECTORY, "mallory@example.com", first_name="Mallory")
    return {team: group.id for team, group in groups.items()}


def suite_roster(path: Path) -> Path:
    """The roster beside WorkOS: chat ids (of those who have one), service owners, approvers.
    Its teams are empty: team members must come from WorkOS."""
    seed = directory_suite.SEED
    listed = [p for p in seed.people if p.chat_id or p.email in seed.approvers]
    doc: dict[str, Any] = {
        "people": [
            {"name": p.name, "email": p.email, "chat_id": p.chat_id, "timezone": p.timezone}
            for p in listed
        ],
        "teams": {team: [] for team in seed.teams},
        "services": dict(seed.services),
        "approvers": list(seed.approvers),
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


@asynccontextmanager
async def workos_world(
    tmp_path: Path,
    *,
    limits: Limits | None = None,
    call_timeout: float = 2.0,
    environ: dict[str, str] | None = None,
) -> AsyncIterator[WorkOSWorld]:
    ticks = Ticks()
    clock = ManualClock()
    async with FakeWorkOS(api_key=API_KEY, monotonic=ticks.monotonic) as fake:
        groups = seed_suite(fake)
        settings = load_settings(
            {
                "WORKOS_API_KEY": API_KEY,
                "WORKOS_DIRECTORY_ID": DIRECTORY,
                "WORKOS_TEAM_GROUP_MAP": json.dumps(groups),
                "WORKOS_API_URL": fake.url,
                "INCIDENT_RESPONSE_HTTP_CALL_TIMEOUT_SECONDS": str(call_timeout),
                **(environ or {}),
            }
        )
        roster = Roster.load(suite_roster(tmp_path / "roster.yaml"))
        http = OutboundHttp(
            default_timeout=call_timeout, sleep=ticks.sleep, monotonic=ticks.monotonic
        )
        wiring = integrations.Wiring(
            settings=settings,
            http=http,
            clock=clock,
            directory=RosterDirectory(roster, approvers=settings.approvers),
            oncall=RosterOnCall(roster),
            drafter=BuiltinDrafter(clock=clock),
        )
        try:
            built = await integrations.contributions(wiring)
            directory = built["workos"].directory
            assert isinstance(directory, WorkOSDirectory)
            if limits is not None:
                directory._limits = limits
            yield WorkOSWorld(fake, directory, http, ticks, clock, groups)
        finally:
            await http.aclose()


__all__ = [
    "API_KEY",
    "DIRECTORY",
    "OTHER_DIRECTORY",
    "BreakerPolicy",
    "CallPolicy",
    "Ticks",
    "WorkOSWorld",
    "seed_suite",
    "suite_roster",
    "workos_world",
]
