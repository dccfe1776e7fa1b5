"""What the war room is called and what the WarRoomAssembler says in it: the context brief, the
checklist, notices of what degraded, and the direct message sent when no room could be made.
Pure functions of the incident.

Every message carries a key derived from the incident, so posting it again (a resumed
assembly) finds the first copy instead of adding a second.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.clock import isoformat, utc
from incident_response.domain.context import ContextSnapshot, Fact
from incident_response.domain.incident import ChecklistItem, Incident

MAX_CHANNEL_NAME = 80  # Slack's limit
BUTTON_LABEL_MAX = 75  # Slack's limit for a button's text

DEGRADED: Mapping[str, str] = {
    "resolve_responders": "Could not look up who to page ({error}). Invite responders by hand.",
    "context_snapshot": "Could not fetch metrics, logs and traces ({error}). Check the dashboards directly.",
    "invite_responders": "Could not invite everyone ({error}). Invite them by hand.",
    "post_context": "Could not post the incident brief ({error}).",
    "post_checklist": "Could not post the checklist ({error}).",
    "pin_checklist": "Could not pin the checklist ({error}).",
    "schedule_reminders": "Status update reminders and SLA checks are not scheduled ({error}).",
}


def channel_name(incident: Incident) -> str:
    """`inc-p1-20261126-checkout-3f9a2c`: severity, opening date, service, short id.

    Always a valid Slack name (lowercase a-z, 0-9, `-`, `_`; at most 80 characters; no dash at
    either end): the service is transliterated to ASCII and cut to fit, and the short id keeps
    two incidents on one service and day apart.
    """
    prefix = f"inc-{incident.severity.value.lower()}-{utc(incident.created_at):%Y%m%d}"
    short = _short_id(incident.id)
    room = MAX_CHANNEL_NAME - len(prefix) - len(short) - 2
    service = _slug(incident.service)[:room].strip("-_")
    return "-".join(part for part in (prefix, service, short) if part)


def _slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9_]+", "-", ascii_text).strip("-_")


def _short_id(incident_id: str) -> str:
    body = incident_id.lower().removeprefix("inc-")
    if re.fullmatch(r"[a-z0-9]{6,}", body):
        return body[:6]
    return hashlib.sha256(incident_id.encode()).hexdigest()[:6]


def draft_button(incident: Incident) -> ChatButton:
    return ChatButton(
        action="draft.create",
        label="Draft a status update",
        value=incident.id,
        style=ButtonStyle.PRIMARY,
    )


def context(
    incident: Incident,
    people: Mapping[str, Any],
    snapshot: ContextSnapshot | None,
    snapshot_error: str | None,
) -> ChatMessage:
    """The brief everyone joining reads first: the alert, the facts around it, who is here."""
    responders = list(people.get("responders", []))
    ic_email = people.get("ic")
    ic = next((_who(r) for r in responders if r.get("email") == ic_email), ic_email or "nobody yet")
    alert = [
        f"*{incident.severity.value} {incident.title}*",
        f"Service: {incident.service} | Opened: {isoformat(incident.created_at)}",
    ]
    if incident.labels:
        labels = ", ".join(f"{k}={v}" for k, v in sorted(incident.labels.items()))
        alert.append(f"Labels: {labels}")
    sections = ["\n".join(alert)]
    if incident.links:
        sections.append("\n".join(f"{name}: {url}" for name, url in sorted(incident.links.items())))
    if snapshot is not None:
        sections.append(_facts(snapshot))
    else:
        sections.append(f"Telemetry snapshot unavailable: {snapshot_error or 'not taken'}")
    staff = ", ".join(f"{_who(r)} ({r.get('role', 'responder')})" for r in responders)
    sections.append(f"IC: {ic}\nResponders: {staff or 'none found'}")
    return ChatMessage(
        text=f"{incident.severity.value} incident on {incident.service}: {incident.title}. IC: {ic}.",
        sections=tuple(sections),
        buttons=(draft_button(incident),),
        key=f"{incident.id}:context",
    )


def checklist(incident: Incident, items: Sequence[ChecklistItem]) -> ChatMessage:
    lines = [f"{'[x]' if item.done else '[ ]'} {item.text}" for item in items]
    return ChatMessage(
        text=f"{incident.severity.value} checklist: {len(items)} items",
        sections=("\n".join(lines),),
        buttons=tuple(
            ChatButton(action="checklist.toggle", label=_label(item.text), value=item.id)
            for item in items
        ),
        key=f"{incident.id}:checklist",
    )


def notices(incident: Incident) -> list[ChatMessage]:
    """One message per step that degraded, in the order the steps are listed above."""
    found: list[ChatMessage] = []
    for step, template in DEGRADED.items():
        result = incident.assembly_steps.get(step)
        if not isinstance(result, Mapping) or result.get("ok") is not False:
            continue
        found.append(
            ChatMessage(
                text=template.format(error=_error(result)),
                key=f"{incident.id}:degraded:{step}",
            )
        )
    return found


def assembly_failed(incident: Incident, error: str, *, key: str) -> ChatMessage:
    links = "; ".join(f"{name}: {url}" for name, url in sorted(incident.links.items()))
    return ChatMessage(
        text=(
            f"Could not create the war room for {incident.severity.value} incident "
            f'"{incident.title}" on {incident.service}: {error}. '
            "Please coordinate by hand until assembly is retried."
        ),
        sections=(f"Incident {incident.id}" + (f"\n{links}" if links else ""),),
        key=key,
    )


def _error(result: Mapping[str, Any]) -> str:
    if result.get("error"):
        return str(result["error"])
    failures = result.get("failures") or result.get("failed") or {}
    if isinstance(failures, Mapping) and failures:
        return "; ".join(f"{k}: {v}" for k, v in failures.items())
    return "unknown error"


def _who(responder: Mapping[str, Any]) -> str:
    name, email = responder.get("name") or "", responder.get("email") or ""
    return f"{name} <{email}>" if name and name != email else email


def _facts(snapshot: ContextSnapshot) -> str:
    groups: list[tuple[str, tuple[Fact, ...]]] = [
        ("Metrics", snapshot.metrics),
        ("Logs", snapshot.logs),
        ("Traces", snapshot.traces),
        ("Deploys", snapshot.deploys),
    ]
    lines = [
        f"{title}: {fact.label}: {fact.value}" + (f" ({fact.url})" if fact.url else "")
        for title, facts in groups
        for fact in facts
    ]
    lines.extend(f"{name}: {url}" for name, url in sorted(snapshot.links.items()))
    return "\n".join(lines) or "Telemetry snapshot: nothing notable found"


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_LABEL_MAX else text[: BUTTON_LABEL_MAX - 3] + "..."
