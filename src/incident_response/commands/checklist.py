"""`checklist`: the war room's checklist with numbers; `checklist done N` / `checklist undo N`.

Ticks go through `services.checklist_ticks`: a compare-and-set on the incident (two people
ticking at once both count), each change audited, and the checklist pinned in the room edited to
match. A tick whose audit record a crash lost is recorded when it is asked again.
"""

from __future__ import annotations

from typing import Any

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    closed_reply,
    refused,
    utc_text,
)
from incident_response.domain.authority import Action
from incident_response.domain.incident import Incident
from incident_response.services.checklist_ticks import ChecklistTicks

USAGE = "checklist | checklist done N | checklist undo N | checklist toggle N"
# True ticks, False unticks, None flips (the war room's checklist buttons send `toggle <id>`)
VERBS: dict[str, bool | None] = {
    "done": True,
    "tick": True,
    "check": True,
    "undo": False,
    "untick": False,
    "toggle": None,
}


def render(incident: Incident) -> str:
    if not incident.checklist:
        return f"Incident {incident.id} has no checklist."
    done = sum(1 for item in incident.checklist if item.done)
    lines = [f"Checklist ({done}/{len(incident.checklist)} done):"]
    for n, item in enumerate(incident.checklist, 1):
        mark = "[x]" if item.done else "[ ]"
        who = f" ({item.done_by}, {utc_text(item.done_at)})" if item.done and item.done_by else ""
        lines.append(f"  {n}. {mark} {item.text}{who}")
    return "\n".join(lines)


def checklist_json(incident: Incident) -> list[dict[str, Any]]:
    return [
        {"number": n, "id": item.id, "text": item.text, "done": item.done, "done_by": item.done_by}
        for n, item in enumerate(incident.checklist, 1)
    ]


def item_number(incident: Incident, ref: str) -> int | None:
    """The 1-based number of the item `ref` names, by number or by id."""
    if ref.isdigit():
        n = int(ref)
        return n if 1 <= n <= len(incident.checklist) else None
    return next((n for n, i in enumerate(incident.checklist, 1) if i.id == ref.lower()), None)


class ChecklistCommand:
    name = "checklist"
    usage = "checklist [done|undo N]"
    summary = "Show the checklist, or tick (done N) / untick (undo N) an item"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services
        self._ticks = ChecklistTicks(
            store=services.store, audit=services.audit, chat=services.chat, clock=services.clock
        )

    def action(self, call: CommandCall) -> Action:
        return Action.CHECKLIST if call.words else Action.READ

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        words = call.words
        if not words:
            return CommandReply(text=render(incident), data={"checklist": checklist_json(incident)})
        verb = words[0].lower()
        if verb not in VERBS or len(words) != 2:
            return refused(f"Use `{USAGE}`.\n\n{render(incident)}")
        if not incident.is_open:
            return closed_reply(incident, "ticking the checklist")
        number = item_number(incident, words[1])
        if number is None:
            return refused(
                f"There is no checklist item {words[1]!r}: give a number from 1 to "
                f"{len(incident.checklist)}.\n\n{render(incident)}"
            )
        wanted = VERBS[verb]
        done = not incident.checklist[number - 1].done if wanted is None else wanted
        return await self._set(call, incident, number, done=done)

    async def _set(
        self, call: CommandCall, incident: Incident, number: int, *, done: bool
    ) -> CommandReply:
        tick = await self._ticks.set(incident.id, number, done=done, actor=call.actor)
        item = tick.item
        if tick.changed:
            head = f"Item {number} is {'done' if done else 'open again'}: {item.text}"
        else:
            head = f"Item {number} was already {'done' if done else 'open'}: {item.text}"
        text = f"{head}\n\n{render(tick.incident)}"
        if tick.board_error is not None:
            text += (
                f"\n\nThe pinned checklist in the room could not be updated ({tick.board_error});"
                " the tick is saved."
            )
        data: dict[str, Any] = {"changed": tick.changed, "checklist": checklist_json(tick.incident)}
        if tick.board is not None:
            data["pinned_message_id"] = tick.board
        return CommandReply(text=text, data=data)
