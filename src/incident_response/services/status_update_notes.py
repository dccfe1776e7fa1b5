"""A war-room message that tells customers or stakeholders where things stand counts as an update.

ICs often update customers outside the status page (support macros, an e-mail to an account,
a post by the comms team) and say so in the room. When such a message is noted on the timeline,
the drafter (the LLM port: a model, or the built-in heuristic) is asked whether it is a status
update; if it is, the NudgeScheduler counts it, so the IC is not reminded about what they just
did. Asking never blocks the note: a drafter that fails leaves the reminders as they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from incident_response.domain.audit import AuditEventType
from incident_response.ports import LLM, AuditLog
from incident_response.services.nudges import noted_update_key
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


class UpdateCounter(Protocol):
    async def count_as_update(
        self, incident_id: str, *, note_key: str, actor: str, text: str
    ) -> datetime | None: ...


class StatusUpdateNotes:
    def __init__(self, *, llm: LLM, nudges: UpdateCounter, audit: AuditLog) -> None:
        self._llm = llm
        self._nudges = nudges
        self._audit = audit

    async def consider(self, incident_id: str, *, note_key: str, text: str, actor: str) -> bool:
        """True when the message (noted under `note_key`) counts as a status update. A message
        already counted is not asked about again (a redelivered note, a retried command)."""
        if not text.strip():
            return False
        key = noted_update_key(note_key)
        sent = await self._audit.find(incident_id, AuditEventType.STATUS_UPDATE_SENT)
        if not any(r.key == key for r in sent):
            try:
                is_update = await self._llm.is_status_update(text)
            except Exception:  # the drafter's trouble never costs the note or the room
                log.warning("status_notes.classify_failed", incident_id=incident_id, exc_info=True)
                return False
            if not is_update:
                return False
        # counting again after a crash between the record and the room message is safe: both
        # are keyed by the note
        return (
            await self._nudges.count_as_update(
                incident_id, note_key=note_key, actor=actor, text=text
            )
            is not None
        )
