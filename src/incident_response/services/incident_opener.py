"""IncidentOpener: turn a processed alert into a new incident, or into one more alert on an
existing incident, so one problem is one incident however many alerts it raises.

For a FIRING alert, in order:
1. the delivery was already processed -> "duplicate" (the queue delivers at least once);
2. the delivery is already claimed by an incident -> that incident, the job finished (a
   redelivery after a crash; see below);
3. the alert group's incident is open -> "attached" (a MITIGATED one goes back to ASSEMBLED:
   "reopened"); it is RESOLVED -> a NEW incident pointing at the old one ("opened"), because a
   problem that comes back after resolution is a new incident, never a silent no-op;
4. an open incident with the same grouping key (e.g. service + alertname) was opened within the
   storm window -> "attached": an alert storm is one incident;
5. the cap of new incidents per minute is reached -> attached to THE storm incident of the
   storm window (an "alert storm" incident opened by the first overflowing alert, listing every
   overflowing one) and STORM_CAP_REACHED audited: a storm slows incident creation down but
   never drops an alert, and never puts one in an unrelated incident;
6. otherwise -> "opened".

Routing rules (domain.routing) decide before steps 3-6, for an alert whose group has no open
incident: `open` goes on with them; `attach` joins the newest open incident of the alert's
service ("attached", reason "service"), or with none open records the alert and stops;
`ignore` records it and stops ("ignored": ALERT_IGNORED on the NOT_OPENED chain, with the rule).
An alert whose group already has an open incident joins it whatever the rules say: the
incident is already about it.

The storm incident's id derives from the storm window's start, so two processors overflowing
at once, or a redelivered overflowing alert, find the same one instead of making a second.

An alert belongs to exactly one incident, across crashes and redeliveries: the create or save
that puts it on an incident carries its claim (AlertClaim: its delivery, and its alert group, go
to this incident), written atomically with the incident. A redelivery finds the claim (step 2)
instead of deciding again, which after a crash could pick another incident (the newest open one
has changed, the minute of the cap has passed). A write whose claim another incident holds
fails like a lost compare-and-set: re-read, and the claim is found. The alert group's claim
moves only when its incident is resolved and the group fires again (step 3).

Audit records are idempotent by key, so finishing a claimed job writes each one once. The cap
is soft: two alert groups deciding at the same instant may both open.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal, get_args

from incident_response.domain.alert import Alert, AlertEventKind, grouping_key
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import Clock, isoformat
from incident_response.domain.errors import AlreadyExists, NotFound
from incident_response.domain.incident import (
    Incident,
    IncidentStatus,
    attached,
    can_transition,
    incident_id_for,
)
from incident_response.domain.routing import Route, RouteAction, Routing
from incident_response.ports import AlertClaim, AuditLog, IncidentStore
from incident_response.services.compare_and_set import retry_on_conflict

Action = Literal["opened", "attached", "reopened", "mitigated", "duplicate", "ignored"]
Reason = Literal["alert group", "storm", "storm cap", "service"]
REASONS: tuple[Reason, ...] = get_args(Reason)

OPEN_STATUSES: tuple[IncidentStatus, ...] = tuple(s for s in IncidentStatus if s.is_open)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
A = AuditEventType

# the audit chain of alerts that opened or joined no incident (ignored by a rule, or an `attach`
# rule found nothing open): kept there, so the alert stays visible, with why
NOT_OPENED = "alerts-not-opened"
# the grouping key of storm incidents: no alert's key (`name=value|...`) can be equal to it
STORM_KEY = "alert-storm"
STORM_SERVICE = "alert storm"
OPEN_SCAN_LIMIT = 200  # open incidents an `attach` rule looks through for the alert's service


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
        routing: Routing | Callable[[], Routing] | None = None,
    ) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._grouping_labels = tuple(grouping_labels)
        self._storm_window = timedelta(seconds=storm_window_seconds)
        self._cap = max_new_incidents_per_minute
        self._attempts = max(max_attempts, 1)
        # a callable is asked on every alert: rules read live (the roster file's)
        fixed = routing if isinstance(routing, Routing) else Routing()
        self._routing: Callable[[], Routing] = (
            routing if callable(routing) and not isinstance(routing, Routing) else lambda: fixed
        )
        # one storm incident per window; at least a minute, the cap's own period
        self._storm_period = max(self._storm_window, timedelta(minutes=1))

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
        outcome = await retry_on_conflict(
            lambda: decide(alert), attempts=self._attempts, what=f"alert {alert.delivery_id}"
        )
        await self._mark_processed(alert, outcome.incident)
        return outcome

    # --- FIRING ---------------------------------------------------------------------------

    async def _open_or_attach(self, alert: Alert) -> OpenOutcome:
        now = self._clock.now()
        key = self.grouping_key(alert)
        claimed = await self._store.find_by_delivery(alert.delivery_id)
        if claimed is not None:
            return await self._finish(*claimed, alert, now)
        existing = await self._store.find_by_alert_group(alert.alert_group_key)
        if existing is not None and existing.is_open:
            return await self._attach(existing, alert, now, "alert group")
        route = self._routing().route(alert)
        if route.action is RouteAction.IGNORE:
            return await self._not_opened(alert, route, route.why)
        if route.action is RouteAction.ATTACH:
            same_service = await self._open_for_service(alert.service)
            if same_service is None:
                why = f"{route.why}, and no incident of service {alert.service!r} is open"
                return await self._not_opened(alert, route, why)
            # a re-fire of a group whose incident is resolved: the group moves with it
            moves_from = existing.id if existing is not None else None
            return await self._attach(same_service, alert, now, "service", moves_from=moves_from)
        if existing is not None:
            return await self._open(alert, key, now, previous=existing)
        grouped = await self._store.find_open_by_grouping_key(key, now - self._storm_window)
        if grouped is not None:
            return await self._attach(grouped, alert, now, "storm")
        if await self._store.count_created_since(now - timedelta(minutes=1)) >= self._cap:
            return await self._overflow(alert, now)
        return await self._open(alert, key, now, previous=None)

    async def _not_opened(self, alert: Alert, route: Route, why: str) -> OpenOutcome:
        """Keep the alert visible without acting on it: its record is on the NOT_OPENED chain
        (the delivery itself stays in the store, marked processed)."""
        data = {**_alert_data(alert), "service": alert.service, "action": route.action.value}
        data |= {"rule": route.rule, "why": why, "labels": dict(alert.labels)}
        await self._audit.append(
            AuditEvent(
                incident_id=NOT_OPENED,
                type=A.ALERT_IGNORED,
                key=f"ignored:{alert.delivery_id}",
                at=self._clock.now(),
                actor=f"alert:{alert.source.value}",
                data=data,
            )
        )
        return OpenOutcome(None, "ignored")

    async def _open_for_service(self, service: str) -> Incident | None:
        """The newest open incident of `service` (never a storm incident)."""
        for incident in await self._store.recent(statuses=OPEN_STATUSES, limit=OPEN_SCAN_LIMIT):
            if incident.service == service and not is_storm(incident):
                return incident
        return None

    # --- storm overflow -------------------------------------------------------------------

    async def _overflow(self, alert: Alert, now: datetime) -> OpenOutcome:
        """Over the cap: the alert goes to the window's storm incident, opened if need be."""
        storm = await self._store.find_open_by_grouping_key(STORM_KEY, now - self._storm_period)
        if storm is not None:
            return await self._attach(storm, alert, now, "storm cap")
        window = _window_start(now, self._storm_period)
        incident = self._storm_incident(alert, now, storm_id=incident_id_for(f"storm:{window}"))
        try:
            stored = await self._store.create(incident, claim=_claim(alert, "storm cap"))
        except AlreadyExists:
            found = await self._store.get(incident.id)
            if found is not None and found.is_open:
                return await self._attach(found, alert, now, "storm cap")
            # the window's storm incident was resolved already: this alert starts another
            incident = incident.update(id=incident_id_for(f"storm:{alert.delivery_id}"))
            try:
                stored = await self._store.create(incident, claim=_claim(alert, "storm cap"))
            except AlreadyExists:
                again = await self._store.get(incident.id)
                if again is None:  # pragma: no cover - create said it exists
                    raise
                stored = again
        return await self._attach(stored, alert, now, "storm cap")

    def _storm_incident(self, alert: Alert, now: datetime, *, storm_id: str) -> Incident:
        window = _window_start(now, self._storm_period)
        return Incident(
            id=storm_id,
            severity=alert.severity,
            title=f"Alert storm: more than {self._cap} new incidents a minute",
            summary=(
                "Alerts that came while the cap of new incidents per minute was reached are "
                "listed here instead of opening incidents of their own. Split one out with "
                "`split <number>` to give it its own incident."
            ),
            source=alert.source,
            alert_group_id=f"storm-{window}",
            alert_group_key=f"storm:{window}",  # no alert's group: none of them mitigates it
            grouping_key=STORM_KEY,
            service=STORM_SERVICE,
            created_at=now,
            updated_at=now,
            alerts=(attached(alert),),
        )

    async def _storm_opened(self, storm: Incident, alert: Alert) -> None:
        """The storm incident's chain starts with INCIDENT_OPENED, whoever gets there first
        (the opener, or a redelivery finishing its job after a crash)."""
        await self._audit.append(
            AuditEvent(
                incident_id=storm.id,
                type=A.INCIDENT_OPENED,
                key=f"opened:{storm.id}",
                at=self._clock.now(),
                actor=f"alert:{alert.source.value}",
                data={
                    **_alert_data(alert, "storm cap"),
                    "storm": True,
                    "cap_per_minute": self._cap,
                },
            )
        )

    async def _open(
        self, alert: Alert, key: str, now: datetime, *, previous: Incident | None
    ) -> OpenOutcome:
        incident = Incident.open_from(alert, grouping_key=key, now=now)
        moves_from = None
        if previous is not None:
            incident = incident.update(previous_incident_id=previous.id)
            moves_from = previous.id
        claim = _claim(alert, "", moves_from=moves_from)
        try:
            stored = await self._store.create(incident, claim=claim)
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
        self,
        incident: Incident,
        alert: Alert,
        now: datetime,
        reason: Reason,
        *,
        moves_from: str | None = None,
    ) -> OpenOutcome:
        if is_storm(incident):
            await self._storm_opened(incident, alert)
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
            claim = _claim(alert, reason, moves_from=moves_from)
            stored = await self._store.save(changed, claim=claim)
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

    async def _finish(
        self, incident: Incident, claim: AlertClaim, alert: Alert, now: datetime
    ) -> OpenOutcome:
        """The delivery is claimed by `incident` (so attached to it) but was not marked
        processed: finish what the decision left undone, with the incident it took."""
        if alert.kind is AlertEventKind.RESOLVED:
            if incident.status is IncidentStatus.MITIGATED and _own_group(incident, alert):
                return await self._mitigated(incident, alert)
        elif incident.id == incident_id_for(alert.delivery_id):
            return await self._opened(incident, alert)
        return await self._attach(incident, alert, now, _reason(claim, incident, alert))

    # --- RESOLVED -------------------------------------------------------------------------

    async def _mitigate(self, alert: Alert) -> OpenOutcome:
        now = self._clock.now()
        claimed = await self._store.find_by_delivery(alert.delivery_id)
        if claimed is not None:
            return await self._finish(*claimed, alert, now)
        incident = await self._store.find_by_alert_group(alert.alert_group_key)
        if incident is None:
            grouped = await self._store.find_open_by_grouping_key(self.grouping_key(alert), EPOCH)
            if grouped is None:
                return OpenOutcome(None, "ignored")
            return await self._attach(grouped, alert, now, "storm")
        # a storm member's group resolving does not mean the storm's incident is over
        if not _own_group(incident, alert) or not can_transition(
            incident.status, IncidentStatus.MITIGATED
        ):
            return await self._attach(incident, alert, now, "alert group")
        changed = incident.attach(alert, at=now).transition(IncidentStatus.MITIGATED, at=now)
        saved = await self._store.save(changed, claim=_claim(alert, "alert group"))
        return await self._mitigated(saved, alert)

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
        claimed = await self._store.find_by_delivery(alert.delivery_id)
        return claimed[0] if claimed is not None else None


