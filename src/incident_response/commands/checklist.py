"""`checklist`: the war room's checklist with numbers; `checklist done N` / `checklist undo N`.

Ticks are a compare-and-set on the incident (two people ticking at once both count) and each
change is audited. A tick whose audit record a crash lost is recorded when it is asked again.
"""

from __future__ import annotations

from typing import Any

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    audit,
    closed_reply,
    refused,
    save_change,
    utc_text,
)
from incident_response.domain.audit import AuditEventType
from incident_response.domain.authority import Action
from incident_response.domain.incident import ChecklistItem, Incident

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
        now = self._services.clock.now()
        changed = False

        def tick(current: Incident) -> Incident | None:
            nonlocal changed
            items = list(current.checklist)
            item = items[number - 1]
            if item.done == done:
                changed = False
                return None
            items[number - 1] = item.model_copy(
                update={
                    "done": done,
                    "done_by": call.actor if done else None,
                    "done_at": now if done else None,
                }
            )
            changed = True
            return current.update(checklist=tuple(items), updated_at=now)

        saved = await save_change(self._services.store, incident.id, tick)
        item = saved.checklist[number - 1]
        state = "done" if done else "undone"
        if changed or not await self._recorded(saved.id, item):
            await audit(
                self._services,
                saved.id,
                AuditEventType.CHECKLIST_ITEM_UPDATED,
                f"checklist:{item.id}:{state}:v{saved.version}",
                actor=call.actor if changed else (item.done_by or call.actor),
                data={"item_id": item.id, "number": number, "text": item.text, "done": done},
            )
        if changed:
            head = f"Item {number} is {'done' if done else 'open again'}: {item.text}"
        else:
            head = f"Item {number} was already {'done' if done else 'open'}: {item.text}"
        return CommandReply(
            text=f"{head}\n\n{render(saved)}",
            data={"changed": changed, "checklist": checklist_json(saved)},
        )

    async def _recorded(self, incident_id: str, item: ChecklistItem) -> bool:
        """Whether the audit log's last word on `item` matches its stored state."""
        records = await self._services.audit.find(
            incident_id, AuditEventType.CHECKLIST_ITEM_UPDATED
        )
        last = next((r for r in reversed(records) if r.data.get("item_id") == item.id), None)
        if last is None:
            return not item.done  # a never-ticked item needs no record
        return bool(last.data.get("done")) == item.done
