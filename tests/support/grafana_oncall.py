"""Grafana OnCall adapter built the way `serve` builds it (settings -> integrations -> factory),
against the fake Grafana OnCall, over a roster it falls back on, with time the test moves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from incident_response import integrations
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.roster import Roster, RosterDirectory, RosterOnCall
from incident_response.adapters.grafana.oncall import GrafanaOnCall
from incident_response.config import load_settings
from incident_response.http import OutboundHttp
from tests.fakes.grafana_oncall import FakeGrafanaOnCall
from tests.support.clock import ManualClock
from tests.support.workos import Ticks

TOKEN = "oncall-token"


@dataclass
class OnCallWorld:
    fake: FakeGrafanaOnCall
    oncall: GrafanaOnCall
    http: OutboundHttp
    ticks: Ticks
    clock: ManualClock
    roster: Roster


@asynccontextmanager
async def oncall_world(
    roster_path: Path, *, call_timeout: float = 2.0, latency: float = 0.0
) -> AsyncIterator[OnCallWorld]:
    """`roster_path` must hold the roster already (people, rotations the fallback answers)."""
    ticks = Ticks()
    clock = ManualClock()
    async with FakeGrafanaOnCall(token=TOKEN, latency=latency) as fake:
        settings = load_settings(
            {
                "GRAFANA_ONCALL_TOKEN": TOKEN,
                "GRAFANA_ONCALL_API_URL": fake.url,
                "INCIDENT_RESPONSE_HTTP_CALL_TIMEOUT_SECONDS": str(call_timeout),
            }
        )
        roster = Roster.load(roster_path)
        http = OutboundHttp(
            default_timeout=call_timeout, sleep=ticks.sleep, monotonic=ticks.monotonic
        )
        wiring = integrations.Wiring(
            settings=settings,
            http=http,
            clock=clock,
            directory=RosterDirectory(roster),
            oncall=RosterOnCall(roster),
            drafter=BuiltinDrafter(clock=clock),
        )
        try:
            built = await integrations.contributions(wiring)
            oncall = built["grafana-oncall"].oncall
            assert isinstance(oncall, GrafanaOnCall)
            yield OnCallWorld(fake, oncall, http, ticks, clock, roster)
        finally:
            await http.aclose()
