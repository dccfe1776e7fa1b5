"""Messages that travel on the EventQueue: a type, the incident (or group) and a JSON payload."""

from __future__ import annotations

import re
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class EventType(StrEnum):
    ALERT_RECEIVED = "ALERT_RECEIVED"
    ALERT_RESOLVED = "ALERT_RESOLVED"
    STATUS_UPDATE_NUDGE = "STATUS_UPDATE_NUDGE"
    SLA_CHECK = "SLA_CHECK"
    INCIDENT_RESOLUTION = "INCIDENT_RESOLUTION"
    INCIDENT_DECLARED = "INCIDENT_DECLARED"


class QueueMessage(BaseModel):
    """The body of one queue message. `payload` is the event type's own JSON document."""

    model_config = ConfigDict(frozen=True)

    type: str
    payload: dict[str, Any] = Field(default_factory=dict)
    trace: dict[str, str] = Field(default_factory=dict, description="W3C trace context carrier.")


class Delivery(BaseModel):
    """A received message: the body, the handle to ack it with, and how often it was received."""

    model_config = ConfigDict(frozen=True)

    message_id: str
    receipt: str
    group_id: str
    body: QueueMessage
    receive_count: int
    sent_at: datetime


class DeadLetter(BaseModel):
    model_config = ConfigDict(frozen=True)

    message_id: str
    group_id: str
    body: QueueMessage
    receive_count: int
    dead_at: datetime
    last_error: str | None = None


# what EventBridge Scheduler accepts as a schedule name; every Scheduler keeps to it
SCHEDULE_NAME = re.compile(r"[0-9a-zA-Z\-_.]{1,64}")


def check_schedule_name(name: str) -> str:
    """`name` if a schedule may be called so, else ValueError (every backend refuses alike)."""
    if SCHEDULE_NAME.fullmatch(name) is None:
        raise ValueError(f"schedule name {name!r}: use 1 to 64 letters, digits, '-', '_' or '.'")
    return name


class Schedule(BaseModel):
    """A durable recurring timer that sends `message` to the queue every `every_seconds`.

    `name` must pass `check_schedule_name` (a Scheduler's `put` refuses any other)."""

    model_config = ConfigDict(frozen=True)

    name: str
    every_seconds: float
    message: QueueMessage
    group_id: str
    next_fire_at: datetime
    enabled: bool = True
    fired_count: int = 0
    once: bool = Field(default=False, description="Fire once at next_fire_at, then delete.")
