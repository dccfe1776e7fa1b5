"""What a command is given and what it answers, and the services commands may use.

The services are described here as Protocols (only the methods commands call), so the commands
depend on the shape of the StatusUpdateGate, NudgeScheduler and Resolver, not on their modules.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.authority import Action, AuthorityDecision
from incident_response.domain.clock import Clock, utc
from incident_response.domain.incident import ChecklistItem, Incident
from incident_response.domain.maintenance import Maintenance
from incident_response.domain.people import Person
from incident_response.domain.status_update import DraftKind, StatusDraft
from incident_response.ports import AuditLog, Chat, Directory, IncidentStore
from incident_response.services.alert_split import Split
from incident_response.services.compare_and_set import save_change as save_change

Surface = Literal["api", "console", "slack"]


@dataclass(frozen=True)
class CommandContext:
    """Who typed a command, and where.

    `incident_id` is set when the surface knows the incident (the API's URL, the console's
    incident page); otherwise `channel_id` names the chat channel it was typed in.
    `invocation_id` lets a surface that retries deliveries (Slack) keep one audit record per
    invocation; left empty, every call is a new invocation.
    """

    actor: Person
    surface: Surface
    incident_id: str | None = None
    channel_id: str | None = None
    invocation_id: str = ""


@dataclass(frozen=True)
class CommandReply:
    """The answer shown to the person who typed the command.

    `ok` is False whenever the command did not do what was asked (no silent stubs);
    `ephemeral` replies are shown to that person only; `data` is for API callers.
    """

    text: str
    ok: bool = True
    ephemeral: bool = True
    data: dict[str, Any] = field(default_factory=dict)


class DraftGate(Protocol):
    async def create_draft(
        self, incident_id: str, *, actor: str, kind: DraftKind = DraftKind.UPDATE
    ) -> StatusDraft: ...


class Reminders(Protocol):
    async def silence(self, incident_id: str, *, actor: str) -> bool: ...

    async def unsilence(self, incident_id: str, *, actor: str) -> bool: ...


class StatusNotes(Protocol):
    async def consider(self, incident_id: str, *, note_key: str, text: str, actor: str) -> bool: ...


class Splitter(Protocol):
    """Splits an alert out into its own incident (services.alert_split.AlertSplitter)."""

    async def split(self, incident: Incident, which: str, *, actor: str) -> Split: ...


class EscalationOutcome(Protocol):
    @property
    def paged(self) -> tuple[str, ...]: ...

    @property
    def invited(self) -> tuple[str, ...]: ...

    @property
    def problems(self) -> tuple[str, ...]: ...


class Escalation(Protocol):
    """Calls the responders again after a severity raise (services.severity_escalation)."""

    async def escalate(
        self, incident: Incident, *, before: Severity, actor: str
    ) -> EscalationOutcome: ...


class RaiseChecklist(Protocol):
    """The worse severity's checklist items on a raise (services.checklist_on_raise)."""

    def grown(
        self, checklist: Sequence[ChecklistItem], severity: Severity
    ) -> tuple[ChecklistItem, ...]: ...

    async def record(
        self,
        incident: Incident,
        added: Sequence[ChecklistItem],
        *,
        before: Severity,
        actor: str,
    ) -> str | None: ...


class Permissions(Protocol):
    """The one policy with the live facts about the person (services.authority.Authority)."""

    async def decide(
        self, action: Action, incident: Incident | None, email: str, *, target: str | None = None
    ) -> AuthorityDecision: ...


class DeclaredIncident(Protocol):
    @property
    def incident(self) -> Incident: ...


class Declarer(Protocol):
    """The declaration service (services.declaration.Declarations)."""

    async def declare(
        self,
        *,
        declared_by: str,
        title: str,
        severity: str,
        service: str = "",
        summary: str = "",
        ic: str | None = None,
        key: str | None = None,
    ) -> DeclaredIncident: ...


class Maintenances(Protocol):
    """Scheduled maintenance through the approval gate (services.maintenance.MaintenanceDesk)."""

    async def schedule(
        self,
        *,
        actor: str,
        title: str,
        body: str,
        scheduled_for: str,
        scheduled_until: str,
        components: Sequence[str],
    ) -> Maintenance: ...

    async def approve(
        self, maintenance_id: str, draft_id: str, *, actor: str, version: int
    ) -> Maintenance: ...

    async def recent(self, *, actor: str) -> list[Maintenance]: ...

    async def get(self, maintenance_id: str, *, actor: str) -> Maintenance: ...


class ResolutionOutcome(Protocol):
    @property
    def accepted(self) -> bool: ...

    @property
    def state(self) -> str: ...

    @property
    def text(self) -> str: ...


class Resolution(Protocol):
    async def request(self, incident_id: str, *, actor: str) -> ResolutionOutcome: ...


