"""The EventBridge Scheduler adapter over real HTTP against moto's server, against the Scheduler
suite, plus what the created schedule carries for EventBridge to deliver to the FIFO queue.

Firing is EventBridge's job (moto stores schedules and never fires them): the firing tests are
the embedded adapter's (test_embedded_scheduler.py). Here the test reads back what EventBridge
would send (target ARN, role, MessageGroupId, Input, expression) and that the Input is the
QueueMessage the processor reads.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from incident_response.adapters.aws.eventbridge_scheduler import (
    NAME,
    EventBridgeScheduler,
    scheduler_client,
)
from incident_response.domain.messages import QueueMessage
from incident_response.http import VendorError
from tests.contract.scheduler_suite import SchedulerContract, schedule
from tests.support.clock import ManualClock
from tests.support.moto_server import MotoServer

GROUP = "incident-response-test"
ROLE_ARN = "arn:aws:iam::123456789012:role/incident-response-test-scheduler"


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoServer]:
    with MotoServer.started() as server:
        yield server


@pytest.fixture
def environ(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    aws.reset()
    for key, value in aws.environ().items():
        monkeypatch.setenv(key, value)
    return aws.environ()


@pytest.fixture
def raw(environ: dict[str, str]) -> Any:
    """A plain client, to read what EventBridge holds without going through the adapter."""
    return boto3.session.Session().client("scheduler")


@pytest.fixture
def queue_arn(environ: dict[str, str]) -> str:
    sqs = boto3.session.Session().client("sqs")
    url = sqs.create_queue(
        QueueName="incident-response-test-events.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    arn: str = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    return arn


@pytest.fixture
def eventbridge(
    environ: dict[str, str], raw: Any, queue_arn: str, clock: ManualClock
) -> EventBridgeScheduler:
    raw.create_schedule_group(Name=GROUP)
    return EventBridgeScheduler(
        client=scheduler_client(region=environ["AWS_REGION"]),
        group=GROUP,
        queue_arn=queue_arn,
        role_arn=ROLE_ARN,
        clock=clock,
    )


class TestEventBridgeScheduler(SchedulerContract):
    @pytest.fixture
    def scheduler(self, eventbridge: EventBridgeScheduler) -> EventBridgeScheduler:
        return eventbridge


async def test_the_schedule_targets_the_fifo_queue_in_the_incidents_group(
    eventbridge: EventBridgeScheduler, raw: Any, queue_arn: str, clock: ManualClock
) -> None:
    nudge = schedule(clock, "nudge-inc-1", every=900)

    await eventbridge.put(nudge)

    found = raw.get_schedule(Name="nudge-inc-1", GroupName=GROUP)
    target = found["Target"]
    assert target["Arn"] == queue_arn
    assert target["RoleArn"] == ROLE_ARN
    assert target["SqsParameters"] == {"MessageGroupId": "inc-1"}
    assert QueueMessage.model_validate_json(target["Input"]) == QueueMessage(
        type="STATUS_UPDATE_NUDGE", payload={"incident_id": "inc-1"}
    )
    assert found["ScheduleExpression"] == "rate(15 minutes)"
    assert found["ScheduleExpressionTimezone"] == "UTC"
    assert found["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert found["State"] == "ENABLED"


async def test_a_once_schedule_fires_at_its_time_and_then_deletes_itself(
    eventbridge: EventBridgeScheduler, raw: Any, clock: ManualClock
) -> None:
    due = datetime(2026, 11, 26, 9, 30, 0, 250_000, tzinfo=UTC)
    await eventbridge.put(schedule(clock, "sla-inc-1-30", once=True, next_fire_at=due))

    found = raw.get_schedule(Name="sla-inc-1-30", GroupName=GROUP)
    # `at()` takes whole seconds: rounded up, so it never fires before the mark
    assert found["ScheduleExpression"] == "at(2026-11-26T09:30:01)"
    assert found["ActionAfterCompletion"] == "DELETE"


async def test_silencing_disables_the_schedule_in_eventbridge_and_keeps_its_target(
    eventbridge: EventBridgeScheduler, raw: Any, clock: ManualClock
) -> None:
    await eventbridge.put(schedule(clock, "nudge-inc-1"))
    before = raw.get_schedule(Name="nudge-inc-1", GroupName=GROUP)

    await eventbridge.disable("nudge-inc-1")

    after = raw.get_schedule(Name="nudge-inc-1", GroupName=GROUP)
    assert after["State"] == "DISABLED"
    assert after["Target"] == before["Target"]
    assert after["ScheduleExpression"] == before["ScheduleExpression"]


async def test_resolving_deletes_the_schedule_from_eventbridge(
    eventbridge: EventBridgeScheduler, raw: Any, clock: ManualClock
) -> None:
    await eventbridge.put(schedule(clock, "nudge-inc-1"))

    await eventbridge.delete("nudge-inc-1")

    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        raw.get_schedule(Name="nudge-inc-1", GroupName=GROUP)


@pytest.mark.parametrize("name", ["nudge:inc-1", "nudge inc-1", "n" * 65, "nudge/inc-1"])
async def test_a_name_eventbridge_would_refuse_is_refused_and_stores_nothing(
    eventbridge: EventBridgeScheduler, clock: ManualClock, name: str
) -> None:
    with pytest.raises(ValueError, match="not a valid EventBridge Scheduler name"):
        await eventbridge.put(schedule(clock, name))
    with pytest.raises(ValueError, match="not a valid EventBridge Scheduler name"):
        await eventbridge.get(name)

    assert await eventbridge.schedules() == []


@pytest.mark.parametrize("group_id", ["inc 1", "inc-\u00e9", "g" * 129])
async def test_a_group_sqs_would_refuse_is_refused_and_stores_nothing(
    eventbridge: EventBridgeScheduler, clock: ManualClock, group_id: str
) -> None:
    with pytest.raises(ValueError, match="group_id"):
        await eventbridge.put(schedule(clock, "nudge-inc-1", group_id=group_id))

    assert await eventbridge.schedules() == []


@pytest.mark.parametrize("every", [30.0, 90.0, 600.5])
async def test_a_period_that_is_not_whole_minutes_is_refused(
    eventbridge: EventBridgeScheduler, clock: ManualClock, every: float
) -> None:
    with pytest.raises(ValueError, match="whole number of minutes"):
        await eventbridge.put(schedule(clock, "nudge-inc-1", every=every))

    assert await eventbridge.schedules() == []


async def test_schedules_reads_every_page(
    eventbridge: EventBridgeScheduler, clock: ManualClock
) -> None:
    # ListSchedules answers 50 at most per page (moto as EventBridge's default): 60 needs two
    names = [f"nudge-inc-{n:03d}" for n in range(60)]
    for name in reversed(names):
        await eventbridge.put(schedule(clock, name, group_id=name))

    listed = await eventbridge.schedules("nudge-")

    assert [s.name for s in listed] == names
    assert [s.group_id for s in listed] == names


async def test_probe_names_the_schedule_group(eventbridge: EventBridgeScheduler) -> None:
    assert GROUP in await eventbridge.probe()


async def test_probe_fails_when_the_group_is_missing(
    eventbridge: EventBridgeScheduler, raw: Any
) -> None:
    raw.delete_schedule_group(Name=GROUP)

    with pytest.raises(VendorError, match="ResourceNotFoundException") as refused:
        await eventbridge.probe()
    assert not refused.value.transient


async def test_no_answer_from_eventbridge_is_a_transient_vendor_error(
    environ: dict[str, str], queue_arn: str, clock: ManualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{probe.getsockname()[1]}"
    monkeypatch.setenv("AWS_ENDPOINT_URL", dead)
    unreachable = EventBridgeScheduler(
        client=scheduler_client(region=environ["AWS_REGION"], connect_timeout=1, attempts=1),
        group=GROUP,
        queue_arn=queue_arn,
        role_arn=ROLE_ARN,
        clock=clock,
    )

    with pytest.raises(VendorError) as failed:
        await unreachable.get("nudge-inc-1")
    assert failed.value.transient


async def test_a_recurring_schedules_next_fire_at_moves_on_along_its_cadence(
    eventbridge: EventBridgeScheduler, clock: ManualClock
) -> None:
    nudge = schedule(clock, "nudge-inc-1", every=1800)
    await eventbridge.put(nudge)

    clock.advance(3700)  # EventBridge fired at +1800 and +3600; the next slot is +5400

    stored = await eventbridge.get("nudge-inc-1")
    assert stored is not None
    assert stored.next_fire_at == nudge.next_fire_at + timedelta(seconds=3600)
    assert [s.next_fire_at for s in await eventbridge.schedules()] == [stored.next_fire_at]


async def test_silencing_long_after_the_put_keeps_the_cadence_with_a_start_not_in_the_past(
    eventbridge: EventBridgeScheduler, raw: Any, clock: ManualClock
) -> None:
    nudge = schedule(clock, "nudge-inc-1", every=1800)
    await eventbridge.put(nudge)
    clock.advance(3700)

    await eventbridge.disable("nudge-inc-1")
    await eventbridge.enable("nudge-inc-1")

    found = raw.get_schedule(Name="nudge-inc-1", GroupName=GROUP)
    assert found["StartDate"] == nudge.next_fire_at + timedelta(seconds=3600)
    assert found["State"] == "ENABLED"


async def test_a_slot_already_past_when_put_starts_now(
    eventbridge: EventBridgeScheduler, raw: Any, clock: ManualClock
) -> None:
    late = schedule(clock, "nudge-inc-1", next_fire_at=clock.now() - timedelta(minutes=10))

    await eventbridge.put(late)

    assert raw.get_schedule(Name="nudge-inc-1", GroupName=GROUP)["StartDate"] == clock.now()


async def test_the_names_the_services_give_their_schedules_are_accepted(
    eventbridge: EventBridgeScheduler, clock: ManualClock
) -> None:
    """The names the services build (`nudge.<id>`, `sla.<id>.<minutes>`) are valid on
    EventBridge: put, disable (silence) and delete (resolve) all accept them."""
    from incident_response.services import nudges, sla

    names = [nudges.schedule_name("inc-1"), f"{sla.schedule_prefix('inc-1')}30"]
    assert all(NAME.fullmatch(name) for name in names), names

    for name in names:
        await eventbridge.put(schedule(clock, name))
        await eventbridge.disable(name)  # silence
        await eventbridge.delete(name)  # resolve

    assert await eventbridge.schedules() == []
