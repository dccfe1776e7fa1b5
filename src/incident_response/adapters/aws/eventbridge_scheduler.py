"""The Scheduler port on EventBridge Scheduler: one schedule per incident and purpose, in the
deployment's schedule group, whose target sends the schedule's QueueMessage to the SQS FIFO
events queue in the incident's message group. EventBridge does the firing; nothing polls.

How a port `Schedule` maps onto an EventBridge schedule:
- name -> Name (refused unless it fits `[0-9a-zA-Z-_.]{1,64}`, EventBridge's rule);
- every_seconds -> `rate(N minutes)` (EventBridge fires at most once a minute, in whole minutes,
  so anything else is refused); a `once` schedule -> `at(...)` in UTC with
  ActionAfterCompletion=DELETE, so it is gone after it fired, as on the embedded scheduler;
- next_fire_at -> StartDate (recurring) or the `at()` time (once);
- message -> Target.Input, the QueueMessage JSON the queue adapter sends and the processor reads;
- group_id -> Target.SqsParameters.MessageGroupId (per-incident order on the FIFO queue);
- enabled -> State.
EventBridge keeps no exact `every_seconds` for a one-off, no microseconds and no fired count, so
the port's own fields are kept beside them in Description (JSON) and `get` returns what `put`
stored, except that a recurring schedule's `next_fire_at` moves on along its cadence as time
passes (EventBridge fires without telling anyone; `fired_count` stays as put). A rate schedule
first fires at its StartDate; a slot already past when it is put fires at once, as a late slot
does on the embedded scheduler. The target queue must have content-based deduplication on: EventBridge Scheduler sends
no MessageDeduplicationId (see docs/deployment-guide.md).

boto3 is blocking: every call runs in a worker thread on this adapter's own client. AWS's
refusals and outages come out as VendorError (transient for throttling, 5xx and no answer), as
from every other vendor adapter.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from incident_response.domain.clock import Clock, utc
from incident_response.domain.errors import NotFound
from incident_response.domain.messages import QueueMessage, Schedule
from incident_response.http import VendorError

SERVICE = "scheduler"
VENDOR = "eventbridge-scheduler"
TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "ServiceQuotaExceededException", "InternalServerException"}
)
NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")
_NAME_CHAR = re.compile(r"^[0-9a-zA-Z\-_.]*$")
# what SQS takes as a MessageGroupId: EventBridge passes the group through, and a group SQS
# refuses would fail every firing, unseen
_SQS_GROUP = re.compile(r"^[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}$")
_MAX_EVERY_SECONDS = 100 * 365 * 86400.0
_NOT_FOUND = "ResourceNotFoundException"
_CONFLICT = "ConflictException"
# GetSchedule calls in flight at once while listing (EventBridge's default quota is 50/s)
_LIST_CONCURRENCY = 8


def scheduler_client(
    *, region: str, connect_timeout: float = 5, read_timeout: float = 10, attempts: int = 3
) -> Any:
    """A `scheduler` client of its own boto3 Session (sessions are not thread-safe, clients are).
    The endpoint comes from AWS_ENDPOINT_URL(_SCHEDULER) when set, so moto or a VPC endpoint
    is reached without code changes. botocore's own retries (standard mode: backoff on
    throttling and 5xx) are bounded by `attempts`."""
    config = Config(
        region_name=region,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        retries={"total_max_attempts": attempts, "mode": "standard"},
    )
    return boto3.session.Session(region_name=region).client(SERVICE, config=config)


def check_name(name: str) -> str:
    """EventBridge refuses other names; refusing here says which schedule and why."""
    if not NAME.fullmatch(name):
        raise ValueError(
            f"schedule name {name!r} is not a valid EventBridge Scheduler name:"
            " 1 to 64 of the characters 0-9 a-z A-Z - _ ."
        )
    return name


class EventBridgeScheduler:
    """EventBridge Scheduler (conformance: tests/contract/scheduler_suite.py)."""

    def __init__(
        self, *, client: Any, group: str, queue_arn: str, role_arn: str, clock: Clock
    ) -> None:
        self._client = client
        self._group = group
        self._queue_arn = queue_arn
        self._role_arn = role_arn
        self._clock = clock

    async def probe(self) -> str:
        """One cheap authenticated read: the schedule group exists."""
        found = await self._call("get_schedule_group", Name=self._group)
        return f"schedule group {found['Name']!r} ({found.get('State', 'ACTIVE')}) reachable"

    async def put(self, schedule: Schedule) -> None:
        """Create or replace: create, and update when the name is taken (also by a racing put)."""
        definition = self._definition(schedule)
        try:
            await self._call("create_schedule", passthrough={_CONFLICT}, **definition)
        except ClientError:
            await self._call("update_schedule", **definition)

    async def get(self, name: str) -> Schedule | None:
        found = await self._find(check_name(name))
        return _schedule(found, self._clock.now()) if found is not None else None

    async def enable(self, name: str) -> None:
        await self._set_state(name, "ENABLED")

    async def disable(self, name: str) -> None:
        """Stop firing but keep the schedule (an IC's silence)."""
        await self._set_state(name, "DISABLED")

    async def delete(self, name: str) -> None:
        """Deleting a schedule that is not there is fine: a fired `once` schedule deletes itself."""
        with contextlib.suppress(ClientError):  # only NotFound passes through: already gone
            await self._call(
                "delete_schedule",
                passthrough={_NOT_FOUND},
                Name=check_name(name),
                GroupName=self._group,
            )

    async def schedules(self, prefix: str = "") -> list[Schedule]:
        """The group's schedules whose name starts with `prefix`, in name order. A prefix with a
        character no schedule name can hold matches nothing."""
        if not _NAME_CHAR.fullmatch(prefix) or len(prefix) > 64:
            return []
        names: list[str] = []
        token: str | None = None
        while True:
            params: dict[str, Any] = {"GroupName": self._group}
            if prefix:
                params["NamePrefix"] = prefix
            if token:
                params["NextToken"] = token
            page = await self._call("list_schedules", **params)
            names += [item["Name"] for item in page.get("Schedules", [])]
            token = page.get("NextToken")
            if not token:
                break
        gate = asyncio.Semaphore(_LIST_CONCURRENCY)

        async def one(name: str) -> dict[str, Any] | None:
            async with gate:
                return await self._find(name)

        found = await asyncio.gather(*(one(name) for name in sorted(set(names))))
        # a `once` schedule that fired between the list and the get is gone: leave it out
        now = self._clock.now()
        return [_schedule(item, now) for item in found if item is not None]

    async def _set_state(self, name: str, state: str) -> None:
        """UpdateSchedule replaces the whole schedule: read it, change State, write it back.
        A put racing this in between can be overwritten; the services do not race them."""
        found = await self._find(check_name(name))
        if found is None:
            raise NotFound(f"no schedule named {name!r}")
        update = {key: found[key] for key in _UPDATABLE if found.get(key) is not None}
        update["State"] = state
        if "StartDate" in update:
            # EventBridge refuses a StartDate long past: keep the cadence from the next slot on
            now = self._clock.now()
            current = _schedule(found, now)
            update["StartDate"] = max(current.next_fire_at, now)
        try:
            await self._call("update_schedule", passthrough={_NOT_FOUND}, **update)
        except ClientError:
            raise NotFound(f"no schedule named {name!r}") from None

    async def _find(self, name: str) -> dict[str, Any] | None:
        try:
            found: dict[str, Any] = await self._call(
                "get_schedule", passthrough={_NOT_FOUND}, Name=name, GroupName=self._group
            )
        except ClientError:
            return None
        return found

    def _definition(self, schedule: Schedule) -> dict[str, Any]:
        _check(schedule)
        when = utc(schedule.next_fire_at)
        definition: dict[str, Any] = {
            "Name": schedule.name,
            "GroupName": self._group,
            "Description": json.dumps(
                {
                    "every_seconds": schedule.every_seconds,
                    "next_fire_at": when.isoformat(timespec="microseconds"),
                    "fired_count": schedule.fired_count,
                },
                separators=(",", ":"),
            ),
            "ScheduleExpressionTimezone": "UTC",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "State": "ENABLED" if schedule.enabled else "DISABLED",
            "Target": {
                "Arn": self._queue_arn,
                "RoleArn": self._role_arn,
                "Input": schedule.message.model_dump_json(),
                "SqsParameters": {"MessageGroupId": schedule.group_id},
            },
        }
        if schedule.once:
            definition["ScheduleExpression"] = f"at({_at(when)})"
            definition["ActionAfterCompletion"] = "DELETE"
        else:
            minutes = round(schedule.every_seconds / 60)
            unit = "minute" if minutes == 1 else "minutes"
            definition["ScheduleExpression"] = f"rate({minutes} {unit})"
            # EventBridge refuses a start far in the past; a late slot starts now instead
            definition["StartDate"] = max(when, self._clock.now())
        return definition

    async def _call(
        self, operation: str, *, passthrough: frozenset[str] | set[str] = frozenset(), **params: Any
    ) -> Any:
        """One SDK call in a worker thread. A ClientError whose code is in `passthrough` is
        raised as is, for the caller's own meaning of it; every other failure is a VendorError."""
        try:
            return await asyncio.to_thread(getattr(self._client, operation), **params)
        except ClientError as exc:
            code = _code(exc)
            if code in passthrough:
                raise
            status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
            message = exc.response.get("Error", {}).get("Message", "")
            raise VendorError(
                VENDOR,
                operation,
                f"{code}: {message}" if message else code,
                status=status,
                transient=code in TRANSIENT_CODES or status >= 500,
            ) from None
        except BotoCoreError as exc:
            raise VendorError(VENDOR, operation, str(exc), transient=True) from None


# what GetSchedule returns that UpdateSchedule takes back (UpdateSchedule replaces everything)
_UPDATABLE = (
    "Name",
    "GroupName",
    "Description",
    "ScheduleExpression",
    "ScheduleExpressionTimezone",
    "StartDate",
    "EndDate",
    "FlexibleTimeWindow",
    "Target",
    "KmsKeyArn",
    "ActionAfterCompletion",
)


def _check(schedule: Schedule) -> None:
    if not schedule.name or not schedule.group_id:
        raise ValueError("a schedule needs a name and a group_id")
    every = schedule.every_seconds
    usable = math.isfinite(every) and 0 <= every < _MAX_EVERY_SECONDS
    if not usable or (every <= 0 and not schedule.once):
        raise ValueError(
            f"schedule {schedule.name!r}: every_seconds must be a positive number of seconds,"
            f" got {every!r}"
        )
    if not schedule.once and (every < 60 or every % 60 != 0):
        raise ValueError(
            f"schedule {schedule.name!r}: every_seconds must be a whole number of minutes on"
            f" EventBridge Scheduler (it fires at most once a minute), got {every!r}"
        )
    check_name(schedule.name)
    if not _SQS_GROUP.fullmatch(schedule.group_id):
        raise ValueError(
            f"schedule {schedule.name!r}: group_id {schedule.group_id!r} is not an SQS message"
            " group id (1 to 128 ASCII letters, digits and punctuation)"
        )


def _at(when: datetime) -> str:
    """`at()` takes whole seconds: round up, so a one-off never fires before its time."""
    whole = when.replace(microsecond=0)
    if whole < when:
        whole += timedelta(seconds=1)
    return whole.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _on_cadence(first: datetime, every_seconds: float, now: datetime) -> datetime:
    """The first slot not before `now` of a cadence starting at `first`."""
    if first >= now:
        return first
    every = timedelta(seconds=every_seconds)
    return first + -((first - now) // every) * every


def _schedule(found: dict[str, Any], now: datetime) -> Schedule:
    try:
        kept = json.loads(found.get("Description") or "")
    except ValueError:
        raise ValueError(
            f"schedule {found.get('Name')!r} in group {found.get('GroupName')!r} was not made by"
            " incident-response (its Description holds no schedule record)"
        ) from None
    target = found["Target"]
    once = str(found["ScheduleExpression"]).startswith("at(")
    next_fire_at = utc(datetime.fromisoformat(kept["next_fire_at"]))
    if not once:
        next_fire_at = _on_cadence(next_fire_at, kept["every_seconds"], now)
    return Schedule(
        name=found["Name"],
        every_seconds=kept["every_seconds"],
        message=QueueMessage.model_validate_json(target["Input"]),
        group_id=target["SqsParameters"]["MessageGroupId"],
        next_fire_at=next_fire_at,
        enabled=found.get("State", "ENABLED") == "ENABLED",
        fired_count=kept.get("fired_count", 0),
        once=once,
    )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
