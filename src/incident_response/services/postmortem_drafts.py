"""Postmortem drafts on request (an AI agent, the API), written the way the Resolver writes the
one it files, and filed nowhere.

Someone preparing a postmortem before or after resolution wants the draft now; filing stays the
resolution's job, once per incident. Once a postmortem is filed, the filed text is the one people
edit, so that is what comes back when the tracker can show it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Protocol

from incident_response.domain.clock import Clock, utc
from incident_response.domain.context import Change
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident, PostmortemRef
from incident_response.ports import CodeHost, IncidentStore
from incident_response.services.postmortem import PostmortemWriter
from incident_response.services.resolution_steps import Step, requested_at
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

MAX_CHANGES = 50


class FiledPostmortems(Protocol):
    """A filed postmortem's Markdown by its id (None when this tracker cannot show it)."""

    async def read(self, name: str) -> str | None: ...


@dataclass(frozen=True)
class PostmortemDraft:
    incident_id: str
    markdown: str
    source: str  # "filed": the text filed at resolution; "draft": written now, filed nowhere
    filed: PostmortemRef | None

    def as_json(self) -> dict[str, Any]:
        return {
            "incident_id": self.incident_id,
            "source": self.source,
            "filed": self.filed.model_dump() if self.filed is not None else None,
            "markdown": self.markdown,
        }


class PostmortemDrafts:
    def __init__(
        self,
        *,
        store: IncidentStore,
        writer: PostmortemWriter,
        code_host: CodeHost,
        files: FiledPostmortems,
        clock: Clock,
        changes_lookback: timedelta = timedelta(hours=24),
    ) -> None:
        self._store = store
        self._writer = writer
        self._code_host = code_host
        self._files = files
        self._clock = clock
        self._lookback = changes_lookback

    async def for_incident(self, incident_id: str) -> PostmortemDraft:
        """The filed postmortem when there is one to show, else a draft written now (the LLM's,
        or the skeleton of the facts when it fails). Raises NotFound for an unknown incident."""
        incident = await self._store.get(incident_id)
        if incident is None:
            raise NotFound(f"no incident {incident_id}")
        if incident.postmortem is not None:
            filed = await self._files.read(incident.postmortem.id)
            if filed is not None:
                return PostmortemDraft(incident.id, filed, "filed", incident.postmortem)
        markdown = await self._writer.write(
            incident, changes=await self._changes(incident), resolved_at=requested_at(incident)
        )
        return PostmortemDraft(incident.id, markdown, "draft", incident.postmortem)

    async def _changes(self, incident: Incident) -> list[Change]:
        """The changes the resolution recorded; before it, the code host's (none if it fails:
        a draft without them beats no draft)."""
        recorded = incident.resolution_steps.get(Step.CHANGES.value)
        if isinstance(recorded, dict):
            return [Change.model_validate(c) for c in recorded.get("changes", [])]
        try:
            changes = await self._code_host.recent_changes(
                service=incident.service,
                since=incident.created_at - self._lookback,
                until=self._clock.now(),
            )
        except Exception:
            log.warning("postmortem_draft.changes_failed", incident_id=incident.id, exc_info=True)
            return []
        return sorted(changes, key=lambda c: utc(c.at), reverse=True)[:MAX_CHANGES]
