"""The roster file: what an operator sees when it is wrong, rotations over time, reloading."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.adapters.embedded.roster import (
    SAMPLE_ROSTER,
    Handover,
    Roster,
    RosterError,
    RosterOnCall,
    Rotation,
    parse_roster,
    write_sample_roster,
)

PEOPLE = """
people:
  - {name: Alice, email: alice@example.com}
  - {name: Bob, email: bob@example.com}
  - {name: Carol, email: carol@example.com}
"""


def roster(extra: str = "") -> str:
    return PEOPLE + extra


@pytest.mark.parametrize(
    ("text", "where", "problem"),
    [
        ("people: [", "line 1", "not valid YAML"),
        ("- alice", "", "expected a mapping"),
        ("people: []", "people", "lists nobody"),
        ("people:\n  - {name: A, email: not-an-email}", "people[0].email", "not an e-mail"),
        ("people:\n  - {email: a@example.com}", "people[0].name", "Field required"),
        (
            "people:\n  - {name: A, email: a@example.com, timezone: Mars/Olympus}",
            "people[0].timezone",
            "unknown timezone",
        ),
        ("people:\n  - {name: A, email: a@example.com, pager: yes}", "people[0].pager", "Extra"),
        (
            roster("  - {name: Al, email: Alice@Example.com}\n"),
            "people[3].email",
            "listed twice",
        ),
        (
            roster("teams: {payments: [alice@example.com, zed@example.com]}"),
            "teams.payments[1]",
            "zed@example.com is not listed under people",
        ),
        (
            roster("services: {checkout: payments}"),
            "services.checkout",
            "team 'payments' is not listed",
        ),
        (
            roster("rotations: {nowhere: {primary: alice@example.com}}"),
            "rotations.nowhere",
            "not a team, a service or `default`",
        ),
        (
            roster("rotations: {default: {people: [alice@example.com, zed@example.com]}}"),
            "rotations.default.people[1]",
            "zed@example.com is not listed",
        ),
        (
            roster("rotations: {default: {primary: alice@example.com, people: [bob@example.com]}}"),
            "rotations.default",
            "either `people`",
        ),
        (
            roster("rotations: {default: {secondary: bob@example.com}}"),
            "rotations.default",
            "needs `people` or a `primary`",
        ),
        (
            roster("rotations: {default: {people: [bob@example.com], handover: funday 09:00}}"),
            "rotations.default.handover",
            "funday",
        ),
        (
            roster("rotations: {default: {people: [bob@example.com], handover: monday 25:00}}"),
            "rotations.default.handover",
            "not a time of day",
        ),
        (
            roster("rotations: {default: {people: [bob@example.com, bob@example.com]}}"),
            "rotations.default",
            "twice",
        ),
        (
            roster("approvers: [mallory@example.com]"),
            "approvers[0]",
            "mallory@example.com is not listed",
        ),
    ],
)
def test_a_bad_roster_names_the_file_the_place_and_the_problem(
    text: str, where: str, problem: str
) -> None:
    with pytest.raises(RosterError) as caught:
        parse_roster(text, source="/data/roster.yaml")
    message = str(caught.value)
    assert message.startswith("roster /data/roster.yaml: ")
    assert where in message
    assert problem in message


def test_the_sample_roster_is_valid_and_realistic() -> None:
    data = parse_roster(SAMPLE_ROSTER)
    assert len(data.people) >= 4
    assert len(data.teams) >= 2
    assert {"checkout", "payments", "api"} <= set(data.services)
    for service in ("checkout", "payments", "api", "something-new"):
        shift = data.shift(service, datetime(2026, 11, 26, 9, 0, tzinfo=UTC))
        assert shift.primary is not None
        assert shift.secondary is not None
        assert shift.primary != shift.secondary


def test_the_sample_roster_is_written_once_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "data" / "roster.yaml"
    assert write_sample_roster(path) is True
    assert Roster.load(path).data().person("alice@example.com") is not None
    path.write_text(roster(), encoding="utf-8")
    assert write_sample_roster(path) is False
    assert path.read_text(encoding="utf-8") == roster()
    assert [p.name for p in path.parent.iterdir()] == ["roster.yaml"]


def test_a_missing_roster_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(RosterError, match="does not exist"):
        Roster.load(tmp_path / "roster.yaml")


def rewrite(path: Path, text: str) -> None:
    """Write and move the mtime on, as an editor saving a minute later would."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    path.write_text(text, encoding="utf-8")
    os.utime(path, ns=(before + 60 * 10**9, before + 60 * 10**9))


