"""What every Scheduler must do (EventBridge Scheduler semantics). An adapter's test module
subclasses `SchedulerContract` and provides a `scheduler` fixture on the `clock` fixture (see
test_embedded_scheduler.py and README.md here). How schedules reach the queue when due is
adapter-specific (the adapter pushes them; nothing polls it) and tested there."""

from __future__ import annotations

from datetime import timedelta, timezone

import pytest

from incident_response.domain.errors import NotFound
from incident_response.domain.messages import QueueMessage, Schedule
from incident_response.ports import Scheduler
from tests.support.clock import ManualClock


def schedule(
    clock: ManualClock, name: str = "nudge.inc-1", *, every: float = 1800, **changes: object
) -> Schedule:
    base = Schedule(
        name=name,
        every_seconds=every,
        message=QueueMessage(type="STATUS_UPDATE_NUDGE", payload={"incident_id": "inc-1"}),
        group_id="inc-1",
        next_fire_at=clock.now() + timedelta(seconds=every),
    )
    return base.model_copy(update=changes)


class SchedulerContract:
    @pytest.fixture
    def scheduler(self) -> Scheduler:
        raise NotImplementedError("the adapter's test class provides a `scheduler` fixture")

    async def test_implements_the_port(self, scheduler: Scheduler) -> None:
        assert isinstance(scheduler, Scheduler)

    async def test_put_then_get_returns_the_schedule(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        nudge = schedule(clock, fired_count=2)

        await scheduler.put(nudge)

        assert await scheduler.get("nudge.inc-1") == nudge
        assert await scheduler.get("nudge.inc-2") is None

    async def test_put_replaces_a_schedule_of_the_same_name(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        await scheduler.put(schedule(clock, every=1800))
        faster = schedule(clock, every=600, group_id="inc-1b")

        await scheduler.put(faster)

        assert await scheduler.get("nudge.inc-1") == faster
        assert await scheduler.schedules() == [faster]

    async def test_a_disabled_schedule_is_kept_and_can_be_enabled_again(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        nudge = schedule(clock)
        await scheduler.put(nudge)

        await scheduler.disable("nudge.inc-1")
        assert await scheduler.get("nudge.inc-1") == nudge.model_copy(update={"enabled": False})
        assert await scheduler.schedules() == [nudge.model_copy(update={"enabled": False})]

        await scheduler.enable("nudge.inc-1")
        assert await scheduler.get("nudge.inc-1") == nudge

    async def test_enabling_or_disabling_an_unknown_schedule_is_not_found(
        self, scheduler: Scheduler
    ) -> None:
        with pytest.raises(NotFound):
            await scheduler.enable("nudge.nope")
        with pytest.raises(NotFound):
            await scheduler.disable("nudge.nope")

        assert await scheduler.schedules() == []

    async def test_delete_removes_and_deleting_again_is_harmless(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        await scheduler.put(schedule(clock, "nudge.inc-1"))
        await scheduler.put(schedule(clock, "nudge.inc-2"))

        await scheduler.delete("nudge.inc-1")
        await scheduler.delete("nudge.inc-1")

        assert await scheduler.get("nudge.inc-1") is None
        assert [s.name for s in await scheduler.schedules()] == ["nudge.inc-2"]

    async def test_schedules_lists_by_name_prefix_in_name_order(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        for name in ("sla.inc-2", "nudge.inc-2", "nudge.inc-1", "nudge_x", "Nudge.inc-3"):
            await scheduler.put(schedule(clock, name))

        assert [s.name for s in await scheduler.schedules("nudge.")] == [
            "nudge.inc-1",
            "nudge.inc-2",
        ]
        assert [s.name for s in await scheduler.schedules("sla.")] == ["sla.inc-2"]
        assert [s.name for s in await scheduler.schedules("nudge_")] == ["nudge_x"]
        assert len(await scheduler.schedules()) == 5

    async def test_times_in_other_zones_are_kept_as_the_same_instant(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        from_zone = clock.now().astimezone(timezone(timedelta(hours=-5)))

        await scheduler.put(schedule(clock, next_fire_at=from_zone))

        stored = await scheduler.get("nudge.inc-1")
        assert stored is not None
        assert stored.next_fire_at == clock.now()

    @pytest.mark.parametrize(
        "changes",
        [
            {"every_seconds": 0.0},
            {"every_seconds": -5.0},
            {"every_seconds": float("nan")},
            {"name": ""},
            {"group_id": ""},
        ],
    )
    async def test_a_bad_schedule_is_refused_and_stores_nothing(
        self, scheduler: Scheduler, clock: ManualClock, changes: dict[str, object]
    ) -> None:
        with pytest.raises(ValueError, match=r"every_seconds|name|group_id"):
            await scheduler.put(schedule(clock, **changes))

        assert await scheduler.schedules() == []

    @pytest.mark.parametrize(
        "name", ["nudge:inc-1", "sla/inc-1", "nudge inc-1", "nudge.ïnc-1", "n" * 65]
    )
    async def test_a_name_eventbridge_would_refuse_is_refused_and_stores_nothing(
        self, scheduler: Scheduler, clock: ManualClock, name: str
    ) -> None:
        with pytest.raises(ValueError, match="name"):
            await scheduler.put(schedule(clock, name))

        assert await scheduler.schedules() == []

    async def test_names_of_letters_digits_dash_underscore_and_dot_up_to_64_are_kept(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        longest = "sla.inc-0123456789_" + "x" * 45
        await scheduler.put(schedule(clock, longest))

        assert [s.name for s in await scheduler.schedules()] == [longest]

    async def test_a_once_schedule_may_have_no_period(
        self, scheduler: Scheduler, clock: ManualClock
    ) -> None:
        sla = schedule(clock, "sla.inc-1", once=True, every_seconds=0.0)

        await scheduler.put(sla)

        assert await scheduler.get("sla.inc-1") == sla
