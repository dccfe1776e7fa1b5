"""The incident: its status machine and the facts the war room is built from."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

from incident_response.domain.alert import (
    Alert,
    AlertEventKind,
    AlertSource,
    Severity,
    alert_group_key,
)
from incident_response.domain.context import PublicStatus
from incident_response.domain.declaration import Declaration
from incident_response.domain.errors import IllegalTransition
from incident_response.domain.people import Person
from incident_response.domain.status_update import StatusDraft


class IncidentStatus(StrEnum):
    ALERT_RECEIVED = "alert_received"
    ASSEMBLING = "assembling"
    ASSEMBLED = "assembled"
    MITIGATED = "mitigated"
    RESOLVED = "resolved"
    ASSEMBLY_FAILED = "assembly_failed"

    @property
    def is_open(self) -> bool:
        return self is not IncidentStatus.RESOLVED


S = IncidentStatus
# the alert label that marks a drill (issue 13): `drill=true`
DRILL_LABEL = "drill"

TRANSITIONS: Mapping[IncidentStatus, frozenset[IncidentStatus]] = {
    S.ALERT_RECEIVED: frozenset({S.ASSEMBLING, S.MITIGATED, S.RESOLVED}),
    S.ASSEMBLING: frozenset({S.ASSEMBLED, S.ASSEMBLY_FAILED, S.MITIGATED, S.RESOLVED}),
    S.ASSEMBLED: frozenset({S.MITIGATED, S.RESOLVED}),
    # a re-fired alert group takes a mitigated incident back to work
    S.MITIGATED: frozenset({S.ASSEMBLED, S.RESOLVED}),
    # assembly can be retried by hand, and a failed room can still be resolved
    S.ASSEMBLY_FAILED: frozenset({S.ASSEMBLING, S.RESOLVED}),
    S.RESOLVED: frozenset(),
}


def can_transition(current: IncidentStatus, target: IncidentStatus) -> bool:
    return target in TRANSITIONS[current]


class IncidentRole(StrEnum):
    """The roles beside the IC (the IC stays `Incident.ic`); each is held by one person."""

    COMMS = "comms"
    SCRIBE = "scribe"
    OPS = "ops"

    @property
    def label(self) -> str:
        """How the room and the console name it: "communications lead"."""
        return ROLE_TITLES[self]


ROLE_TITLES: Mapping[IncidentRole, str] = {
    IncidentRole.COMMS: "communications lead",
    IncidentRole.SCRIBE: "scribe",
    IncidentRole.OPS: "ops lead",
}


class IssueRef(BaseModel):
    """An issue filed in the tracker (Linear, or the Markdown list of the embedded default)."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str = ""


class FollowUp(BaseModel):
    """An action item recorded during the incident (`followup <text> [@owner]`); on resolve it
    is filed in the tracker and `issue` points at it."""

    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    owner: str | None = None
    created_by: str
    created_at: datetime
    issue: IssueRef | None = None


class ChannelRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    url: str = ""


class Responder(BaseModel):
    model_config = ConfigDict(frozen=True)

    email: str
    name: str = ""
    chat_id: str = ""
    role: str = "responder"  # "primary", "secondary", "team", "invited"


class ChecklistItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str
    done: bool = False
    done_by: str | None = None
    done_at: datetime | None = None


class AttachedAlert(BaseModel):
    """An alert delivery that belongs to this incident (the first one, storms and re-fires)."""

    model_config = ConfigDict(frozen=True)

    alert_group_key: str
    delivery_id: str
    title: str
    kind: AlertEventKind
    at: datetime
    # kept so an alert can be split out into an incident of its own (issue 12, routing)
    severity: Severity | None = None
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def service(self) -> str:
        return self.labels.get("service") or self.labels.get("job") or "unknown"


class StatusPageRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident_id: str
    url: str = ""


