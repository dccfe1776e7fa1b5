"""`timeline`: the incident's story (key moments, who and when, in UTC); `timeline --audit`: the
audit log itself, every record, for operators."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from incident_response.commands.context import CommandCall, CommandReply, CommandServices, refused
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.authority import Action
from incident_response.domain.clock import isoformat, utc
from incident_response.domain.incident import Incident
from incident_response.domain.timeline import Naming, TimelineEntry, incident_story

A = AuditEventType
DEFAULT_LIMIT = 50
DETAIL_CHARS = 140


def _command(data: Mapping[str, Any]) -> str:
    return f"/incident-response {data.get('command', '')} {data.get('args', '')}".strip()


def _checklist(data: Mapping[str, Any]) -> str:
    verb = "ticked" if data.get("done") else "unticked"
    return f"{verb} {data.get('number', '?')}. {data.get('text', data.get('item_id', ''))}"


def _ic(data: Mapping[str, Any]) -> str:
    previous = data.get("previous")
    return f"{data.get('ic')}" + (f" (was {previous})" if previous else "")


def _draft(data: Mapping[str, Any]) -> str:
    return f"draft {data.get('draft_id')} v{data.get('version')}"


def _superseded(data: Mapping[str, Any]) -> str:
    return f"{_draft(data)}, superseded by draft {data.get('superseded_by')}"


DETAILS: Mapping[AuditEventType, Callable[[Mapping[str, Any]], str]] = {
    A.SLASH_COMMAND_RECEIVED: _command,
    A.CHECKLIST_ITEM_UPDATED: _checklist,
    A.IC_ASSIGNED: _ic,
    A.STATUSPAGE_DRAFT_CREATED: _draft,
    A.STATUSPAGE_DRAFT_REVISED: _draft,
    A.STATUSPAGE_DRAFT_APPROVED: _draft,
    A.STATUSPAGE_PUBLISHED: _draft,
    A.STATUSPAGE_APPROVAL_REJECTED: _draft,
    A.STATUSPAGE_DRAFT_SUPERSEDED: _superseded,
}


def _generic(data: Mapping[str, Any]) -> str:
    parts = [
        f"{k}: {v}" for k, v in data.items() if isinstance(v, str | int | float | bool) and v != ""
    ]
    return ", ".join(parts)


def describe(record: AuditRecord) -> str:
    """One line: when, what, who, and the details that matter for that kind of event."""
    title = record.type.value.replace("_", " ").capitalize()
    details = DETAILS.get(record.type, _generic)(record.data)
    if len(details) > DETAIL_CHARS:
        details = details[: DETAIL_CHARS - 1] + "\u2026"
    line = f"{utc(record.at):%Y-%m-%d %H:%M:%S} UTC  {title}  by {record.actor}"
    return f"{line}  {details}" if details else line


AUDIT_FLAG = "--audit"


def story_line(entry: TimelineEntry, who: str) -> str:
    return f"{utc(entry.at):%Y-%m-%d %H:%M:%S} UTC  {entry.text}  ({who})"


class TimelineCommand:
    name = "timeline"
    usage = "timeline [all|N] [--audit]"
    summary = (
        f"The incident's story in UTC (the last {DEFAULT_LIMIT} moments, or N, or all); "
        "--audit lists the audit log itself"
    )
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        words = call.args.lower().split()
        raw = AUDIT_FLAG in words
        arg = " ".join(w for w in words if w != AUDIT_FLAG)
        if arg in {"", "all"}:
            limit = None if arg == "all" else DEFAULT_LIMIT
        elif arg.isdigit() and int(arg) > 0:
            limit = int(arg)
        else:
            return refused(
                "Use `timeline`, `timeline all` or `timeline N` (N > 0), with `--audit` for "
                "the audit log itself."
            )
        records = await self._services.audit.records(incident.id)
        if not raw:
            return await self._story(incident, records, limit)
        shown = records if limit is None else records[-limit:]
        head = f"Audit log of {incident.id} ({len(records)} events, times in UTC)"
        if len(shown) < len(records):
            head += f"; the last {len(shown)} (`timeline all --audit` shows every one)"
        text = "\n".join([head + ":", *(describe(r) for r in shown)])
        return CommandReply(
            text=text,
            data={
                "events": [
                    {"seq": r.seq, "at": isoformat(r.at), "type": r.type.value, "actor": r.actor}
                    for r in shown
                ],
                "total": len(records),
            },
        )

    async def _story(
        self, incident: Incident, records: Sequence[AuditRecord], limit: int | None
    ) -> CommandReply:
        people = {p.email.lower(): p.name for p in await self._services.directory.people()}

        def name(handle: str) -> str:
            return people.get(handle.lower()) or handle

        entries = incident_story(incident, records, naming=Naming(person=name))
        shown = entries if limit is None else entries[-limit:]
        head = f"Timeline of {incident.id} ({len(entries)} moments, times in UTC)"
        if len(shown) < len(entries):
            head += f"; the last {len(shown)} (`timeline all` shows every one)"
        lines = [head + ":", *(story_line(e, name(e.who)) for e in shown)]
        lines.append("(`timeline --audit` lists the audit log itself.)")
        return CommandReply(
            text="\n".join(lines),
            data={"entries": [e.as_json() for e in shown], "total": len(entries)},
        )