def test_an_edited_roster_is_picked_up(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    rewrite(path, roster("rotations: {default: {primary: alice@example.com}}"))
    loaded = Roster.load(path)
    at = datetime(2026, 11, 26, tzinfo=UTC)
    assert loaded.data().shift("checkout", at).primary.email == "alice@example.com"  # type: ignore[union-attr]
    rewrite(path, roster("rotations: {default: {primary: bob@example.com}}"))
    assert loaded.data().shift("checkout", at).primary.email == "bob@example.com"  # type: ignore[union-attr]


async def test_a_broken_edit_keeps_the_last_good_roster(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "roster.yaml"
    rewrite(path, roster("rotations: {default: {primary: alice@example.com}}"))
    loaded = Roster.load(path)
    oncall = RosterOnCall(loaded)
    rewrite(path, roster("rotations: {default: {primary: zed@example.com}}"))
    shift = await oncall.shift("checkout", at=datetime(2026, 11, 26, tzinfo=UTC))
    assert shift.primary is not None
    assert shift.primary.email == "alice@example.com"
    assert loaded.last_error is not None
    assert "zed@example.com" in str(loaded.last_error)
    assert any("zed@example.com" in r.getMessage() for r in caplog.records)
    rewrite(path, roster("rotations: {default: {primary: carol@example.com}}"))
    shift = await oncall.shift("checkout", at=datetime(2026, 11, 26, tzinfo=UTC))
    assert shift.primary is not None
    assert shift.primary.email == "carol@example.com"
    assert loaded.last_error is None


async def test_rotation_lookup_prefers_service_then_team_then_default(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    rewrite(
        path,
        roster(
            """
teams: {payments: [alice@example.com, bob@example.com], platform: [carol@example.com]}
services: {checkout: payments, payments: payments, api: platform}
rotations:
  checkout: {primary: bob@example.com}
  payments: {primary: alice@example.com}
  default: {primary: carol@example.com}
"""
        ),
    )
    oncall = RosterOnCall(Roster.load(path))
    at = datetime(2026, 11, 26, tzinfo=UTC)
    primaries = {
        service: (await oncall.shift(service, at=at)).primary
        for service in ("checkout", "payments", "api", "unknown")
    }
    assert {s: p.email if p else None for s, p in primaries.items()} == {
        "checkout": "bob@example.com",
        "payments": "alice@example.com",
        "api": "carol@example.com",
        "unknown": "carol@example.com",
    }


async def test_no_rotation_at_all_means_nobody_on_call(tmp_path: Path) -> None:
    path = tmp_path / "roster.yaml"
    rewrite(path, roster())
    shift = await RosterOnCall(Roster.load(path)).shift("checkout", at=datetime.now(UTC))
    assert shift.primary is None
    assert shift.secondary is None


def test_a_handover_in_local_time_follows_daylight_saving() -> None:
    rotation = Rotation(
        people=("alice@example.com", "bob@example.com"),
        handover=Handover.parse("sunday 09:00"),
        timezone="Europe/London",
        start=date(2026, 3, 1),
    )
    london = ZoneInfo("Europe/London")
    # clocks go forward on 2026-03-29: the 09:00 handover is 08:00 UTC from then on
    before_dst = datetime(2026, 3, 22, 9, 0, tzinfo=london)
    after_dst = datetime(2026, 3, 29, 9, 0, tzinfo=london)
    # alice has the weeks from 1, 15 and 29 March, bob those from 8 and 22 March
    assert rotation.on_call(before_dst - timedelta(minutes=1))[0] == "alice@example.com"
    assert rotation.on_call(before_dst)[0] == "bob@example.com"
    assert rotation.on_call(after_dst - timedelta(minutes=1))[0] == "bob@example.com"
    assert rotation.on_call(after_dst)[0] == "alice@example.com"
    assert after_dst.astimezone(UTC).time() == time(8, 0)


def test_a_rotation_of_one_has_no_secondary() -> None:
    rotation = Rotation(people=("alice@example.com",))
    assert rotation.on_call(datetime(2030, 5, 5, tzinfo=UTC)) == ("alice@example.com", None)


emails = st.lists(
    st.from_regex(r"[a-z]{1,8}@example\.com", fullmatch=True), min_size=1, max_size=6, unique=True
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1), timezones=st.just(UTC)
)
zones = st.sampled_from(
    ["UTC", "Europe/London", "America/New_York", "Asia/Kolkata", "Australia/Sydney"]
)


@given(people=emails, at=instants, zone=zones, weekday=st.integers(0, 6), hour=st.integers(0, 23))
def test_the_pager_moves_one_person_on_each_week(
    people: list[str], at: datetime, zone: str, weekday: int, hour: int
) -> None:
    rotation = Rotation(
        people=tuple(people),
        handover=Handover(weekday=weekday, at=time(hour)),
        timezone=zone,
        start=date(2024, 1, 1),
    )
    primary, secondary = rotation.on_call(at)
    assert primary in people
    if len(people) == 1:
        assert secondary is None
    else:
        assert secondary == people[(people.index(primary) + 1) % len(people)]
    # one week later on the local wall clock, the pager has moved to the next person
    local = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None) + timedelta(weeks=1)
    next_week = local.replace(tzinfo=ZoneInfo(zone), fold=0).astimezone(UTC)
    if next_week.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == local:  # not in a DST gap
        assert rotation.on_call(next_week)[0] == people[(people.index(primary) + 1) % len(people)]
    # and after a full cycle of weeks it is back
    cycle = at.astimezone(ZoneInfo(zone)).replace(tzinfo=None) + timedelta(weeks=len(people))
    back = cycle.replace(tzinfo=ZoneInfo(zone)).astimezone(UTC)
    if back.astimezone(ZoneInfo(zone)).replace(tzinfo=None) == cycle:
        assert rotation.on_call(back)[0] == primary


@given(at=instants)
def test_the_first_person_holds_the_first_week(at: datetime) -> None:
    rotation = Rotation(
        people=("a@example.com", "b@example.com", "c@example.com"),
        handover=Handover.parse("monday 09:00"),
        start=date(2024, 1, 1),
    )
    first = datetime(2024, 1, 1, 9, 0, tzinfo=UTC)
    week = (at - first) // timedelta(weeks=1)
    assert rotation.on_call(at)[0] == rotation.people[week % 3]
