"""Routing rules in the roster file (`routing:`): validated like the rest of it, read live, and
overridden by INCIDENT_RESPONSE_ROUTING when that is set."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import pytest

from incident_response.adapters.embedded.roster import Roster, RosterError, parse_roster
from incident_response.bootstrap import build
from incident_response.config import load_settings
from incident_response.domain.alert import Alert, AlertEventKind, AlertSource, Severity
from incident_response.domain.routing import RouteAction
from tests.support.clock import ManualClock
from tests.unit.commands.world import BASE_URL, ROSTER

STAGING_QUIET = """\
routing:
  - {name: staging, labels: {env: "staging*"}, action: ignore}
  - {min_severity: P4, action: open}
"""


def staging_alert(at: datetime, group: str = "G1", service: str = "checkout") -> Alert:
    return Alert(
        source=AlertSource.ALERTMANAGER,
        kind=AlertEventKind.FIRING,
        source_event="firing",
        alert_group_id=group,
        title="Disk full on staging",
        labels={"service": service, "env": "staging-eu", "severity": "info"},
        severity=Severity.P4,
        fired_at=at,
        received_at=at,
        delivery_id=f"delivery-{group}",
    )


def write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()  # a new mtime even within the filesystem's clock tick
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_the_roster_names_a_bad_routing_rule(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    write(path, ROSTER + "routing:\n  - {action: open}\n  - {name: loud, action: shout}\n")

    with pytest.raises(RosterError) as refused:
        Roster.load(path)

    assert "routing: routing rule 2 ('loud'): action: Input should be" in str(refused.value)


def test_the_roster_routing_rules_are_parsed_like_the_settings() -> None:
    data = parse_roster(ROSTER + STAGING_QUIET)

    assert data.routing is not None
    assert [(r.name, r.action) for r in data.routing] == [
        ("staging", RouteAction.IGNORE),
        ("rule 2", RouteAction.OPEN),
    ]
    assert parse_roster(ROSTER).routing is None


async def test_roster_rules_are_read_live_and_the_setting_overrides_them(
    tmp_path: Path, clock: ManualClock
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    write(data / "roster.yaml", ROSTER + STAGING_QUIET)
    app = await build(
        load_settings({"INCIDENT_RESPONSE_DATA_DIR": str(data)}), base_url=BASE_URL, clock=clock
    )
    try:
        first = staging_alert(clock.now(), "G1")
        await app.store.record_alert(first)
        ignored = await app.opener.open_or_attach(first)
        write(data / "roster.yaml", ROSTER)  # the rules removed while serving: the default
        second = staging_alert(clock.now(), "G2")
        await app.store.record_alert(second)
        still_p4 = await app.opener.open_or_attach(second)
        write(data / "roster.yaml", ROSTER + "routing: []\n")  # open everything
        third = staging_alert(clock.now(), "G3")
        await app.store.record_alert(third)
        opened = await app.opener.open_or_attach(third)
    finally:
        await app.aclose()

    assert ignored.action == "ignored"
    assert still_p4.action == "ignored"  # the shipped default records P4
    assert opened.action == "opened"

    overridden = await build(
        load_settings({"INCIDENT_RESPONSE_DATA_DIR": str(data), "INCIDENT_RESPONSE_ROUTING": "[]"}),
        base_url=BASE_URL,
        clock=clock,
    )
    try:
        write(data / "roster.yaml", ROSTER + STAGING_QUIET)
        fourth = staging_alert(clock.now(), "G4", service="search")
        await overridden.store.record_alert(fourth)
        outcome = await overridden.opener.open_or_attach(fourth)
    finally:
        await overridden.aclose()

    assert outcome.action == "opened"
