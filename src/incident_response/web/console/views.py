"""What the console's templates are given: plain view models built from incidents, people,
chat messages and audit records. No I/O here, so each shape is easy to test."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from markupsafe import Markup, escape

from incident_response.adapters.console.records import ConsoleMessage
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.chat import ChatButton
from incident_response.domain.clock import utc
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.domain.people import Person
from incident_response.domain.text import shortened
from incident_response.domain.timeline import Naming, TimelineEntry, incident_story
from incident_response.web.views import alert_to_assembled

STATUS_LABELS: Mapping[IncidentStatus, str] = {
    IncidentStatus.ALERT_RECEIVED: "Alert received",
    IncidentStatus.ASSEMBLING: "Assembling",
    IncidentStatus.ASSEMBLED: "Active",
    IncidentStatus.MITIGATED: "Mitigated",
    IncidentStatus.RESOLVED: "Resolved",
    IncidentStatus.ASSEMBLY_FAILED: "Assembly failed",
}

# What pressing a war-room button does in the console: the command a person would type.
BUTTON_COMMANDS: Mapping[str, str] = {
    "checklist.toggle": "checklist toggle {value}",
    "draft.create": "draft",
    "pulse.rate": "rate {value}",
    "incident.resolve": "resolve",
    "alert.split": "split {value}",
}

# Which action (the policy's, lower-cased) a war-room button asks for: the console shows a button
# only to someone the policy lets take it. A button not listed is offered to nobody.
BUTTON_ACTIONS: Mapping[str, str] = {
    "checklist.toggle": "checklist",
    "draft.create": "draft",
    "draft.edit": "draft",
    "draft.approve": "approve",
    "draft.reject": "reject",
    "pulse.rate": "rate",
    "incident.resolve": "resolve",
    "alert.split": "split_alert",
}

TOKENS = re.compile(
    r"(?P<url>https?://[^\s<>\"']+)"
    r"|<@(?P<mention>[A-Z0-9][A-Z0-9._-]*)(?:\|(?P<label>[^>]*))?>"
    r"|(?<![\w*])\*(?P<bold>[^*\n]+?)\*(?![\w*])"
    r"|`(?P<code>[^`\n]+)`"
)


def people_index(people: Iterable[Person]) -> dict[str, Person]:
    return {p.email.lower(): p for p in people}


def display_name(email: str | None, people: Mapping[str, Person]) -> str:
    if not email:
        return ""
    person = people.get(email.lower())
    return person.name if person is not None and person.name else email


def button_command(action: str, value: str) -> str | None:
    """The command text a war-room button stands for, or None for an action the console has
    no command for."""
    template = BUTTON_COMMANDS.get(action)
    if template is None:
        return None
    return template.format(value=value.strip()).strip()


@dataclass(frozen=True)
class IncidentRow:
    """One line of the incidents list: only what the incident document itself holds."""

    id: str
    title: str
    severity: str
    status: str
    status_label: str
    service: str
    is_open: bool
    ic: str
    created_at: datetime
    age_seconds: float
    assembled_seconds: float | None


def incident_row(incident: Incident, people: Mapping[str, Person], now: datetime) -> IncidentRow:
    ended = incident.resolved_at if incident.resolved_at is not None else now
    return IncidentRow(
        id=incident.id,
        title=shortened(incident.title),
        severity=incident.severity.value,
        status=incident.status.value,
        status_label=STATUS_LABELS[incident.status],
        service=incident.service,
        is_open=incident.is_open,
        ic=display_name(incident.ic, people),
        created_at=incident.created_at,
        age_seconds=max((utc(ended) - utc(incident.created_at)).total_seconds(), 0.0),
        assembled_seconds=alert_to_assembled(incident),
    )


def incident_rows(
    incidents: Sequence[Incident], people: Mapping[str, Person], now: datetime
) -> list[IncidentRow]:
    """Open incidents first (worst severity, then newest), then the rest newest first."""
    ordered = sorted(
        incidents,
        key=lambda i: (
            not i.is_open,
            i.severity.rank if i.is_open else 0,
            -utc(i.created_at).timestamp(),
        ),
    )
    return [incident_row(i, people, now) for i in ordered]


def chat_text(text: str, names: Mapping[str, str]) -> Markup:
    """Chat markup as safe HTML: links, `<@U123>` mentions by name, *bold* and `code`.
    Everything else is escaped, so nothing in a message can inject markup."""
    out: list[str] = []
    last = 0
    for match in TOKENS.finditer(text):
        out.append(str(escape(text[last : match.start()])))
        last = match.end()
        if match.group("url"):
            url = match.group("url")
            trail = ""
            while url and url[-1] in ".,;:!?)":
                url, trail = url[:-1], url[-1] + trail
            out.append(str(Markup('<a href="{0}" rel="noopener">{0}</a>').format(url)))
            out.append(str(escape(trail)))
        elif match.group("mention"):
            user = match.group("mention")
            name = names.get(user) or match.group("label") or user
            out.append(str(Markup('<span class="mention">@{}</span>').format(name)))
        elif match.group("bold"):
            out.append(str(Markup("<strong>{}</strong>").format(match.group("bold"))))
        else:
            out.append(str(Markup("<code>{}</code>").format(match.group("code"))))
    out.append(str(escape(text[last:])))
    return Markup("".join(out))


@dataclass(frozen=True)
class MessageView:
    id: str
    text: Markup
    sections: tuple[Markup, ...]
    buttons: tuple[ChatButton, ...]
    pinned: bool
    at: datetime
    edited: bool


def message_views(
    messages: Sequence[ConsoleMessage], pins: Iterable[str], names: Mapping[str, str]
) -> list[MessageView]:
    pinned = set(pins)
    return [
        MessageView(
            id=m.id,
            text=chat_text(m.text, names),
            sections=tuple(chat_text(s, names) for s in m.sections),
            buttons=m.buttons,
            pinned=m.id in pinned,
            at=m.created_at,
            edited=m.updated_at > m.created_at,
        )
        for m in messages
    ]


def chat_names(incident: Incident | None, people: Mapping[str, Person]) -> dict[str, str]:
    """Console user id -> name, from the roster's chat ids and the incident's responders."""
    names = {p.chat_id: p.name for p in people.values() if p.chat_id}
    if incident is not None:
        names.update({r.chat_id: r.name or r.email for r in incident.responders if r.chat_id})
    return names


def timeline_entries(
    incident: Incident, records: Sequence[AuditRecord], people: Mapping[str, Person]
) -> list[TimelineEntry]:
    """The incident's story (domain/timeline.py), people by name."""

    def name(handle: str) -> str:
        return display_name(handle, people) if "@" in handle else handle

    return [
        replace(e, who=name(e.who))
        for e in incident_story(incident, records, naming=Naming(person=name))
    ]


@dataclass(frozen=True)
class SplitOut:
    """An alert split out of the incident on show, and the incident it has now."""

    title: str
    incident_id: str


def split_out(incident_id: str, records: Iterable[AuditRecord]) -> list[SplitOut]:
    """The alerts split out of `incident_id`, oldest first, from its ALERT_SPLIT records (the
    new incident holds the same record, with `from` naming the other one)."""
    return [
        SplitOut(str(r.data.get("title", "")), str(r.data["to"]))
        for r in records
        if r.type is AuditEventType.ALERT_SPLIT
        and r.data.get("from") == incident_id
        and r.data.get("to")
    ]
