"""AlertSplitter: take an alert out of an incident (an alert storm's, or any other) into an
incident of its own, which is then assembled like any alerted incident.

The alert's whole group moves: its deliveries on the incident, and the group's claim (so the
group's later alerts follow it to the new incident). The new incident's id and its claim derive
from the alert's delivery, so a split asked twice, or finished after a crash, is the same split:
1. create the new incident holding the group's deliveries, moving the group claim from the old
   incident (atomic with the create; a create that finds the id taken reads it back);
2. take the deliveries off the old incident (compare-and-set; already gone changes nothing);
3. audit INCIDENT_OPENED on the new incident, then ALERT_SPLIT on both (idempotent keys);
4. assemble the new incident's war room.
A crash between 1 and 2 leaves the alert on both for a moment; asking again finishes the split.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from incident_response.domain.alert import AlertSource, grouping_key
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.errors import AlreadyExists, IncidentResponseError
from incident_response.domain.incident import AttachedAlert, Incident, incident_id_for
from incident_response.ports import AlertClaim, AuditLog, IncidentStore
from incident_response.services.compare_and_set import retry_on_conflict, save_change

MIN_ID_PREFIX = 6


class CannotSplit(IncidentResponseError):
    """The alert cannot be split out; the message says why and what to do instead."""


class Assembler(Protocol):
    async def assemble(self, incident_id: str) -> Incident: ...


@dataclass(frozen=True)
class Split:
    """What a split did: the incident the alert left (as saved) and the one it now has."""

    source: Incident
    incident: Incident
    alert: AttachedAlert
    assembly_error: str = ""
    # asked again for a split already complete (war room and all): nothing was done this time
    already: bool = False


def find_alert(incident: Incident, which: str) -> AttachedAlert:
    """The attached alert `which` names: its number in the incident's list (1 is the first),
    or its delivery id (a unique prefix of at least six characters will do)."""
    wanted = which.strip().removeprefix("#")
    if not wanted:
        raise CannotSplit("name the alert: `split <number>` (see the incident's alerts)")
    if wanted.isdigit():
        number = int(wanted)
        if not 1 <= number <= len(incident.alerts):
            raise CannotSplit(
                f"there is no alert {number}: incident {incident.id} has "
                f"{len(incident.alerts)} alert(s)"
            )
        return incident.alerts[number - 1]
    found = [a for a in incident.alerts if a.delivery_id == wanted]
    if not found and len(wanted) >= MIN_ID_PREFIX:
        found = [a for a in incident.alerts if a.delivery_id.startswith(wanted)]
    if len(found) == 1:
        return found[0]
    if found:
        raise CannotSplit(f"{wanted!r} names {len(found)} alerts: give more of the id")
    raise CannotSplit(f"incident {incident.id} has no alert {wanted!r}")


class AlertSplitter:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        clock: Clock,
        grouping_labels: Sequence[str] = ("service", "alertname"),
        assembler: Assembler | None = None,
    ) -> None:
        self._store = store
        self._audit = audit
        self._clock = clock
        self._grouping_labels = tuple(grouping_labels)
        self._assembler = assembler

    async def split(self, incident: Incident, which: str, *, actor: str) -> Split:
        """Split the alert `which` names out of `incident` (CannotSplit says why not)."""
        if not incident.is_open:
            raise CannotSplit(f"incident {incident.id} is resolved: its alerts stay with it")
        alert = await self._alert_or_finished_split(incident, which)
        if alert.alert_group_key == incident.alert_group_key:
            raise CannotSplit(
                "that alert is the one this incident is about: it cannot leave it "
                "(split out the alerts that joined it)"
            )
        again = all(a.delivery_id != alert.delivery_id for a in incident.alerts)
        created = await self._create(incident, alert)
        already = again and created.channel is not None
        source = await save_change(self._store, incident.id, _without(alert.alert_group_key))
        data = {
            "delivery_id": alert.delivery_id,
            "alert_group_key": alert.alert_group_key,
            "title": alert.title,
            "from": incident.id,
            "to": created.id,
            "by": actor,
        }
        await self._append(
            created.id,
            AuditEventType.INCIDENT_OPENED,
            "opened",
            alert,
            actor,
            {
                **data,
                "severity": created.severity.value,
                "service": created.service,
                "split_from": incident.id,
            },
        )
        for incident_id in (created.id, incident.id):
            await self._append(incident_id, AuditEventType.ALERT_SPLIT, "split", alert, actor, data)
        error = ""
        if self._assembler is not None:
            try:
                created = await self._assembler.assemble(created.id)
            except IncidentResponseError as exc:
                error = str(exc)  # the incident exists; `split` again retries the room
        return Split(
            source=source, incident=created, alert=alert, assembly_error=error, already=already
        )

    async def _alert_or_finished_split(self, incident: Incident, which: str) -> AttachedAlert:
        """The alert to split; an alert already split out (by its id) is split again, which
        finishes what a crash or a failed assembly left undone."""
        try:
            return find_alert(incident, which)
        except CannotSplit:
            delivery = which.strip()
            done = await self._store.get(incident_id_for(f"split:{delivery}"))
            if done is None or done.previous_incident_id != incident.id:
                raise
            held = [a for a in done.alerts if a.delivery_id == delivery]
            if not held:
                raise
            return held[0]

    async def _create(self, incident: Incident, alert: AttachedAlert) -> Incident:
        moved = tuple(a for a in incident.alerts if a.alert_group_key == alert.alert_group_key)
        source, _, group_id = alert.alert_group_key.partition(":")
        now = self._clock.now()
        new = Incident(
            id=incident_id_for(f"split:{alert.delivery_id}"),
            severity=alert.severity or incident.severity,
            title=alert.title,
            source=AlertSource(source) if source in set(AlertSource) else incident.source,
            alert_group_id=group_id or alert.alert_group_key,
            alert_group_key=alert.alert_group_key,
            grouping_key=grouping_key(alert.labels, self._grouping_labels),
            service=alert.service,
            labels=dict(alert.labels),
            created_at=now,
            updated_at=now,
            alerts=moved,
            summary=f"Split out of incident {incident.id} ({incident.title}).",
            previous_incident_id=incident.id,  # where it came from
        )
        claim = AlertClaim(
            delivery_id=f"split:{alert.delivery_id}",
            alert_group_key=alert.alert_group_key,
            reason="split",
            moves_from=incident.id,
        )

        async def create() -> Incident:
            try:
                return await self._store.create(new, claim=claim)
            except AlreadyExists:
                found = await self._store.get(new.id)
                if found is None:  # pragma: no cover - create said it exists
                    raise
                return found

        # a lost claim race reads again once or twice; a claim held elsewhere for good is named
        return await retry_on_conflict(create, attempts=3, what=f"splitting {alert.delivery_id}")

    async def _append(
        self,
        incident_id: str,
        type_: AuditEventType,
        prefix: str,
        alert: AttachedAlert,
        actor: str,
        data: dict[str, Any],
    ) -> None:
        await self._audit.append(
            AuditEvent(
                incident_id=incident_id,
                type=type_,
                key=f"{prefix}:split:{alert.delivery_id}",
                at=self._clock.now(),
                actor=actor,
                data=data,
            )
        )


def _without(alert_group_key: str) -> Any:
    def change(current: Incident) -> Incident | None:
        kept = tuple(a for a in current.alerts if a.alert_group_key != alert_group_key)
        if len(kept) == len(current.alerts):
            return None
        return current.update(alerts=kept)

    return change
