"""The processor's upkeep: the periodic repairs that make a crash or a vendor outage lose nothing (interrupted publishes finished, war rooms repaired, the intake
outbox relayed, unfinished resolutions and waiting declarations queued again). Every job is idempotent: several
processors may run them at once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from incident_response.domain.clock import Clock
from incident_response.intake.service import AlertIntake
from incident_response.services.declaration import Declarations
from incident_response.services.resolver import Resolver
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.services.war_room import WarRoomAssembler
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

# how often approved-but-unpublished status updates are retried (the gate's grace is 60 s)
RECOVERY_INTERVAL = timedelta(seconds=30)
# how often assembled war rooms that still lack a step (an outage, a restart) are repaired
REPAIR_INTERVAL = timedelta(seconds=30)
# deliveries recorded but still unprocessed after RELAY_AFTER are queued again, once (looking back
# RELAY_WINDOW), in case they were recorded just before storage went busy and never queued
RELAY_INTERVAL = timedelta(seconds=60)
RELAY_AFTER = timedelta(minutes=2)
RELAY_WINDOW = timedelta(days=7)
# declared incidents still waiting for their room after DECLARED_RELAY_AFTER (a crash between
# storing one and queueing it) are audited and queued again
DECLARED_RELAY_INTERVAL = timedelta(seconds=60)
DECLARED_RELAY_AFTER = timedelta(minutes=2)
# resolutions with steps left (the postmortem, after a long tracker outage) are queued again
RESOLUTION_REPAIR_INTERVAL = timedelta(seconds=60)


@dataclass
class Periodic:
    """A job of the processor's upkeep and how often it runs."""

    every: timedelta
    run: Callable[[], Awaitable[None]]
    last: datetime | None = None


@dataclass
class Upkeep:
    """The processor's periodic work: each tick runs every job (finishing interrupted
    publishes, repairing war rooms, relaying the intake outbox) whose interval has passed.
    Jobs must be idempotent: several processors may run them. Timers are not fired here: the
    Scheduler puts due messages on the queue by itself."""

    clock: Clock
    jobs: list[Periodic]

    async def tick(self) -> int:
        """Run the jobs that are due; returns how many ran."""
        now = self.clock.now()
        ran = 0
        for job in self.jobs:
            if job.last is None or now - job.last >= job.every:
                job.last = now
                await job.run()
                ran += 1
        return ran


def upkeep_jobs(
    *,
    gate: StatusUpdateGate,
    assembler: WarRoomAssembler,
    intake: AlertIntake,
    resolver: Resolver,
    declarations: Declarations,
) -> list[Periodic]:
    async def recover_publishes() -> None:
        report = await gate.recover_all()
        if report.failures:
            log.warning("gate.recovery_failed", failures=report.failures)

    async def repair_rooms() -> None:
        await assembler.resume_unfinished()  # starts the repairs, does not wait

    async def relay_outbox() -> None:
        requeued = await intake.requeue_unprocessed(older_than=RELAY_AFTER, window=RELAY_WINDOW)
        if requeued:
            log.warning("intake.requeued", deliveries=requeued)

    async def finish_resolutions() -> None:
        queued = await resolver.resume_unfinished(every=RESOLUTION_REPAIR_INTERVAL)
        if queued:
            log.warning("resolution.requeued", incidents=queued)

    async def relay_declared() -> None:
        queued = await declarations.relay_waiting(older_than=DECLARED_RELAY_AFTER)
        if queued:
            log.warning("declaration.requeued", incidents=queued)

    return [
        Periodic(RECOVERY_INTERVAL, recover_publishes),
        Periodic(REPAIR_INTERVAL, repair_rooms),
        Periodic(RELAY_INTERVAL, relay_outbox),
        Periodic(RESOLUTION_REPAIR_INTERVAL, finish_resolutions),
        Periodic(DECLARED_RELAY_INTERVAL, relay_declared),
    ]
