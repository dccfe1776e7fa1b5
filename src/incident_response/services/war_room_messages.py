"""What the war room is called and what the WarRoomAssembler says in it: the context brief, the
checklist, the topic and bookmarks, notices of what degraded, and the direct message sent when no
room could be made. Pure functions of the incident.

Every message carries a key derived from the incident, so posting it again (a resumed
assembly) finds the first copy instead of adding a second.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple
from urllib.parse import urlsplit

from incident_response.domain.approval import public_status_for
from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.clock import isoformat, utc
from incident_response.domain.context import ContextSnapshot, Fact, SourceReport
from incident_response.domain.incident import ChecklistItem, Incident, IncidentRole
from incident_response.domain.status_update import DraftKind
from incident_response.domain.text import shortened

MAX_CHANNEL_NAME = 80  # Slack's limit
BUTTON_LABEL_MAX = 75  # Slack's limit for a button's text
TOPIC_MAX = 250  # Slack's limit for a channel topic
TOPIC_PART_MAX = 60  # service and IC name are cut to this, so the topic always fits
LABEL_SEPARATOR = " · "

# What responders open first, by the link key or label name the alert gives it (compared
# lowercased, with '-' and ' ' read as '_'). One bookmark per kind: the first name found wins,
# the alert's links before its labels.
BOOKMARK_NAMES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Runbook", ("runbook", "runbook_url")),
    ("Dashboard", ("dashboard", "dashboard_url", "grafana", "grafana_url")),
    ("Panel", ("panel", "panel_url")),  # a Grafana-managed alert's panel
    ("Alert group", ("web", "permalink")),  # Grafana OnCall's web permalink
    ("Alertmanager", ("alertmanager",)),
)
STATUS_PAGE_TITLE = "Status page"

DEGRADED: Mapping[str, str] = {
    "resolve_responders": "Could not look up who to page ({error}). Invite responders by hand.",
    "context_snapshot": "Could not fetch metrics, logs and traces ({error}). Check the dashboards directly.",
    "invite_responders": "Could not invite everyone ({error}). Invite them by hand.",
    "post_context": "Could not post the incident brief ({error}).",
    "post_checklist": "Could not post the checklist ({error}).",
    "pin_checklist": "Could not pin the checklist ({error}).",
    "schedule_reminders": "Status update reminders and SLA checks are not scheduled ({error}).",
    "topic_and_bookmarks": "Could not set the room's topic or bookmarks ({error}). The links are in the brief.",
}


class RoomBookmark(NamedTuple):
    title: str
    url: str


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
    *,
    owners: Sequence[str] = (),
    owners_error: str | None = None,
) -> ChatMessage:
    """The brief everyone joining reads first: the alert, the facts around it (one line per
    telemetry source, then the owners CODEOWNERS suggests), who is here."""
    responders = list(people.get("responders", []))
    ic_email = people.get("ic")
    ic = next((_who(r) for r in responders if r.get("email") == ic_email), ic_email or "nobody yet")
    alert = [
        f"*{incident.severity.value} {shortened(incident.title)}*",
        f"Service: {incident.service} | Opened: {isoformat(incident.created_at)}",
    ]
    if incident.declared_by:
        alert.append(f"Declared by {incident.declared_by} (no alert)")
    if incident.labels:
        alert.append(f"Labels: {labels_line(incident.labels)}")
    sections = ["\n".join(alert)]
    if incident.summary:
        sections.append(incident.summary)
    said = alert_context(incident)
    if said:
        sections.append(said)
    facts = (
        _facts(snapshot, shown=frozenset(incident.links.values()))
        if snapshot is not None
        else f"Telemetry snapshot unavailable: {snapshot_error or 'not taken'}"
    )
    suggested = owners_line(owners, owners_error)
    sections.append(f"{facts}\n{suggested}" if suggested else facts)
    staff = ", ".join(f"{_who(r)} ({r.get('role', 'responder')})" for r in responders)
    who = f"IC: {ic}\nResponders: {staff or 'none found'}"
    if people.get("oncall_note"):
        who += f"\nOn call: {people['oncall_note']}"
    sections.append(who)
    return ChatMessage(
        text=f"{incident.severity.value} incident on {incident.service}: {shortened(incident.title)}. IC: {ic}.",
        sections=tuple(sections),
        buttons=(draft_button(incident),),
        key=f"{incident.id}:context",
    )


def labels_line(labels: Mapping[str, str]) -> str:
    """`service=checkout · env=prod · team=payments`: every label on one line, sorted by name."""
    return LABEL_SEPARATOR.join(f"{k}={v}" for k, v in sorted(labels.items()))


def alert_context(incident: Incident) -> str:
    """What the alert's authors left for responders, one line each: its summary (when it says
    more than the title), description and other annotations, then its links, the runbook and
    dashboard first (the order of the bookmarks)."""
    words = dict(incident.annotations)
    lines = []
    summary = words.pop("summary", "")
    if summary and summary != incident.title:
        lines.append(f"Summary: {summary}")
    description = words.pop("description", "")
    if description:
        lines.append(f"Description: {description}")
    lines.extend(f"{name}: {text}" for name, text in sorted(words.items()))
    named = _names(incident.links)
    shown: set[str] = set()
    for title, names in BOOKMARK_NAMES:
        url = next((named[n] for n in names if named.get(n)), "")
        if url and url not in shown:
            lines.append(f"{title}: {url}")
            shown.add(url)
    lines.extend(f"{n}: {url}" for n, url in sorted(incident.links.items()) if url not in shown)
    return "\n".join(lines)


def room_topic(incident: Incident) -> str:
    """`P1 · checkout · IC: Bob Okafor · status: identified · comms: Ann Lee`: what the room is
    about, where it stands and who leads it, readable from the channel header. The commands that
    change any of these set it again. Always within Slack's 250 characters."""
    ic = _holder_name(incident, incident.ic) if incident.ic else "nobody yet"
    status = public_status_for(incident, DraftKind.UPDATE).value
    parts = [
        *(["DRILL: nothing is published"] if incident.is_drill else []),
        incident.severity.value,
        _cut(incident.service),
        f"IC: {_cut(ic)}",
        f"status: {status}",
        *(
            f"{role.value}: {_cut(_holder_name(incident, incident.roles[role]))}"
            for role in IncidentRole
            if role in incident.roles
        ),
    ]
    return " · ".join(parts)[:TOPIC_MAX]


