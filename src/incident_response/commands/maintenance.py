"""`maintenance [schedule ... | approve <id> <version>]`: scheduled maintenance from any command
box; works anywhere (a maintenance belongs to no incident).

The same MaintenanceDesk as the console's maintenance page and `/api/status/maintenances`, so
the same approval gate: only approvers (Action.MANAGE_STATUS_PAGE) schedule and approve, and
what is approved is exactly the version named. Without a version, `approve` shows the text it
would publish and the command that publishes exactly that, so nobody approves unread words.

    maintenance
    maintenance schedule 2026-12-05 02:00Z 04:00Z Payments, Checkout: DB upgrade | Checkout may be slow.
    maintenance approve mnt_1a2b3c4d5e6f 1

Times are ISO 8601 with a zone (`Z`, `UTC` or an offset), a `T` or a space between date and
time; the end may be a time alone, on the start's day. Before `|` is the public name (left out,
it is "Scheduled maintenance: <components>"), after it the text customers read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    Maintenances,
    refused,
    utc_text,
)
from incident_response.domain.authority import Action
from incident_response.domain.clock import isoformat
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.maintenance import (
    PHASE_LABELS,
    Maintenance,
    MaintenancePhase,
    parse_time,
    phase,
)
from incident_response.domain.public import MAX_TITLE_CHARS
from incident_response.domain.status_update import DraftStatus, StatusDraft
from incident_response.services.authority import NotPermitted

USAGE = (
    "maintenance [schedule <start> <end> <components>: [<name> |] <text> | approve <id> <version>]"
)
SCHEDULE_EXAMPLE = (
    "`maintenance schedule 2026-12-05 02:00Z 04:00Z Payments, Checkout: "
    "Payments database upgrade | Checkout may be slow for a few minutes.`"
)
_ZONE = r"(?P<zone>Z|UTC|[+-]\d{2}:?\d{2})?"
_CLOCK = r"(?P<clock>\d{1,2}:\d{2}(?::\d{2})?)"
# a start: a date and a time; an end: the same, or a time alone on the start's day
START = re.compile(rf"(?P<date>\d{{4}}-\d{{2}}-\d{{2}})[T ]{_CLOCK}\s*{_ZONE}(?=\s|$)", re.I)
END = re.compile(rf"(?:(?P<date>\d{{4}}-\d{{2}}-\d{{2}})[T ])?{_CLOCK}\s*{_ZONE}(?=\s|$)", re.I)
DEFAULT_TITLE = "Scheduled maintenance"
STATE_LABELS = {
    DraftStatus.DRAFT: "awaiting approval",
    DraftStatus.APPROVED: "approved, not published yet (approve it again to finish)",
    DraftStatus.PUBLISHED: "published",
    DraftStatus.REJECTED: "rejected",
    DraftStatus.SUPERSEDED: "superseded",
}


@dataclass(frozen=True)
class Asked:
    """A `maintenance schedule` as the desk takes it."""

    title: str
    body: str
    scheduled_for: str
    scheduled_until: str
    components: tuple[str, ...]


class MaintenanceCommand:
    name = "maintenance"
    usage = "maintenance [schedule ... | approve <id> <version>]"
    summary = "Scheduled maintenance: list, schedule (approvers), approve & publish (approvers)"
    needs_incident = False

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        if call.words and call.words[0].lower() in ("schedule", "approve"):
            return Action.MANAGE_STATUS_PAGE
        return Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        desk = self._services.maintenance
        if desk is None:
            return refused("Scheduled maintenance is not set up here; nothing was done.")
        sub, _, rest = call.args.partition(" ")
        try:
            match sub.lower():
                case "":
                    return await self._listing(desk, call)
                case "schedule":
                    return await self._schedule(desk, call, rest.strip())
                case "approve":
                    return await self._approve(desk, call, rest.split())
                case _:
                    return refused(
                        f"`maintenance {sub}` is not something maintenance does. {_usage()}"
                    )
        except NotPermitted as exc:  # the desk asks the policy again, live
            reasons = "; ".join(exc.reasons)
            return refused(f"`maintenance` was not run: {reasons}.", not_permitted=True)

    async def _listing(self, desk: Maintenances, call: CommandCall) -> CommandReply:
        now = self._services.clock.now()
        shown = []
        for maintenance in await desk.recent(actor=call.actor):
            draft = maintenance.drafts[-1] if maintenance.drafts else None
            if draft is None or draft.scheduled_for is None or draft.scheduled_until is None:
                continue
            when = phase(draft.scheduled_for, draft.scheduled_until, now)
            if when is not MaintenancePhase.COMPLETED:
                shown.append((draft.scheduled_for, maintenance, draft, when))
        if not shown:
            return CommandReply(
                text="No maintenance is upcoming or in progress. An approver schedules one with "
                f"{SCHEDULE_EXAMPLE}",
                data={"maintenances": []},
            )
        shown.sort(key=lambda found: found[0])
        lines = ["Scheduled maintenance (upcoming and in progress):"]
        lines += [_line(m, d, PHASE_LABELS[p]) for _, m, d, p in shown]
        return CommandReply(
            text="\n".join(lines),
            data={"maintenances": [_data(m, d) | {"phase": p.value} for _, m, d, p in shown]},
        )

    async def _schedule(self, desk: Maintenances, call: CommandCall, text: str) -> CommandReply:
        asked = read_schedule(text)
        if isinstance(asked, str):
            return refused(f"Nothing was scheduled: {asked}. {_usage()}")
        try:
            made = await desk.schedule(
                actor=call.actor,
                title=asked.title,
                body=asked.body,
                scheduled_for=asked.scheduled_for,
                scheduled_until=asked.scheduled_until,
                components=asked.components,
            )
        except NotPermitted:
            raise
        except IncidentResponseError as exc:
            return refused(f"Nothing was scheduled: {exc}. {_usage()}")
        draft = made.drafts[-1]
        return CommandReply(
            text=f"Maintenance {made.id} is drafted (version {draft.version}); nothing is public "
            f"until an approver approves it.\n{_shown(draft)}\n"
            f"To publish exactly this: `maintenance approve {made.id} {draft.version}`",
            data={"maintenance": _data(made, draft)},
        )

    async def _approve(
        self, desk: Maintenances, call: CommandCall, words: list[str]
    ) -> CommandReply:
        if not words or len(words) > 2:
            return refused(f"Say which maintenance and the version you read. {_usage()}")
        if len(words) == 2 and not words[1].isdigit():
            return refused(
                f"The version is a whole number, not `{words[1]}`. Nothing was published."
            )
        try:
            found = await desk.get(words[0], actor=call.actor)
        except NotPermitted:
            raise
        except IncidentResponseError as exc:
            return refused(f"Nothing was published: {exc}.")
        if not found.drafts:
            return refused(f"Maintenance {found.id} has no announcement. Nothing was published.")
        draft = found.drafts[-1]
        if len(words) == 1:
            return refused(
                f"Maintenance {found.id} is at version {draft.version} "
                f"({STATE_LABELS.get(draft.status, draft.status.value)}):\n{_shown(draft)}\n"
                f"To publish exactly this: `maintenance approve {found.id} {draft.version}`. "
                "Nothing was published.",
                maintenance=_data(found, draft),
            )
        version = int(words[1])
        try:
            done = await desk.approve(found.id, draft.id, actor=call.actor, version=version)
        except NotPermitted:
            raise
        except IncidentResponseError as exc:
            return refused(
                f"Maintenance {found.id} version {version} was not published: {exc}.",
                maintenance=_data(found, draft),
            )
        published = done.draft(draft.id) or draft
        where = f" ({done.status_page.url})" if done.status_page and done.status_page.url else ""
        return CommandReply(
            text=f"Maintenance {done.id} version {published.version} is "
            f"{STATE_LABELS.get(published.status, published.status.value)} on the status "
            f"page{where}:\n{_shown(published)}",
            data={"maintenance": _data(done, published)},
        )


def read_schedule(text: str) -> Asked | str:
    """What `maintenance schedule <start> <end> <components>: [<name> |] <text>` asks, or what
    is wrong with it (the desk checks the window, the text and the names afterwards)."""
    if not text:
        return "say when, which components and what customers will read"
    start = START.match(text)
    if start is None:
        return f"`{text.split()[0]}` is not a start time such as `2026-12-05 02:00Z`"
    scheduled_for = _iso(start.group("date"), start.group("clock"), start.group("zone"))
    rest = text[start.end() :].lstrip()
    end = END.match(rest)
    if end is None:
        first = rest.split()[0] if rest.split() else ""
        wrong = f"`{first}` is not an" if first else "there is no"
        return f"{wrong} end time such as `2026-12-05 04:00Z` or `04:00Z` after the start"
    scheduled_until = _iso(
        end.group("date") or start.group("date"), end.group("clock"), end.group("zone")
    )
    for raw, iso in ((start.group(0), scheduled_for), (end.group(0), scheduled_until)):
        if "+" not in iso[10:] and "-" not in iso[10:]:
            return f"`{raw}` has no time zone: add `Z` for UTC or an offset such as `+01:00`"
        if parse_time(iso) is None:
            return f"`{raw}` is not a real time"
    named, colon, said = rest[end.end() :].partition(":")
    if not colon:
        return "name the components, then a colon and the text, e.g. `Payments, Checkout: ...`"
    components = tuple(n.strip() for n in named.split(",") if n.strip())
    if not components:
        return "name at least one status-page component before the colon"
    title, bar, body = said.partition("|")
    if not bar:
        title, body = _default_title(components), said
    if not body.strip():
        return "say what customers will read after the colon"
    return Asked(
        title=title.strip(),
        body=body.strip(),
        scheduled_for=scheduled_for,
        scheduled_until=scheduled_until,
        components=components,
    )


def _iso(date: str, clock: str, zone: str | None) -> str:
    hours, _, rest = clock.partition(":")
    offset = (zone or "").upper()
    if offset in ("Z", "UTC"):
        offset = "+00:00"
    elif offset and ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    return f"{date}T{int(hours):02d}:{rest}{offset}"


def _default_title(components: tuple[str, ...]) -> str:
    title = f"{DEFAULT_TITLE}: {', '.join(components)}"
    return title if len(title) <= MAX_TITLE_CHARS else DEFAULT_TITLE


def _usage() -> str:
    return f"Usage: `{USAGE}`, e.g. {SCHEDULE_EXAMPLE}"


def _window(draft: StatusDraft) -> str:
    return f"{utc_text(draft.scheduled_for)} to {utc_text(draft.scheduled_until)}"


def _shown(draft: StatusDraft) -> str:
    """The announcement as customers will read it, quoted."""
    names = ", ".join(draft.component_names)
    lines = [f"*{draft.title}*", f"{_window(draft)}; {names}", *draft.body.splitlines()]
    return "\n".join(f"> {line}" for line in lines)


def _line(maintenance: Maintenance, draft: StatusDraft, when: str) -> str:
    state = STATE_LABELS.get(draft.status, draft.status.value)
    if draft.status is DraftStatus.DRAFT:
        state += f" (`maintenance approve {maintenance.id} {draft.version}`)"
    return (
        f"- {maintenance.id} {draft.title!r}: {_window(draft)}, {when.lower()}; "
        f"{', '.join(draft.component_names)}; version {draft.version} {state}"
    )


def _when(at: datetime | None) -> str | None:
    return isoformat(at) if at is not None else None


def _data(maintenance: Maintenance, draft: StatusDraft) -> dict[str, object]:
    return {
        "id": maintenance.id,
        "draft_id": draft.id,
        "version": draft.version,
        "status": draft.status.value,
        "title": draft.title,
        "scheduled_for": _when(draft.scheduled_for),
        "scheduled_until": _when(draft.scheduled_until),
        "components": list(draft.component_names),
    }
