"""The EventRegistry: queue message type -> handler. Adding an event type is one module plus one
line where the composition root lists the handlers."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.messages import QueueMessage


class EventHandler(Protocol):
    @property
    def event_type(self) -> str: ...

    async def handle(self, payload: Mapping[str, Any]) -> None:
        """Do the work for one message. Must be idempotent: the queue delivers at least once."""
        ...


class UnknownEvent(IncidentResponseError):
    """A message whose type no handler is registered for (kept in the dead-letter table)."""


class EventRegistry:
    def __init__(self, handlers: Iterable[EventHandler]) -> None:
        self._handlers: dict[str, EventHandler] = {}
        for handler in handlers:
            if handler.event_type in self._handlers:
                raise ValueError(f"two handlers for {handler.event_type}")
            self._handlers[handler.event_type] = handler

    @property
    def event_types(self) -> list[str]:
        return sorted(self._handlers)

    async def dispatch(self, message: QueueMessage) -> None:
        handler = self._handlers.get(message.type)
        if handler is None:
            raise UnknownEvent(f"no handler for event type {message.type!r}")
        await handler.handle(message.payload)