def _holder_name(incident: Incident, email: str) -> str:
    """A role holder's name as the room knows them (they are responders), else their e-mail."""
    return next((r.name or r.email for r in incident.responders if _same(r.email, email)), email)


def room_bookmarks(incident: Incident, status_page_url: str | None) -> list[RoomBookmark]:
    """The runbook, dashboard and alert the alert links to, and the public status page: one
    bookmark each, web URLs only, no URL twice."""
    candidates = [
        (title, source.get(name, ""))
        for title, names in BOOKMARK_NAMES
        for source in (_names(incident.links), _names(incident.labels))
        for name in names
    ]
    candidates.append((STATUS_PAGE_TITLE, status_page_url or ""))
    by_url: dict[str, RoomBookmark] = {}
    titles: set[str] = set()
    for title, url in candidates:
        if title not in titles and url not in by_url and _web_url(url):
            by_url[url] = RoomBookmark(title, url)
            titles.add(title)
    return list(by_url.values())


def _names(values: Mapping[str, str]) -> dict[str, str]:
    return {re.sub(r"[-\s]+", "_", k.strip().lower()): v.strip() for k, v in values.items()}


def _web_url(text: str) -> bool:
    if not text or any(c.isspace() for c in text):
        return False
    try:
        parts = urlsplit(text)
    except ValueError:  # e.g. a malformed IPv6 host
        return False
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _same(email: str, other: str | None) -> bool:
    return other is not None and email.strip().casefold() == other.strip().casefold()


