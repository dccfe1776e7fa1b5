"""Conformance suite for the OnCall port.

Subclass `OnCallContract` and provide an `oncall` fixture holding `SEED`'s schedule:
- team `payments` (owner of service `checkout`) rotates weekly through alice, bob and carol,
  handing over on Mondays at 09:00 UTC, alice first from Monday 2026-11-23; the secondary is the
  next person in the rotation;
- service `api` has a fixed primary dan and secondary carol.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from incident_response.domain.people import OnCallShift
from incident_response.ports import OnCall


@dataclass(frozen=True)
class WeeklyRotation:
    people: tuple[str, ...]
    weekday: int  # Monday is 0
    hour: int  # UTC
    start: date


@dataclass(frozen=True)
class FixedRotation:
    primary: str
    secondary: str | None = None


@dataclass(frozen=True)
class OnCallSeed:
    service_teams: dict[str, str]
    weekly: dict[str, WeeklyRotation]  # by team
    fixed: dict[str, FixedRotation]  # by service


ALICE, BOB, CAROL, DAN = (f"{n}@example.com" for n in ("alice", "bob", "carol", "dan"))
FIRST_HANDOVER = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)

SEED = OnCallSeed(
    service_teams={"checkout": "payments", "api": "platform"},
    weekly={
        "payments": WeeklyRotation((ALICE, BOB, CAROL), weekday=0, hour=9, start=date(2026, 11, 23))
    },
    fixed={"api": FixedRotation(primary=DAN, secondary=CAROL)},
)


def emails(shift: OnCallShift) -> tuple[str | None, str | None]:
    return (
        shift.primary.email if shift.primary else None,
        shift.secondary.email if shift.secondary else None,
    )


class OnCallContract:
    async def test_adapter_implements_the_port(self, oncall: OnCall) -> None:
        assert isinstance(oncall, OnCall)

    async def test_the_first_week_has_the_first_person_on_call(self, oncall: OnCall) -> None:
        shift = await oncall.shift("checkout", at=datetime(2026, 11, 26, 14, 0, tzinfo=UTC))
        assert emails(shift) == (ALICE, BOB)

    async def test_the_pager_passes_on_at_the_handover(self, oncall: OnCall) -> None:
        handover = FIRST_HANDOVER + timedelta(weeks=1)
        before = await oncall.shift("checkout", at=handover - timedelta(seconds=1))
        after = await oncall.shift("checkout", at=handover)
        assert emails(before) == (ALICE, BOB)
        assert emails(after) == (BOB, CAROL)

    async def test_the_rotation_wraps_around(self, oncall: OnCall) -> None:
        shift = await oncall.shift("checkout", at=FIRST_HANDOVER + timedelta(weeks=2, hours=1))
        assert emails(shift) == (CAROL, ALICE)
        later = await oncall.shift("checkout", at=FIRST_HANDOVER + timedelta(weeks=3, hours=1))
        assert emails(later) == (ALICE, BOB)

    async def test_the_answer_depends_on_the_instant_not_its_offset(self, oncall: OnCall) -> None:
        instant = FIRST_HANDOVER + timedelta(weeks=1, minutes=30)
        in_new_york = instant.astimezone(timezone(timedelta(hours=-5)))
        assert await oncall.shift("checkout", at=in_new_york) == await oncall.shift(
            "checkout", at=instant
        )

    async def test_a_fixed_pair_is_on_call_at_any_time(self, oncall: OnCall) -> None:
        for at in (FIRST_HANDOVER, FIRST_HANDOVER + timedelta(days=17, hours=5)):
            assert emails(await oncall.shift("api", at=at)) == (DAN, CAROL)

    async def test_shift_people_carry_their_names(self, oncall: OnCall) -> None:
        shift = await oncall.shift("api", at=FIRST_HANDOVER)
        assert shift.primary is not None
        assert shift.primary.name

    async def test_an_unknown_service_answers_without_failing(self, oncall: OnCall) -> None:
        shift = await oncall.shift("no-such-service", at=FIRST_HANDOVER)
        assert isinstance(shift, OnCallShift)