@dataclass(frozen=True)
class CommandServices:
    """Everything a command may use; the composition root builds it once."""

    store: IncidentStore
    audit: AuditLog
    chat: Chat
    directory: Directory
    authority: Permissions
    gate: DraftGate
    reminders: Reminders
    resolver: Resolution
    clock: Clock
    # asks the drafter whether a note is a status update (services.status_update_notes)
    status_notes: StatusNotes | None = None
    # opens incidents by hand (services.declaration)
    declarations: Declarer | None = None
    # `split`: an alert out of an incident into its own (services.alert_split)
    splitter: Splitter | None = None
    # pages the on-call and invites who a raised severity calls for (services.severity_escalation)
    escalation: Escalation | None = None
    # `maintenance`: scheduled maintenance through the approval gate (services.maintenance)
    maintenance: Maintenances | None = None
    # adds the raised severity's checklist items (services.checklist_on_raise)
    checklist_on_raise: RaiseChecklist | None = None


@dataclass(frozen=True)
class CommandCall:
    """One invocation as a command sees it: the words after its name and the incident, if any."""

    context: CommandContext
    name: str
    args: str
    incident: Incident | None
    help_text: str

    @property
    def actor(self) -> str:
        return self.context.actor.email

    @property
    def words(self) -> list[str]:
        return self.args.split()

    def require_incident(self) -> Incident:
        if self.incident is None:
            raise RuntimeError(f"command {self.name} ran without an incident")
        return self.incident


class Command(Protocol):
    """One `/incident-response <name>` command. `needs_incident` commands only run where an
    incident is known; the registry answers with help elsewhere. `action` is what the call asks
    to do: the registry asks the policy before `run`, so no command can forget to."""

    name: str
    usage: str
    summary: str
    needs_incident: bool

    def action(self, call: CommandCall) -> Action: ...

    async def run(self, call: CommandCall) -> CommandReply: ...


def refused(text: str, **data: Any) -> CommandReply:
    return CommandReply(text=text, ok=False, data=dict(data))


def not_permitted(name: str, decision: AuthorityDecision, **data: Any) -> CommandReply:
    """The policy said no: nothing was done, and the reply says who may do it."""
    return refused(f"`{name}` was not run: {decision.text}.", not_permitted=True, **data)


def closed_reply(incident: Incident, what: str) -> CommandReply:
    """The answer to a state change asked of a resolved incident."""
    return refused(
        f"Incident {incident.id} is resolved: {what} changes nothing now.", status="resolved"
    )


async def audit(
    services: CommandServices,
    incident_id: str,
    type_: AuditEventType,
    key: str,
    *,
    actor: str,
    data: dict[str, Any] | None = None,
) -> None:
    await services.audit.append(
        AuditEvent(
            incident_id=incident_id,
            type=type_,
            key=key,
            at=services.clock.now(),
            actor=actor,
            data=data or {},
        )
    )


# `@U123`: a chat id (a chat adapter turns its own mention markup into this form)
CHAT_MENTION = re.compile(r"^@([A-Z0-9][A-Z0-9._-]*)$")


@dataclass(frozen=True)
class PersonLookup:
    """Who `@person` named: the person, or why nobody could be chosen."""

    person: Person | None
    problem: str = ""


async def find_person(directory: Directory, text: str) -> PersonLookup:
    """`@person` as an e-mail, a chat id (`@U123`) or a name in the directory."""
    wanted = text.strip()
    if not wanted:
        return PersonLookup(None, "name a person: an e-mail, a chat mention or a name")
    bare = wanted.removeprefix("@").strip()
    if "@" in bare and " " not in bare:
        person = await directory.person(bare)
        if person is None:
            return PersonLookup(None, f"{bare} is not in the directory")
        return PersonLookup(person)
    mention = CHAT_MENTION.match(wanted)
    if mention is not None:
        person = await directory.person_by_chat_id(mention.group(1))
        if person is not None:
            return PersonLookup(person)
    folded = bare.casefold()
    people = await directory.people()
    exact = [p for p in people if p.name.casefold() == folded]
    if len(exact) == 1:
        return PersonLookup(exact[0])
    partial = exact or [p for p in people if folded in _name_words(p)]
    if len(partial) == 1:
        return PersonLookup(partial[0])
    if len(partial) > 1:
        names = ", ".join(f"{p.name} ({p.email})" for p in partial)
        return PersonLookup(None, f"{bare!r} could be {names}: use the e-mail")
    if mention is not None:
        return PersonLookup(None, f"nobody in the directory has the chat id {mention.group(1)}")
    return PersonLookup(None, f"nobody called {bare!r} is in the directory")


def _name_words(person: Person) -> set[str]:
    return {w.casefold() for w in person.name.split()} | {person.email.split("@")[0].casefold()}


def utc_text(at: datetime | None) -> str:
    """A time as people read it in a chat: `2026-11-26 09:05 UTC`."""
    return "never" if at is None else f"{utc(at):%Y-%m-%d %H:%M} UTC"


def duration_text(delta: timedelta) -> str:
    """`2d 3h`, `1h 05m`, `12m`, `40s`: a duration at the precision a person cares about."""
    seconds = max(int(delta.total_seconds()), 0)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"