def _cut(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TOPIC_PART_MAX else text[: TOPIC_PART_MAX - 1] + "…"


def checklist(incident: Incident, items: Sequence[ChecklistItem]) -> ChatMessage:
    """The checklist pinned in the room; edited in place on every tick (services.checklist_ticks),
    so it says what the console's panel says."""
    lines = [f"{'[x]' if item.done else '[ ]'} {item.text}" for item in items]
    done = sum(1 for item in items if item.done)
    return ChatMessage(
        text=f"{incident.severity.value} checklist: {done}/{len(items)} done",
        sections=("\n".join(lines),),
        buttons=tuple(
            ChatButton(action="checklist.toggle", label=_label(item.text), value=item.id)
            for item in items
        ),
        key=f"{incident.id}:checklist",
    )


def notices(incident: Incident) -> list[ChatMessage]:
    """One message per step that degraded, in the order the steps are listed above."""
    found = (notice(incident.id, step, incident.assembly_steps.get(step)) for step in DEGRADED)
    return [n for n in found if n is not None]


def notice(incident_id: str, step: str, result: Any) -> ChatMessage | None:
    """What the room is told when `step` degraded (its result says ok: false), else None."""
    template = DEGRADED.get(step)
    if template is None or not isinstance(result, Mapping) or result.get("ok") is not False:
        return None
    return ChatMessage(
        text=template.format(error=_error(result)), key=f"{incident_id}:degraded:{step}"
    )


def acknowledge_failed(incident: Incident, alert_group_id: str, error: str) -> ChatMessage:
    return ChatMessage(
        text=(
            f"Could not acknowledge alert group {alert_group_id} in the on-call system ({error}): "
            "its escalation may go on paging people. Acknowledge it there by hand."
        ),
        key=f"{incident.id}:acknowledge-failed",
    )


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


def owners_line(owners: Sequence[str], error: str | None = None) -> str:
    """`Suggested owners (CODEOWNERS): @acme/payments, ann@example.com`; empty when there is
    nothing to suggest (no code host configured, or CODEOWNERS names nobody)."""
    if error:
        return f"Suggested owners (CODEOWNERS): not available ({error})"
    if not owners:
        return ""
    return "Suggested owners (CODEOWNERS): " + ", ".join(owners)


def source_line(report: SourceReport) -> str:
    """`Metrics (Mimir): error rate 4.2% (5 min), p95 1.8 s (queried: ...)`, or the source's
    `failed — <why>`: what one telemetry source was asked and what came of it, in one line."""
    outcome = f"failed — {report.failed}" if report.failed else report.found or "nothing found"
    line = f"{report.source}: {outcome}"
    if report.query:
        line += f" (queried: {report.query})"
    return line + (f" {report.url}" if report.url else "")


def _facts(snapshot: ContextSnapshot, *, shown: frozenset[str] = frozenset()) -> str:
    """The snapshot's lines; its links the alert's context already lists (`shown`: a snapshot
    without a telemetry backend repeats the alert's own) are not said twice."""
    groups: list[tuple[str, tuple[Fact, ...]]] = [
        ("Metrics", snapshot.metrics),
        ("Logs", snapshot.logs),
        ("Traces", snapshot.traces),
        ("Deploys", snapshot.deploys),
    ]
    lines = [source_line(report) for report in snapshot.sources]
    lines.extend(
        f"{title}: {fact.label}: {fact.value}" + (f" ({fact.url})" if fact.url else "")
        for title, facts in groups
        for fact in facts
    )
    lines.extend(
        f"{name}: {url}" for name, url in sorted(snapshot.links.items()) if url not in shown
    )
    return "\n".join(lines) or "Telemetry snapshot: nothing notable found"


def _label(text: str) -> str:
    return text if len(text) <= BUTTON_LABEL_MAX else text[: BUTTON_LABEL_MAX - 3] + "..."
