"""Ticking the war room's checklist, whoever asks: a person (the `checklist` command from
Slack, the console or the API, a Slack button) or the incident itself (an item's event happened,
e.g. the first status update was published; see `domain.checklist.TICKED_BY`).

A tick is a compare-and-set on the incident (two people ticking at once both count), each change
is audited, and the checklist pinned in the room is edited in place to match, so the room never
says 0/9 while the console says 2/9. The pinned message is a view: a chat that cannot edit it
degrades (the tick stands and the caller is told), it never undoes or blocks the tick. A tick
whose audit record a crash lost is recorded, and the pinned message put right, when it is asked
again.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.checklist import REASONS, ChecklistEvent, items_ticked_by
from incident_response.domain.clock import Clock
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import ChecklistItem, Incident
from incident_response.domain.responder_names import SYSTEM
from incident_response.ports import AuditLog, Chat, IncidentStore
from incident_response.services import war_room_messages as msgs
from incident_response.services.compare_and_set import save_change
from incident_response.services.war_room_steps import Step, describe
from incident_response.telemetry.logging import get_logger

__all__ = ["SYSTEM", "ChecklistTicks", "Tick", "pinned_checklist"]

# how long a tick waits for the chat to edit the pinned checklist before saying it could not
BOARD_DEADLINE_SECONDS = 10.0

log = get_logger(__name__)


@dataclass(frozen=True)
class Tick:
    """What became of one tick: the incident as saved, the item's number, whether it changed,
    and the pinned message edited (its id) or why it could not be (`board_error`)."""

    incident: Incident
    number: int
    changed: bool
    board: str | None = None
    board_error: str | None = None

    @property
    def item(self) -> ChecklistItem:
        return self.incident.checklist[self.number - 1]


def pinned_checklist(incident: Incident) -> str | None:
    """The id of the checklist message assembly posted (and pinned) in the room, if any."""
    for step in (Step.PIN_CHECKLIST, Step.POST_CHECKLIST):
        result = incident.assembly_steps.get(step)
        if isinstance(result, Mapping) and result.get("message_id"):
            return str(result["message_id"])
    return None


class ChecklistTicks:
    def __init__(
        self,
        *,
        store: IncidentStore,
        audit: AuditLog,
        chat: Chat,
        clock: Clock,
        board_deadline_seconds: float = BOARD_DEADLINE_SECONDS,
    ) -> None:
        self._store = store
        self._audit = audit
        self._chat = chat
        self._clock = clock
        self._deadline = board_deadline_seconds

    async def set(
        self, incident_id: str, number: int, *, done: bool, actor: str, reason: str | None = None
    ) -> Tick:
        """Tick (`done`) or untick item `number` (1-based) as `actor`; `reason` says why in the
        audit record (an automatic tick's). Asking for the state it is in changes nothing."""
        now = self._clock.now()
        changed = False

        def tick(current: Incident) -> Incident | None:
            nonlocal changed
            items = list(current.checklist)
            item = items[number - 1]
            changed = item.done != done
            if not changed:
                return None
            items[number - 1] = item.model_copy(
                update={
                    "done": done,
                    "done_by": actor if done else None,
                    "done_at": now if done else None,
                }
            )
            return current.update(checklist=tuple(items), updated_at=now)

        saved = await save_change(self._store, incident_id, tick)
        item = saved.checklist[number - 1]
        state = "done" if done else "undone"
        recorded = changed or not await self._recorded(saved.id, item)
        if recorded:
            data: dict[str, object] = {
                "item_id": item.id,
                "number": number,
                "text": item.text,
                "done": done,
            }
            if reason:
                data["reason"] = reason
            await self._audit.append(
                AuditEvent(
                    incident_id=saved.id,
                    type=AuditEventType.CHECKLIST_ITEM_UPDATED,
                    key=f"checklist:{item.id}:{state}:v{saved.version}",
                    at=now,
                    actor=actor if changed else (item.done_by or actor),
                    data=data,
                )
            )
        if not recorded:
            return Tick(saved, number, changed=False)
        board, error = await self.show(saved)
        return Tick(saved, number, changed=changed, board=board, board_error=error)

    async def happened(
        self, incident_id: str, event: ChecklistEvent, *, only: Collection[str] | None = None
    ) -> list[Tick]:
        """Tick, as "system", the open items `event` asks for (among the item ids `only`, when
        given); never raises (the incident goes on whatever its checklist does; a failure is
        logged)."""
        try:
            incident = await self._store.get(incident_id)
            if incident is None:
                raise NotFound(f"incident {incident_id}")
            if not incident.is_open:
                return []
            return [
                await self.set(incident_id, n, done=True, actor=SYSTEM, reason=REASONS[event])
                for n in items_ticked_by(event, incident.checklist)
                if only is None or incident.checklist[n - 1].id in only
            ]
        except Exception:
            log.exception(
                "checklist.automatic_tick_failed", incident_id=incident_id, happened=event.value
            )
            return []

    async def show(self, incident: Incident) -> tuple[str | None, str | None]:
        """Edit the pinned checklist to show `incident`'s: (its id, None) once edited, (None,
        why) when the chat would not, (None, None) when the room has no checklist message."""
        message_id = pinned_checklist(incident)
        if incident.channel is None or message_id is None:
            return None, None
        message = msgs.checklist(incident, incident.checklist)
        try:
            async with asyncio.timeout(self._deadline):
                await self._chat.update(incident.channel.id, message_id, message)
        except Exception as exc:
            error = describe(exc) if not isinstance(exc, TimeoutError) else "no answer in time"
            log.warning("checklist.board_update_failed", incident_id=incident.id, error=error)
            return None, error
        return message_id, None

    async def _recorded(self, incident_id: str, item: ChecklistItem) -> bool:
        """Whether the audit log's last word on `item` matches its stored state."""
        records = await self._audit.find(incident_id, AuditEventType.CHECKLIST_ITEM_UPDATED)
        last = next((r for r in reversed(records) if r.data.get("item_id") == item.id), None)
        if last is None:
            return not item.done  # a never-ticked item needs no record
        return bool(last.data.get("done")) == item.done
