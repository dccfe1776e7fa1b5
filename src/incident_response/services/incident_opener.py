"""IncidentOpener: turn a processed alert into a new incident, or into one more alert on an
existing incident, so one problem is one incident however many alerts it raises.

For a FIRING alert, in order:
1. the delivery was already processed -> "duplicate" (the queue delivers at least once);
2. the alert group has an open incident -> "attached" (a MITIGATED one goes back to ASSEMBLED:
   "reopened"); its incident is RESOLVED -> a NEW incident pointing at the old one ("opened"),
   because a problem that comes back after resolution is a new incident, never a silent no-op;
3. an open incident with the same grouping key (e.g. service + alertname) was opened within the
   storm window -> "attached": an alert storm is one incident;
4. the cap of new incidents per minute is reached -> attached to the newest open incident and
   STORM_CAP_REACHED audited: a storm slows incident creation down but never drops an alert;
5. otherwise -> "opened".

Incident ids derive from the delivery, and every write is idempotent (attach, audit keys, create
that finds its own incident), so a redelivery after a crash at any step finishes the job
instead of doing it twice. Writes are compare-and-set; a lost race re-reads and decides again.
The cap is per process and soft: two groups deciding at the same instant may both open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from incident_response.domain.alert import Alert, AlertEventKind, grouping_key
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import Clock, isoformat
from incident_response.domain.errors import AlreadyExists, ConcurrentUpdate, NotFound
from incident_response.domain.incident import (
    Incident,
    IncidentStatus,
    can_transition,
    incident_id_for,
)
from incident_response.ports import AuditLog, IncidentStore

Action = Literal["opened", "attached", "reopened", "mitigated", "duplicate", "ignored"]
Reason = Literal["alert group", "storm", "storm cap"]

OPEN_STATUSES: tuple[IncidentStatus, ...] = tuple(s for s in IncidentStatus if s.is_open)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
A = AuditEventType


@dataclass(frozen=True)
class OpenOutcome:
    """What happened to an alert. `incident` is None only when no incident concerns it (a
    resolve for an alert group we never opened an incident for)."""

    incident: Incident | None
    action: Action


class IncidentOpener:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        clock: Clock,
        grouping_labels: Sequence[str] = ("service", "alertname"),
        storm_window_seconds: float = 600,
        max_new_incidents_per_minute: int = 10,
        max_attempts: int = 5,
    ) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._grouping_labels = tuple(grouping_labels)
        self._storm_window = timedelta(seconds=storm_window_seconds)
        self._cap = max_new_incidents_per_minute
        self._attempts = max(max_attempts, 1)

    async def open_or_attach(self, alert: Alert) -> OpenOutcome:
        """Handle an ALERT_RECEIVED alert: open, attach or reopen (see the module docstring)."""
        return await self._processed_once(alert, self._open_or_attach)

    async def mitigate(self, alert: Alert) -> OpenOutcome:
        """Handle an ALERT_RESOLVED alert: the alert group's incident becomes MITIGATED when it
        can (resolving stays the IC's decision); otherwise the alert is only attached."""
        return await self._processed_once(alert, self._mitigate)

    def grouping_key(self, alert: Alert) -> str:
        return grouping_key(alert.labels, self._grouping_labels)

    async def _processed_once(
        self, alert: Alert, decide: Callable[[Alert], Awaitable[OpenOutcome]]
    ) -> OpenOutcome:
        if await self._store.alert_processed(alert.delivery_id):
            return OpenOutcome(await self._incident_holding(alert), "duplicate")
        for attempt in range(1, self._attempts + 1):
            try:
                outcome = await decide(alert)
                break
            except ConcurrentUpdate:
                if attempt == self._attempts:
                    raise
        await self._mark_processed(alert, outcome.incident)
        return outcome

    # --- FIRING ---------------------------------------------------------------------------

    async def _open_or_attach(self, alert: Alert) -> OpenOutcome:
        now = self._clock.now()
        key = self.grouping_key(alert)
        own = await self._store.get(incident_id_for(alert.delivery_id))
        if own is not None:  # opened by this very delivery before a crash
            return await self._opened(own, alert)
        existing = await self._store.find_by_alert_group(alert.alert_group_key)
        if existing is not None and not existing.is_open and not _holds(existing, alert):
            return await self._open(alert, key, now, previous=existing)
        if existing is not None:
            return await self._attach(existing, alert, now, "alert group")
        grouped = await self._store.find_open_by_grouping_key(key, now - self._storm_window)
        if grouped is not None:
            return await self._attach(grouped, alert, now, "storm")
        if await self._store.count_created_since(now - timedelta(minutes=1)) >= self._cap:
            newest = await self._store.recent(statuses=OPEN_STATUSES, limit=1)
            if newest:
                return await self._attach(newest[0], alert, now, "storm cap")
        return await self._open(alert, key, now, previous=None)

    async def _open(
        self, alert: Alert, key: str, now: datetime, *, previous: Incident | None
    ) -> OpenOutcome:
        incident = Incident.open_from(alert, grouping_key=key, now=now)
        if previous is not None:
            incident = incident.update(previous_incident_id=previous.id)
        try:
            stored = await self._store.create(incident)
        except AlreadyExists:
            found = await self._store.get(incident.id)
            if found is None:  # pragma: no cover - create said it exists
                raise
            stored = found
        return await self._opened(stored, alert)

    async def _opened(self, incident: Incident, alert: Alert) -> OpenOutcome:
        data = _alert_data(alert)
        if incident.previous_incident_id:
            data["previous_incident_id"] = incident.previous_incident_id
        await self._record(incident, A.INCIDENT_OPENED, "opened", alert, data)
        return OpenOutcome(incident, "opened")

    async def _attach(
        self, incident: Incident, alert: Alert, now: datetime, reason: Reason
    ) -> OpenOutcome:
        already = _holds(incident, alert)
        if already:
            reopen = await self._reopened_before_crash(incident, alert)
            stored = incident
        else:
            reopen = alert.kind is AlertEventKind.FIRING and incident.status is (
                IncidentStatus.MITIGATED
            )
            changed = incident.attach(alert, at=now)
            if reopen:
                changed = changed.transition(IncidentStatus.ASSEMBLED, at=now)
            stored = await self._store.save(changed)
        await self._record(stored, A.ALERT_ATTACHED, "attached", alert, _alert_data(alert, reason))
        if reason == "storm cap":
            created = await self._store.count_created_since(now - timedelta(minutes=1))
            data = {
                **_alert_data(alert),
                "cap_per_minute": self._cap,
                "created_last_minute": created,
            }
            await self._record(stored, A.STORM_CAP_REACHED, "storm-cap", alert, data)
        if reopen:
            data = {**_alert_data(alert), "mitigated_at": _iso(stored.mitigated_at)}
            await self._record(stored, A.INCIDENT_REOPENED, "reopened", alert, data)
            return OpenOutcome(stored, "reopened")
        return OpenOutcome(stored, "attached")

    async def _reopened_before_crash(self, incident: Incident, alert: Alert) -> bool:
        """The delivery is on the incident but not marked processed: did it reopen it? Only if
        the incident shows a reopen (ASSEMBLED after a mitigation) that no audit record owns."""
        if alert.kind is not AlertEventKind.FIRING or incident.mitigated_at is None:
            return False
        if incident.status is not IncidentStatus.ASSEMBLED:
            return False
        owned = await self._audit.find(incident.id, A.INCIDENT_REOPENED)
        mitigated_at = _iso(incident.mitigated_at)
        return not any(r.data.get("mitigated_at") == mitigated_at for r in owned)

    # --- RESOLVED -------------------------------------------------------------------------

    async def _mitigate(self, alert: Alert) -> OpenOutcome:
        now = self._clock.now()
        incident = await self._store.find_by_alert_group(alert.alert_group_key)
        if incident is None:
            grouped = await self._store.find_open_by_grouping_key(self.grouping_key(alert), EPOCH)
            if grouped is None:
                return OpenOutcome(None, "ignored")
            return await self._attach(grouped, alert, now, "storm")
        if _holds(incident, alert):
            if incident.status is IncidentStatus.MITIGATED:
                return await self._mitigated(incident, alert)
            return await self._attach(incident, alert, now, "alert group")
        if not can_transition(incident.status, IncidentStatus.MITIGATED):
            return await self._attach(incident, alert, now, "alert group")
        changed = incident.attach(alert, at=now).transition(IncidentStatus.MITIGATED, at=now)
        return await self._mitigated(await self._store.save(changed), alert)

    async def _mitigated(self, incident: Incident, alert: Alert) -> OpenOutcome:
        await self._record(
            incident, A.ALERT_ATTACHED, "attached", alert, _alert_data(alert, "alert group")
        )
        await self._record(incident, A.INCIDENT_MITIGATED, "mitigated", alert, _alert_data(alert))
        return OpenOutcome(incident, "mitigated")

    # --- shared ---------------------------------------------------------------------------

    async def _record(
        self,
        incident: Incident,
        type: AuditEventType,
        prefix: str,
        alert: Alert,
        data: dict[str, Any],
    ) -> None:
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=type,
                key=f"{prefix}:{alert.delivery_id}",
                at=self._clock.now(),
                actor=f"alert:{alert.source.value}",
                data=data,
            )
        )

    async def _mark_processed(self, alert: Alert, incident: Incident | None) -> None:
        incident_id = incident.id if incident is not None else ""
        try:
            await self._store.mark_alert_processed(alert.delivery_id, incident_id)
        except NotFound:
            # handed to us without passing intake (a replay from the dead-letter table)
            await self._store.record_alert(alert)
            await self._store.mark_alert_processed(alert.delivery_id, incident_id)

    async def _incident_holding(self, alert: Alert) -> Incident | None:
        """The incident a processed delivery went to, for a redelivery that resumes work."""
        candidates = (
            await self._store.get(incident_id_for(alert.delivery_id)),
            await self._store.find_by_alert_group(alert.alert_group_key),
            await self._store.find_open_by_grouping_key(self.grouping_key(alert), EPOCH),
        )
        for incident in candidates:
            if incident is not None and _holds(incident, alert):
                return incident
        for incident in await self._store.recent(statuses=OPEN_STATUSES, limit=10):
            if _holds(incident, alert):
                return incident
        return None


def _holds(incident: Incident, alert: Alert) -> bool:
    return any(a.delivery_id == alert.delivery_id for a in incident.alerts)


def _alert_data(alert: Alert, reason: Reason | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "delivery_id": alert.delivery_id,
        "alert_group_key": alert.alert_group_key,
        "source_event": alert.source_event,
        "title": alert.title,
        "severity": alert.severity.value,
    }
    if reason is not None:
        data["reason"] = reason
    return data


def _iso(at: datetime | None) -> str | None:
    return isoformat(at) if at is not None else None
