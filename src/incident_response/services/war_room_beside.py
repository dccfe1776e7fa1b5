"""Work a war room gets beside the processor: at most one task per incident, outside any queue
message, so the message is acked and the processor's slot freed while it goes on.

Not a stand-in for the queue: what the work is for is recorded on the incident (see
`war_room_steps.needs_repair`), and the processor's upkeep starts it again when a process died
with it unfinished. This only runs it, keeps it from running twice in one process, and lets
shutdown give it a grace period.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from incident_response.telemetry.logging import get_logger

__all__ = ["BesideWork"]

log = get_logger(__name__)


class BesideWork:
    def __init__(self) -> None:
        self._running: dict[str, asyncio.Task[None]] = {}  # incident id -> its work
        self._died: list[BaseException] = []

    def busy(self, incident_id: str) -> bool:
        task = self._running.get(incident_id)
        return task is not None and not task.done()

    def start(self, incident_id: str, work: Coroutine[Any, Any, None]) -> bool:
        """Run `work` for the incident unless work for it already runs; whether it started.
        An Exception is logged (the incident says what is missing); a BaseException (the end
        of the process) is kept for `settle` to raise."""
        if self.busy(incident_id):
            work.close()
            return False
        task = asyncio.create_task(_logged(incident_id, work), name=f"beside:{incident_id}")
        self._running[incident_id] = task

        def forget(finished: asyncio.Task[None]) -> None:
            if self._running.get(incident_id) is finished:
                del self._running[incident_id]
            if not finished.cancelled() and (died := finished.exception()) is not None:
                self._died.append(died)

        task.add_done_callback(forget)
        return True

    async def settle(self, *, grace_seconds: float | None = None) -> None:
        """Wait for the work (also work it starts meanwhile); after `grace_seconds` cancel what
        is left, which the upkeep takes up again. Re-raises a BaseException the work died of."""
        while self._running:
            _, pending = await asyncio.wait(list(self._running.values()), timeout=grace_seconds)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending)
                break
        if self._died:
            raise self._died.pop(0)


async def _logged(incident_id: str, work: Coroutine[Any, Any, None]) -> None:
    try:
        await work
    except Exception:
        log.exception("war_room.beside_failed", incident_id=incident_id)
