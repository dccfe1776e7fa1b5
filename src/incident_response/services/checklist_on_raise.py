"""A raised severity brings the worse severity's ceremony: its checklist items join the room's.

The items are added in the same compare-and-set that raises the severity (`grown`, by the
domain's `with_items_of`), so a crash can never leave a P1 with a P3's list, and a raise asked
again finds the incident already raised and adds nothing. Then (`record`) the addition is
audited (CHECKLIST_ITEMS_ADDED {"from", "to", "items", "reason"}), the pinned checklist is
edited in place to show them (`ChecklistTicks.show`), and items whose event already happened
(a communications lead named, a first update published) are ticked as the system would have
ticked them. Lowering the severity never removes an item: nobody's work is taken off the list.
"""

from __future__ import annotations

from collections.abc import Sequence

from incident_response.domain.alert import Severity
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.checklist import (
    DEFAULT_CHECKLISTS,
    ChecklistTemplates,
    already_happened,
    template_for,
    with_items_of,
)
from incident_response.domain.clock import Clock
from incident_response.domain.incident import ChecklistItem, Incident
from incident_response.ports import AuditLog
from incident_response.services.checklist_ticks import ChecklistTicks

__all__ = ["ChecklistOnRaise"]


class ChecklistOnRaise:
    """`templates` are the ones assembly uses, so a raised P3 gets exactly a P1's items."""

    def __init__(
        self,
        *,
        audit: AuditLog,
        ticks: ChecklistTicks,
        clock: Clock,
        templates: ChecklistTemplates = DEFAULT_CHECKLISTS,
    ) -> None:
        self._audit = audit
        self._ticks = ticks
        self._clock = clock
        self._templates = templates

    def grown(
        self, checklist: Sequence[ChecklistItem], severity: Severity
    ) -> tuple[ChecklistItem, ...]:
        """`checklist` with the items of `severity`'s template it lacks (by id) appended."""
        return with_items_of(checklist, template_for(severity, self._templates))

    async def record(
        self,
        incident: Incident,
        added: Sequence[ChecklistItem],
        *,
        before: Severity,
        actor: str,
    ) -> str | None:
        """Audit the items `added` by raising `incident` (as saved) from `before`, show them in
        the pinned checklist and tick those already done; why the pinned message could not be
        edited, or None."""
        if not added:
            return None
        numbers = {item.id: n for n, item in enumerate(incident.checklist, 1)}
        after = incident.severity.value
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType.CHECKLIST_ITEMS_ADDED,
                key=f"checklist-items-added:{before.value}-{after}:v{incident.version}",
                at=self._clock.now(),
                actor=actor,
                data={
                    "from": before.value,
                    "to": after,
                    "items": [
                        {"id": item.id, "number": numbers.get(item.id), "text": item.text}
                        for item in added
                    ],
                    "reason": f"severity raised from {before.value} to {after}",
                },
            )
        )
        ids = {item.id for item in added}
        ticked = [
            tick
            for event in already_happened(incident)
            for tick in await self._ticks.happened(incident.id, event, only=ids)
        ]
        changed = [t for t in ticked if t.changed]
        if changed:  # the last tick edited the pinned message, the added items in it
            return changed[-1].board_error
        _, error = await self._ticks.show(incident)
        return error