class PostmortemRef(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    url: str


def incident_id_for(delivery_id: str) -> str:
    """Incident ids derive from the first delivery, so a redelivered alert finds its incident."""
    return "inc-" + hashlib.sha256(delivery_id.encode()).hexdigest()[:10]


def declared_incident_id(declared_by: str, key: str) -> str:
    """A declared incident's id derives from the declarer and the declaration's key (an
    Idempotency-Key, a Slack view, a console form), so a retried declaration finds its
    incident instead of opening a second one."""
    return incident_id_for(f"declared:{declared_by.strip().casefold()}:{key}")


class Incident(BaseModel):
    """An incident. Immutable: every change returns a new value with the same version.

    The store bumps `version` on a successful compare-and-set save.
    """

    model_config = ConfigDict(frozen=True)

    id: str
    version: int = 0
    status: IncidentStatus = IncidentStatus.ALERT_RECEIVED
    severity: Severity
    title: str
    source: AlertSource
    alert_group_id: str
    alert_group_key: str
    grouping_key: str = ""
    service: str = "unknown"
    labels: dict[str, str] = Field(default_factory=dict)
    links: dict[str, str] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime
    assembled_at: datetime | None = None
    mitigated_at: datetime | None = None
    resolved_at: datetime | None = None
    channel: ChannelRef | None = None
    ic: str | None = Field(default=None, description="E-mail of the incident commander.")
    responders: tuple[Responder, ...] = ()
    checklist: tuple[ChecklistItem, ...] = ()
    alerts: tuple[AttachedAlert, ...] = ()
    drafts: tuple[StatusDraft, ...] = ()
    status_page: StatusPageRef | None = None
    postmortem: PostmortemRef | None = None
    assembly_steps: dict[str, Any] = Field(
        default_factory=dict, description="Completed war-room assembly steps and their results."
    )
    resolution_steps: dict[str, Any] = Field(
        default_factory=dict,
        description="The resolution request and the completed resolution steps and their results.",
    )
    nudges_silenced: bool = False
    previous_incident_id: str | None = None
    # steered by people (issue 12): the public stage, the roles beside the IC, action items,
    # and who declared it when no alert did
    stage: PublicStatus = PublicStatus.INVESTIGATING
    roles: dict[IncidentRole, str] = Field(
        default_factory=dict, description="E-mail of each role's holder, by role."
    )
    followups: tuple[FollowUp, ...] = ()
    summary: str = ""
    declared_by: str | None = None
    # issue 12, alert context kept: the opening alert's summary and description (its runbook
    # and dashboard addresses are in `links`)
    annotations: dict[str, str] = Field(default_factory=dict)

    @classmethod
    def open_from(cls, alert: Alert, *, grouping_key: str, now: datetime) -> Self:
        return cls(
            id=incident_id_for(alert.delivery_id),
            severity=alert.severity,
            title=alert.title,
            source=alert.source,
            alert_group_id=alert.alert_group_id,
            alert_group_key=alert.alert_group_key,
            grouping_key=grouping_key,
            service=alert.service,
            labels=dict(alert.labels),
            links=dict(alert.links),
            annotations=dict(alert.annotations),
            created_at=now,
            updated_at=now,
            alerts=(attached(alert),),
        )

    @classmethod
    def declare(
        cls,
        declaration: Declaration,
        *,
        incident_id: str,
        declared_by: Person,
        ic: Person,
        now: datetime,
    ) -> Self:
        """An incident a person declared: no alert, the same status machine and assembly. The
        IC and the declarer are its first responders (the assembler adds who is on call); its
        alert group is its own, so no alert ever groups into it by accident."""
        responders = [Responder(email=ic.email, name=ic.name, chat_id=ic.chat_id, role="ic")]
        if ic.email.casefold() != declared_by.email.casefold():
            responders.append(
                Responder(
                    email=declared_by.email,
                    name=declared_by.name,
                    chat_id=declared_by.chat_id,
                    role="declarer",
                )
            )
        return cls(
            id=incident_id,
            severity=declaration.severity,
            title=declaration.title,
            source=AlertSource.MANUAL,
            alert_group_id=incident_id,
            alert_group_key=alert_group_key(AlertSource.MANUAL, incident_id),
            service=declaration.service,
            created_at=now,
            updated_at=now,
            ic=ic.email,
            responders=tuple(responders),
            summary=declaration.summary,
            declared_by=declared_by.email,
        )

    @property
    def declared(self) -> bool:
        return self.source is AlertSource.MANUAL

    def transition(self, target: IncidentStatus, *, at: datetime) -> Self:
        """Move to `target`, stamping the time the status is about; illegal moves raise."""
        if not can_transition(self.status, target):
            raise IllegalTransition(f"incident {self.id}: {self.status} -> {target} is not allowed")
        stamps: dict[str, Any] = {"status": target, "updated_at": at}
        if target is IncidentStatus.ASSEMBLED and self.assembled_at is None:
            stamps["assembled_at"] = at
        elif target is IncidentStatus.MITIGATED:
            stamps["mitigated_at"] = at
        elif target is IncidentStatus.RESOLVED:
            stamps["resolved_at"] = at
        return self.model_copy(update=stamps)

    def attach(self, alert: Alert, *, at: datetime) -> Self:
        """Record another delivery on this incident; a delivery already attached changes nothing."""
        if any(a.delivery_id == alert.delivery_id for a in self.alerts):
            return self
        # the worst alert in a storm sets the severity
        severity = min(self.severity, alert.severity, key=lambda s: s.rank)
        return self.model_copy(
            update={
                "alerts": (*self.alerts, attached(alert)),
                "severity": severity,
                "updated_at": at,
            }
        )

    def update(self, **changes: Any) -> Self:
        """A copy with `changes`; validation is the caller's (the services own the rules)."""
        return self.model_copy(update=changes)

    @property
    def is_open(self) -> bool:
        return self.status.is_open

    @property
    def is_drill(self) -> bool:
        """A rehearsal (`incident-response drill`): its alert carried the `drill=true` label. A
        drill walks the whole war room but never reaches the public page or the insights."""
        return self.labels.get(DRILL_LABEL, "").strip().lower() == "true"

    def draft(self, draft_id: str) -> StatusDraft | None:
        return next((d for d in self.drafts if d.id == draft_id), None)


def attached(alert: Alert) -> AttachedAlert:
    return AttachedAlert(
        alert_group_key=alert.alert_group_key,
        delivery_id=alert.delivery_id,
        title=alert.title,
        kind=alert.kind,
        at=alert.received_at,
        severity=alert.severity,
        labels=dict(alert.labels),
    )
