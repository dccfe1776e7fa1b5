"""The roster file as Directory and OnCall: the shared suites, fed from a YAML file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from incident_response.adapters.embedded.roster import Roster, RosterDirectory, RosterOnCall
from tests.contract import directory_suite, oncall_suite
from tests.contract.directory_suite import DirectoryContract
from tests.contract.oncall_suite import OnCallContract

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


def directory_yaml(seed: directory_suite.DirectorySeed) -> dict[str, Any]:
    return {
        "people": [
            {"name": p.name, "email": p.email, "chat_id": p.chat_id, "timezone": p.timezone}
            for p in seed.people
        ],
        "teams": {team: list(members) for team, members in seed.teams.items()},
        "services": dict(seed.services),
        "approvers": list(seed.approvers),
    }


def oncall_yaml(seed: oncall_suite.OnCallSeed) -> dict[str, Any]:
    emails = sorted(
        {e for r in seed.weekly.values() for e in r.people}
        | {e for r in seed.fixed.values() for e in (r.primary, r.secondary) if e}
    )
    teams: dict[str, list[str]] = {team: [] for team in seed.service_teams.values()}
    rotations: dict[str, Any] = {}
    for team, weekly in seed.weekly.items():
        teams[team] = list(weekly.people)
        rotations[team] = {
            "people": list(weekly.people),
            "handover": f"{WEEKDAYS[weekly.weekday]} {weekly.hour:02d}:00",
            "timezone": "UTC",
            "start": weekly.start.isoformat(),
        }
    for service, fixed in seed.fixed.items():
        rotations[service] = {"primary": fixed.primary, "secondary": fixed.secondary}
    return {
        "people": [{"name": e.split("@")[0].title(), "email": e} for e in emails],
        "teams": teams,
        "services": dict(seed.service_teams),
        "rotations": rotations,
    }


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return path


class TestRosterDirectory(DirectoryContract):
    @pytest.fixture
    def directory(self, tmp_path: Path) -> RosterDirectory:
        path = write(tmp_path / "roster.yaml", directory_yaml(directory_suite.SEED))
        return RosterDirectory(Roster.load(path))


class TestRosterOnCall(OnCallContract):
    @pytest.fixture
    def oncall(self, tmp_path: Path) -> RosterOnCall:
        path = write(tmp_path / "roster.yaml", oncall_yaml(oncall_suite.SEED))
        return RosterOnCall(Roster.load(path))
