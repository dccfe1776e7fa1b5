"""Grafana OnCall as the OnCall port: the shared suite against the fake Grafana OnCall.

The suite asks by service at an instant; Grafana OnCall answers by alert group, for now. So
each service gets an alert group whose escalation chain pages the suite's rotation, the fake's
clock is set to the instant asked about, and the adapter is asked with the service's alert
group, walking alert group -> route -> escalation chain -> schedules -> users:
- checkout: a schedule rotating weekly through alice, bob, carol, then (after a wait) a schedule
  one turn ahead: the secondary is the next person of the rotation;
- api: a schedule with dan on call, then a step notifying carol by name.
An unknown service's alert group is unknown to Grafana OnCall: the roster answers.
The suite runs a second time without alert groups: then the roster answers every question.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from incident_response.domain.people import OnCallShift
from incident_response.ports import OnCall
from tests.contract import oncall_suite
from tests.contract.oncall_suite import FIRST_HANDOVER, OnCallContract
from tests.contract.test_embedded_roster import oncall_yaml
from tests.fakes.grafana_oncall import FakeGrafanaOnCall, Rotation
from tests.support.grafana_oncall import oncall_world


def seed(fake: FakeGrafanaOnCall) -> dict[str, str]:
    """The suite's schedule in Grafana OnCall; returns each service's alert group id."""
    s = oncall_suite.SEED
    people = {e for r in s.weekly.values() for e in r.people}
    people |= {e for r in s.fixed.values() for e in (r.primary, r.secondary) if e}
    ids = {email: fake.add_user(email) for email in sorted(people)}
    groups: dict[str, str] = {}
    for service, team in s.service_teams.items():
        if team in s.weekly:
            weekly = s.weekly[team]
            users = [ids[e] for e in weekly.people]
            primary = fake.add_schedule(f"{team} primary", rotation=Rotation(users, FIRST_HANDOVER))
            ahead = users[1:] + users[:1]
            secondary = fake.add_schedule(
                f"{team} secondary", rotation=Rotation(ahead, FIRST_HANDOVER)
            )
            chain = fake.add_chain(
                {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": primary},
                {"type": "wait", "duration": 300},
                {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": secondary},
            )
        else:
            fixed = s.fixed[service]
            schedule = fake.add_schedule(f"{service} fixed", fixed=[ids[fixed.primary]])
            chain = fake.add_chain(
                {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": schedule},
                {"type": "notify_persons", "persons_to_notify": [ids[fixed.secondary or ""]]},
            )
        groups[service] = fake.add_alert_group(chain)
    return groups


class ByAlertGroup:
    """The OnCall port as the suite uses it, answered through each service's alert group."""

    def __init__(self, oncall: OnCall, fake: FakeGrafanaOnCall, groups: dict[str, str]) -> None:
        self._oncall = oncall
        self._fake = fake
        self._groups = groups

    async def shift(
        self, service: str, *, at: datetime, alert_group_id: str | None = None
    ) -> OnCallShift:
        self._fake.now = lambda: at
        group = alert_group_id or self._groups.get(service, "INOSUCHGROUP")
        return await self._oncall.shift(service, at=at, alert_group_id=group)

    async def acknowledge(self, alert_group_id: str) -> bool:
        return await self._oncall.acknowledge(alert_group_id)


def write_roster(path: Path, *, rotations: bool = True) -> Path:
    """The suite's roster; without its rotations it can answer nobody, so a suite passing over
    it passes on Grafana OnCall's answers alone."""
    doc = oncall_yaml(oncall_suite.SEED)
    if not rotations:
        del doc["rotations"]
    path.write_text(yaml.safe_dump(doc), encoding="utf-8")
    return path


class TestGrafanaOnCall(OnCallContract):
    @pytest.fixture
    async def oncall(self, tmp_path: Path) -> AsyncIterator[OnCall]:
        roster = write_roster(tmp_path / "roster.yaml", rotations=False)
        async with oncall_world(roster) as world:
            world.fake.page_size = 2  # the chains' policies span pages
            yield ByAlertGroup(world.oncall, world.fake, seed(world.fake))
            assert world.fake.violations == []


class TestGrafanaOnCallWithoutAlertGroups(OnCallContract):
    @pytest.fixture
    async def oncall(self, tmp_path: Path) -> AsyncIterator[OnCall]:
        async with oncall_world(write_roster(tmp_path / "roster.yaml")) as world:
            seed(world.fake)
            yield world.oncall
            assert world.fake.calls == []  # the roster answered everything
