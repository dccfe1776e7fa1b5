"""`incident-response observe INCIDENT`: follow one incident live from outside, printing each
change (status, IC, stage, room, drafts, timeline) as the API shows it, until it is resolved."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from rich.console import Console
from rich.markup import escape

from incident_response.drill.api import Deployment
from incident_response.http import own_service_client

Incident = Mapping[str, Any]


def _ic(i: Incident) -> str:
    return str((i.get("ic") or {}).get("email") or "none")


def _room(i: Incident) -> str:
    channel = i.get("channel") or {}
    if not channel:
        return "none"
    archived = " (archived)" if channel.get("archived") else ""
    return f"#{channel.get('name')}{archived}"


def _drafts(i: Incident) -> str:
    return ", ".join(f"{d['id']} v{d['version']} {d['status']}" for d in i.get("drafts", []))


# what observe watches: a name and how to read it; a change of any prints one line
FIELDS: tuple[tuple[str, Callable[[Incident], str]], ...] = (
    ("status", lambda i: str(i["status"])),
    ("severity", lambda i: str(i["severity"])),
    ("stage", lambda i: str(i["stage"])),
    ("IC", _ic),
    ("room", _room),
    ("drafts", _drafts),
)


def _when(at: str) -> str:
    return datetime.fromisoformat(at).strftime("%H:%M:%S")


async def observe(
    target: str,
    incident_id: str,
    *,
    token: str,
    console: Console,
    poll: float = 1.0,
    limit_seconds: float | None = None,
) -> Incident:
    """Print the incident, then each change, until it is resolved (returns its last state).

    `limit_seconds` bounds the watch; None watches until resolved or interrupted.
    """
    async with own_service_client(timeout=10) as http:
        deployment = Deployment(http, target, token)
        await deployment.check()
        return await asyncio.wait_for(
            _watch(deployment, incident_id, console, poll), timeout=limit_seconds
        )


async def _watch(
    deployment: Deployment, incident_id: str, console: Console, poll: float
) -> Incident:
    shown: dict[str, str] = {}
    entries = 0
    first = True
    while True:
        incident = await deployment.incident(incident_id)
        if first:
            drill = " [bold yellow]DRILL[/bold yellow]" if incident.get("drill") else ""
            console.print(
                f"[bold]{escape(incident_id)}[/bold]{drill} {escape(incident['title'])}",
                highlight=False,
            )
            console.print(f"console: {deployment.console_url(incident_id)}", highlight=False)
        for name, read in FIELDS:
            value = read(incident)
            if shown.get(name) != value:
                before = shown.get(name)
                change = value if first or before is None else f"{before} → {value}"
                if value or not first:
                    console.print(f"{name:>9}: {escape(change)}", highlight=False)
                shown[name] = value
        story = incident.get("timeline") or []
        for entry in story[entries:]:
            console.print(
                f"[dim]{_when(entry['at'])}[/dim] {escape(entry['who'])}: {escape(entry['text'])}",
                highlight=False,
            )
        entries = len(story)
        first = False
        if incident["status"] == "resolved":
            console.print(f"[green]{escape(incident_id)} is resolved[/green]")
            return incident
        await asyncio.sleep(poll)
