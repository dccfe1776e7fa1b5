"""A postmortem filed in the team's tracker, with a copy kept beside the incident.

With a production tracker (Linear) the postmortem is filed there first: that is where the team
works on it and the link the war room gets. A Markdown copy, opening with that link, is then kept
in the embedded tracker too, so the console's postmortem pages and `GET /api/postmortems` keep
working and the record survives the tracker's retention rules. The copy is best effort: its
failure is logged and never fails the filing.

What is recorded on the incident is the tracker's URL (where people work on it) with the copy's
id, the name the console and `GET /api/postmortems/{id}` read it by (and the filed text an agent
asking for the postmortem gets back). Without a copy (it failed, or a crash came between the
filing and the copy) the tracker's own id is recorded: the link still works, the copy is missing.
"""

from __future__ import annotations

from incident_response.domain.alert import Severity
from incident_response.domain.context import FiledPostmortem
from incident_response.domain.incident import IssueRef
from incident_response.ports import IssueTracker
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


class PostmortemWithCopy:
    """IssueTracker: files in `tracker`, then keeps a copy in `copies`."""

    def __init__(self, *, tracker: IssueTracker, copies: IssueTracker, tracker_name: str) -> None:
        self._tracker = tracker
        self._copies = copies
        self._name = tracker_name

    @property
    def tracker(self) -> IssueTracker:
        return self._tracker

    async def file_postmortem(
        self,
        *,
        key: str,
        title: str,
        body: str,
        severity: Severity | None = None,
        owner_email: str | None = None,
    ) -> FiledPostmortem:
        filed = await self._tracker.file_postmortem(
            key=key, title=title, body=body, severity=severity, owner_email=owner_email
        )
        try:
            copy = await self._copies.file_postmortem(
                key=key,
                title=title,
                body=f"Filed in {self._name}: {filed.url}\n\n{body}",
                severity=severity,
                owner_email=owner_email,
            )
        except Exception:
            log.exception("postmortem.copy_failed", key=key)
            return filed
        return filed.model_copy(update={"id": copy.id})

    async def file_followup(
        self,
        *,
        postmortem_key: str,
        followup_id: str,
        title: str,
        body: str,
        owner_email: str | None = None,
    ) -> IssueRef:
        """Follow-ups are the tracker's issues: the copy's postmortem links them."""
        return await self._tracker.file_followup(
            postmortem_key=postmortem_key,
            followup_id=followup_id,
            title=title,
            body=body,
            owner_email=owner_email,
        )

    async def find_postmortem(self, key: str) -> FiledPostmortem | None:
        filed = await self._tracker.find_postmortem(key)
        if filed is None:
            return None
        try:
            copy = await self._copies.find_postmortem(key)
        except Exception:
            log.exception("postmortem.copy_unreadable", key=key)
            return filed
        return filed if copy is None else filed.model_copy(update={"id": copy.id})