def is_storm(incident: Incident) -> bool:
    """An "alert storm" incident: it holds the alerts over the cap of new incidents."""
    return incident.grouping_key == STORM_KEY


def _window_start(now: datetime, period: timedelta) -> str:
    seconds = period.total_seconds()
    start = int(now.timestamp() // seconds * seconds)
    return datetime.fromtimestamp(start, tz=UTC).strftime("%Y%m%dT%H%M%SZ")


def _holds(incident: Incident, alert: Alert) -> bool:
    return any(a.delivery_id == alert.delivery_id for a in incident.alerts)


def _own_group(incident: Incident, alert: Alert) -> bool:
    """The alert is of the group that opened the incident (not a storm member's group)."""
    return incident.alert_group_key == alert.alert_group_key


def _claim(
    alert: Alert, reason: Reason | Literal[""], *, moves_from: str | None = None
) -> AlertClaim:
    return AlertClaim(
        delivery_id=alert.delivery_id,
        alert_group_key=alert.alert_group_key,
        reason=reason,
        moves_from=moves_from,
    )


def _reason(claim: AlertClaim, incident: Incident, alert: Alert) -> Reason:
    """Why the claimed alert was attached; claims backfilled from old incidents do not say."""
    for reason in REASONS:
        if claim.reason == reason:
            return reason
    return "alert group" if _own_group(incident, alert) else "storm"


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
