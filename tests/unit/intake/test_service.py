"""AlertIntake: each delivery recorded once and enqueued once, in its storm's FIFO group."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.alert import Alert, AlertEventKind
from incident_response.domain.errors import InvalidAlert, StorageBusy
from incident_response.domain.messages import Delivery
from incident_response.intake import grafana_oncall
from incident_response.intake.service import AlertIntake, IntakeResult
from tests.support.clock import ManualClock
from tests.unit.intake.examples import alertmanager_body, encode, oncall_body

STORM = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}
MINUTE, HOUR = timedelta(minutes=1), timedelta(hours=1)


@pytest.fixture
def intake(store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock) -> AlertIntake:
    return AlertIntake(store=store, queue=queue, clock=clock)


async def drain(queue: SqliteEventQueue) -> list[Delivery]:
    """Every message on the queue, acking as it goes (a group yields one message at a time)."""
    seen: list[Delivery] = []
    while batch := await queue.receive(max_messages=10):
        for delivery in batch:
            seen.append(delivery)
            await queue.ack(delivery)
    return seen


async def test_a_firing_alert_is_recorded_and_enqueued_in_its_storm_group(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    result = await intake.accept("grafana-oncall", encode(oncall_body(labels=STORM)))

    assert result == IntakeResult(accepted=1, duplicates=0)
    [delivery] = await drain(queue)
    assert delivery.body.type == "ALERT_RECEIVED"
    assert delivery.group_id == "service=checkout|alertname=HighErrorRate"
    alert = Alert.model_validate(delivery.body.payload)
    assert alert.kind is AlertEventKind.FIRING
    assert alert.alert_group_id == "IGROUP0001"
    assert alert.raw == {}  # the body stays in the store; queue messages stay small


async def test_a_resolve_is_enqueued_as_alert_resolved(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    await intake.accept("grafana-oncall", encode(oncall_body("resolve", labels=STORM)))

    [delivery] = await drain(queue)
    assert delivery.body.type == "ALERT_RESOLVED"


@pytest.mark.parametrize(
    "event_type", ["acknowledge", "silence", "escalation", "unacknowledge", "personal notification"]
)
async def test_events_that_do_not_change_the_incident_are_recorded_only(
    intake: AlertIntake, queue: SqliteEventQueue, event_type: str
) -> None:
    body = encode(oncall_body(event_type))

    assert await intake.accept("grafana-oncall", body) == IntakeResult(1, 0)
    assert await intake.accept("grafana-oncall", body) == IntakeResult(0, 1)
    assert await queue.depth() == 0


async def test_an_alert_without_grouping_labels_is_grouped_by_its_alert_group(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    await intake.accept("grafana-oncall", encode(oncall_body(labels={"severity": "warning"})))

    [delivery] = await drain(queue)
    assert delivery.group_id == "grafana-oncall:IGROUP0001"


async def test_the_grouping_labels_are_configurable(
    store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    intake = AlertIntake(store=store, queue=queue, clock=clock, grouping_labels=("team",))
    await intake.accept("grafana-oncall", encode(oncall_body(labels={**STORM, "team": "pay"})))

    [delivery] = await drain(queue)
    assert delivery.group_id == "team=pay"


async def test_a_grouping_key_a_fifo_queue_would_refuse_becomes_a_digest(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    labels = {"service": "chèckout api", "alertname": "x" * 200}
    await intake.accept("grafana-oncall", encode(oncall_body(labels=labels)))

    [delivery] = await drain(queue)
    assert delivery.group_id.startswith("group-")
    assert len(delivery.group_id) <= 128


async def test_the_same_delivery_twice_is_one_record_and_one_message(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    body = encode(oncall_body(labels=STORM))

    first = await intake.accept("grafana-oncall", body)
    second = await intake.accept("grafana-oncall", body)

    assert (first, second) == (IntakeResult(1, 0), IntakeResult(0, 1))
    assert len(await drain(queue)) == 1


async def test_ten_concurrent_identical_deliveries_make_one_message(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    body = encode(oncall_body(labels=STORM))

    results = await asyncio.gather(*(intake.accept("grafana-oncall", body) for _ in range(10)))

    assert sum(r.accepted for r in results) == 1
    assert sum(r.duplicates for r in results) == 9
    assert len(await drain(queue)) == 1


async def test_a_recorded_but_never_enqueued_delivery_is_enqueued_on_redelivery(
    intake: AlertIntake, store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    body = encode(oncall_body(labels=STORM))
    [alert] = grafana_oncall.parse(body, received_at=clock.now(), severity_map={})
    await store.record_alert(alert)  # as if the process died right after recording

    result = await intake.accept("grafana-oncall", body)

    assert result == IntakeResult(accepted=0, duplicates=1)
    [delivery] = await drain(queue)
    assert delivery.body.payload["delivery_id"] == alert.delivery_id


async def test_a_processed_delivery_is_not_enqueued_again(
    intake: AlertIntake, store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    body = encode(oncall_body(labels=STORM))
    await intake.accept("grafana-oncall", body)
    [delivery] = await drain(queue)
    await store.mark_alert_processed(delivery.body.payload["delivery_id"], "inc-1")
    clock.advance(minutes=10)  # past the queue's dedup window

    assert await intake.accept("grafana-oncall", body) == IntakeResult(0, 1)
    assert await queue.depth() == 0


async def test_alertmanager_notifications_are_accepted_too(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    await intake.accept("alertmanager", encode(alertmanager_body("firing")))
    await intake.accept("alertmanager", encode(alertmanager_body("resolved")))

    deliveries = await drain(queue)
    assert [d.body.type for d in deliveries] == ["ALERT_RECEIVED", "ALERT_RESOLVED"]
    assert {d.group_id for d in deliveries} == {"service=checkout|alertname=HighErrorRate"}


async def test_the_trace_context_travels_with_the_message(
    intake: AlertIntake, queue: SqliteEventQueue
) -> None:
    traceparent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    await intake.accept(
        "grafana-oncall", encode(oncall_body()), {"Traceparent": traceparent, "X-Other": "1"}
    )

    [delivery] = await drain(queue)
    assert delivery.body.trace == {"traceparent": traceparent}


async def test_an_invalid_body_changes_nothing(
    intake: AlertIntake, store: SqliteIncidentStore, queue: SqliteEventQueue
) -> None:
    body = oncall_body()
    del body["alert_group"]["id"]

    with pytest.raises(InvalidAlert, match=r"alert_group\.id: field required"):
        await intake.accept("grafana-oncall", encode(body))

    assert await queue.depth() == 0
    assert await store.recent() == []


async def test_an_unknown_source_is_refused(intake: AlertIntake) -> None:
    with pytest.raises(InvalidAlert, match="source: unknown alert source 'pagerduty'"):
        await intake.accept("pagerduty", encode(oncall_body()))


class BusyFirst:
    """The store, busy (another process holds the lock) for the first `times` recordings."""

    def __init__(self, store: SqliteIncidentStore, times: int) -> None:
        self._store = store
        self.busy_left = times

    async def record_alert(self, alert: Alert) -> bool:
        if self.busy_left:
            self.busy_left -= 1
            raise StorageBusy("the database is busy: SQLITE_BUSY")
        return await self._store.record_alert(alert)

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)


async def test_storage_busy_for_a_moment_is_waited_out(
    store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    busy = BusyFirst(store, times=3)
    intake = AlertIntake(store=busy, queue=queue, clock=clock)  # type: ignore[arg-type]

    result = await intake.accept("grafana-oncall", encode(oncall_body(labels=STORM)))

    assert result == IntakeResult(accepted=1, duplicates=0)
    assert busy.busy_left == 0
    assert len(await drain(queue)) == 1


async def test_storage_busy_past_the_budget_is_reported_and_a_resend_completes_it(
    store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    body = encode(oncall_body(labels=STORM))
    busy = BusyFirst(store, times=10_000)
    impatient = AlertIntake(store=busy, queue=queue, clock=clock, busy_budget_seconds=0.2)  # type: ignore[arg-type]

    with pytest.raises(StorageBusy):
        await impatient.accept("grafana-oncall", body)
    assert await queue.depth() == 0

    result = await AlertIntake(store=store, queue=queue, clock=clock).accept("grafana-oncall", body)
    assert result == IntakeResult(accepted=1, duplicates=0)
    assert len(await drain(queue)) == 1


async def test_a_step_still_waiting_for_storage_at_the_end_of_the_budget_is_given_up(
    store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    class Stuck(BusyFirst):
        async def record_alert(self, alert: Alert) -> bool:
            await asyncio.Event().wait()  # a lock that is never released
            raise AssertionError("unreachable")

    intake = AlertIntake(
        store=Stuck(store, 0),  # type: ignore[arg-type]
        queue=queue,
        clock=clock,
        busy_budget_seconds=0.1,
    )

    with pytest.raises(StorageBusy, match="busy"):
        await intake.accept("grafana-oncall", encode(oncall_body(labels=STORM)))
    assert await queue.depth() == 0


async def test_a_recorded_delivery_nobody_resends_is_queued_again_by_the_outbox_relay(
    intake: AlertIntake, store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    body = encode(oncall_body(labels=STORM))
    [alert] = grafana_oncall.parse(body, received_at=clock.now(), severity_map={})
    await store.record_alert(alert)  # recorded, then storage stayed busy: the sender got a 503
    ack = encode(oncall_body("acknowledge", group="IACK0001", labels=STORM))
    await intake.accept("grafana-oncall", ack)  # recorded only: nothing to process

    assert await intake.requeue_unprocessed(older_than=MINUTE, window=HOUR) == 0  # too fresh
    clock.advance(minutes=2)
    assert await intake.requeue_unprocessed(older_than=MINUTE, window=HOUR) == 1

    [delivery] = await drain(queue)
    assert delivery.body.payload["delivery_id"] == alert.delivery_id


async def test_the_relay_sends_a_delivery_again_only_once(
    intake: AlertIntake, store: SqliteIncidentStore, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    [alert] = grafana_oncall.parse(
        encode(oncall_body(labels=STORM)), received_at=clock.now(), severity_map={}
    )
    await store.record_alert(alert)
    clock.advance(minutes=2)
    assert await intake.requeue_unprocessed(older_than=MINUTE, window=HOUR) == 1
    await drain(queue)  # handled and failing, say: it will end in the dead letters

    clock.advance(minutes=10)  # past the queue's dedup window
    assert await intake.requeue_unprocessed(older_than=MINUTE, window=HOUR) == 0
    assert await queue.depth() == 0


async def test_the_relay_sends_a_queued_delivery_only_once_within_the_dedup_window(
    intake: AlertIntake, queue: SqliteEventQueue, clock: ManualClock
) -> None:
    await intake.accept("grafana-oncall", encode(oncall_body(labels=STORM)))
    clock.advance(minutes=2)  # still waiting in the queue behind a backlog

    await intake.requeue_unprocessed(older_than=MINUTE, window=HOUR)

    assert len(await drain(queue)) == 1


async def test_the_relay_gives_up_on_deliveries_older_than_its_window(
    intake: AlertIntake, store: SqliteIncidentStore, clock: ManualClock
) -> None:
    [alert] = grafana_oncall.parse(
        encode(oncall_body(labels=STORM)), received_at=clock.now(), severity_map={}
    )
    await store.record_alert(alert)
    clock.advance(hours=2)

    assert await intake.requeue_unprocessed(older_than=MINUTE, window=HOUR) == 0
