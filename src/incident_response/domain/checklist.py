"""Checklist templates: what the war room pins for each severity.

The worse the incident, the more ceremony pays off (a comms lead, an exec notice), so the lists
differ by severity. `parse_checklists` reads replacement lists in which severities left out keep
the defaults, so a partial list never leaves a room without a checklist; no setting feeds it yet
(the service runs on DEFAULT_CHECKLISTS, see docs/forking.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from incident_response.domain.alert import Severity
from incident_response.domain.incident import ChecklistItem, Incident, IncidentRole
from incident_response.domain.status_update import DraftStatus


class ChecklistTemplateItem(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    text: str


ChecklistTemplates = Mapping[Severity, tuple[ChecklistTemplateItem, ...]]


def _items(*pairs: tuple[str, str]) -> tuple[ChecklistTemplateItem, ...]:
    return tuple(ChecklistTemplateItem(id=i, text=t) for i, t in pairs)


_CORE = (
    ("ack", "Acknowledge the alert and confirm the IC"),
    ("impact", "Assess customer impact and confirm the severity"),
    ("status", "Post the first status page update (approve the draft)"),
)
_MITIGATE = (
    ("mitigate", "Mitigate: roll back, fail over or scale before root-causing"),
    ("verify", "Verify recovery on dashboards and with a customer-facing check"),
)

DEFAULT_CHECKLISTS: ChecklistTemplates = {
    Severity.P1: _items(
        *_CORE,
        ("comms", "Name a communications lead for customers and support"),
        ("execs", "Notify engineering leadership"),
        ("changes", "Freeze deploys to the affected service"),
        *_MITIGATE,
        ("postmortem", "Schedule the postmortem review"),
    ),
    Severity.P2: _items(
        *_CORE,
        ("changes", "Check recent deploys and config changes"),
        *_MITIGATE,
        ("postmortem", "Schedule the postmortem review"),
    ),
    Severity.P3: _items(
        ("ack", "Acknowledge the alert and confirm the IC"),
        ("impact", "Assess customer impact and confirm the severity"),
        ("changes", "Check recent deploys and config changes"),
        ("verify", "Verify recovery"),
    ),
    Severity.P4: _items(
        ("ack", "Acknowledge the alert"),
        ("followup", "File a follow-up ticket if action is needed"),
    ),
}


class ChecklistEvent(StrEnum):
    """Something that happened in the incident which a checklist item asks for."""

    FIRST_UPDATE_PUBLISHED = "first_update_published"
    COMMS_LEAD_NAMED = "comms_lead_named"


# The item each event ticks, by item id: an operator's own checklist gets the same automatic
# tick by giving its item the same id. The reason is what the audit record says.
TICKED_BY: Mapping[str, ChecklistEvent] = {
    "status": ChecklistEvent.FIRST_UPDATE_PUBLISHED,
    "comms": ChecklistEvent.COMMS_LEAD_NAMED,
}
REASONS: Mapping[ChecklistEvent, str] = {
    ChecklistEvent.FIRST_UPDATE_PUBLISHED: "the first status update was published",
    ChecklistEvent.COMMS_LEAD_NAMED: "a communications lead was named",
}
# The event naming a role is, for the roles a checklist item asks for.
NAMING: Mapping[IncidentRole, ChecklistEvent] = {
    IncidentRole.COMMS: ChecklistEvent.COMMS_LEAD_NAMED,
}


def items_ticked_by(event: ChecklistEvent, checklist: Sequence[ChecklistItem]) -> tuple[int, ...]:
    """The 1-based numbers of the items still open that `event` ticks."""
    return tuple(
        n
        for n, item in enumerate(checklist, 1)
        if not item.done and TICKED_BY.get(item.id) is event
    )


def already_happened(incident: Incident) -> tuple[ChecklistEvent, ...]:
    """The events that have happened in `incident`, for items added after the fact (a raise):
    an item whose event is past is ticked as if it had been there."""
    return tuple(event for event, happened in _HAPPENED.items() if happened(incident))


_HAPPENED: Mapping[ChecklistEvent, Callable[[Incident], bool]] = {
    ChecklistEvent.FIRST_UPDATE_PUBLISHED: lambda incident: any(
        d.status is DraftStatus.PUBLISHED for d in incident.drafts
    ),
    ChecklistEvent.COMMS_LEAD_NAMED: lambda incident: IncidentRole.COMMS in incident.roles,
}


class InvalidChecklistConfig(ValueError):
    """A checklist configuration could not be understood; the message says where."""


def template_for(
    severity: Severity, templates: ChecklistTemplates = DEFAULT_CHECKLISTS
) -> tuple[ChecklistTemplateItem, ...]:
    """The template for `severity`: the configured one, else the default."""
    return tuple(templates.get(severity) or DEFAULT_CHECKLISTS[severity])


def checklist_for(
    severity: Severity, templates: ChecklistTemplates = DEFAULT_CHECKLISTS
) -> tuple[ChecklistItem, ...]:
    """The fresh (nothing done) checklist for an incident of `severity`."""
    return with_items_of((), template_for(severity, templates))


def with_items_of(
    checklist: Sequence[ChecklistItem], template: Sequence[ChecklistTemplateItem]
) -> tuple[ChecklistItem, ...]:
    """`checklist` with the template's items it lacks (by id) appended, open, in the template's
    order. Items it has stay as they are, ticked or not, where they are: a raised severity adds
    the worse severity's ceremony without undoing what was done or renumbering what people see."""
    have = {item.id for item in checklist}
    added = [item for item in template if item.id not in have]
    return (*checklist, *(ChecklistItem(id=item.id, text=item.text) for item in added))


def parse_checklists(
    raw: Mapping[str, Sequence[str | Mapping[str, str]]],
    defaults: ChecklistTemplates = DEFAULT_CHECKLISTS,
) -> dict[Severity, tuple[ChecklistTemplateItem, ...]]:
    """Templates from configuration: `{"P1": ["text", {"id": "x", "text": "..."}], ...}`.

    Plain strings get an id derived from their text. Unknown severities, empty lists, blank
    texts and repeated ids are refused with a message naming the entry, before anything is used.
    """
    templates = dict(defaults)
    for name, entries in raw.items():
        try:
            severity = Severity(str(name).strip().upper())
        except ValueError:
            allowed = ", ".join(s.value for s in Severity)
            raise InvalidChecklistConfig(
                f"checklist {name!r}: unknown severity (use one of {allowed})"
            ) from None
        if isinstance(entries, str) or not entries:
            raise InvalidChecklistConfig(f"checklist {name}: give a non-empty list of items")
        items: list[ChecklistTemplateItem] = []
        for position, entry in enumerate(entries, start=1):
            items.append(_parse_item(f"checklist {name} item {position}", entry))
        ids = [item.id for item in items]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InvalidChecklistConfig(f"checklist {name}: repeated item ids {duplicates}")
        templates[severity] = tuple(items)
    return templates


def _parse_item(where: str, entry: str | Mapping[str, str]) -> ChecklistTemplateItem:
    if isinstance(entry, str):
        text, item_id = entry.strip(), ""
    elif isinstance(entry, Mapping):
        text = str(entry.get("text", "")).strip()
        item_id = str(entry.get("id", "")).strip()
    else:
        raise InvalidChecklistConfig(f"{where}: expected text or {{id, text}}")
    if not text:
        raise InvalidChecklistConfig(f"{where}: the text is empty")
    return ChecklistTemplateItem(id=item_id or _slug(text), text=text)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:40] or "item"
