"""Compare-and-set on an incident, written once for every service that changes one.

Read the latest version, apply the change, save it on that version; a save that loses the race
(ConcurrentUpdate: someone saved first, or an alert claim is held elsewhere) reads again and
re-applies the change, so concurrent writers (assembly steps, commands, attached alerts, the
gate) never overwrite each other. Attempts are bounded; after the first lost race the next try
waits a short random moment, so writers that keep colliding in a storm spread out instead of
colliding again in step.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from incident_response.domain.errors import ConcurrentUpdate, NotFound
from incident_response.domain.incident import Incident
from incident_response.ports import IncidentStore

T = TypeVar("T")

CAS_ATTEMPTS = 50
FIRST_PAUSE_SECONDS = 0.002
LONGEST_PAUSE_SECONDS = 0.1


async def retry_on_conflict(
    attempt: Callable[[], Awaitable[T]], *, attempts: int = CAS_ATTEMPTS, what: str
) -> T:
    """Run `attempt` until it does not lose a compare-and-set race, at most `attempts` times."""
    pause = FIRST_PAUSE_SECONDS
    for tried in range(1, attempts + 1):
        try:
            return await attempt()
        except ConcurrentUpdate:
            if tried == attempts:
                break
            if tried > 1:
                await asyncio.sleep(random.uniform(0, pause))
                pause = min(pause * 2, LONGEST_PAUSE_SECONDS)
    raise ConcurrentUpdate(f"{what} kept changing: {attempts} attempts to save lost; try again")


async def mutate(
    store: IncidentStore,
    incident_id: str,
    change: Callable[[Incident], Awaitable[tuple[Incident | None, T]]],
    *,
    attempts: int = CAS_ATTEMPTS,
) -> tuple[Incident, T]:
    """Apply `change` (which returns the changed incident, or None when nothing needs saving,
    and a result of its own) to the latest incident until a save wins."""

    async def once() -> tuple[Incident, T]:
        current = await store.get(incident_id, consistent=True)
        if current is None:
            raise NotFound(f"incident {incident_id} not found")
        updated, result = await change(current)
        if updated is None:
            return current, result
        return await store.save(updated), result

    return await retry_on_conflict(once, attempts=attempts, what=f"incident {incident_id}")


async def save_change(
    store: IncidentStore,
    incident_id: str,
    change: Callable[[Incident], Incident | None],
    *,
    attempts: int = CAS_ATTEMPTS,
) -> Incident:
    """`mutate` for a plain change: returns the saved incident (the current one when `change`
    returns None)."""

    async def apply(current: Incident) -> tuple[Incident | None, None]:
        return change(current), None

    saved, _ = await mutate(store, incident_id, apply, attempts=attempts)
    return saved
