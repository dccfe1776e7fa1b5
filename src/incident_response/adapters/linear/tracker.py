"""LinearIssueTracker: the IssueTracker port on Linear, one issue per postmortem key.

Filing must happen once per key even across a crash between Linear's answer and the caller's
record, and across two processes racing. Linear has no idempotency key, but `issueCreate` takes
the new issue's id: the tracker derives it from the team and the key (a UUID in v4 format, which
is what Linear accepts), so the key's issue can only ever exist once. Before creating, it looks
the id up (`issues(filter: {id: {eq: ...}})`, a direct read rather than the eventually
consistent search index) and returns what it finds. A create whose answer was lost (a timeout,
a 5xx) or that lost a race is followed by the same lookup; only when the issue is surely not
there is the create sent again, once. The description also carries a visible line naming the
key, for the people reading it.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid
import weakref
from collections.abc import Mapping, Sequence
from typing import Any

from incident_response.adapters.linear.client import LinearError, LinearGraphQL
from incident_response.adapters.linear.documents import (
    CREATE_ISSUE,
    FIND_ISSUE,
    PROBE,
    USER_BY_EMAIL,
)
from incident_response.domain.alert import Severity
from incident_response.domain.context import FiledPostmortem
from incident_response.domain.incident import IssueRef
from incident_response.http import VendorError
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

# Linear's priorities: 0 none, 1 urgent, 2 high, 3 medium, 4 low
PRIORITY_BY_SEVERITY: Mapping[Severity, int] = {
    Severity.P1: 1,
    Severity.P2: 2,
    Severity.P3: 3,
    Severity.P4: 4,
}
NO_PRIORITY = 0
ID_NAMESPACE = "incident-response:postmortem"


def postmortem_issue_id(team_id: str, key: str) -> str:
    """The id of the key's issue: stable, unique per team and key, in UUID v4 format."""
    digest = hashlib.sha256(f"{ID_NAMESPACE}:{team_id.lower()}:{key}".encode()).digest()
    return str(uuid.UUID(bytes=digest[:16], version=4))


def followup_key(postmortem_key: str, followup_id: str) -> str:
    return f"{postmortem_key}:followup:{followup_id}"


def marker_line(key: str) -> str:
    return f"Filed by incident-response for postmortem key `{key}`."


def description(body: str, key: str) -> str:
    return f"{body.rstrip()}\n\n---\n\n{marker_line(key)}\n"


class LinearIssueTracker:
    """Postmortems as issues of one Linear team, optionally in a project and with labels."""

    def __init__(
        self,
        graphql: LinearGraphQL,
        *,
        team_id: str,
        project_id: str | None = None,
        label_ids: Sequence[str] = (),
    ) -> None:
        self._graphql = graphql
        self._team_id = team_id
        self._project_id = project_id or None
        self._label_ids = tuple(label_ids)
        # one filing per key at a time in this process; other processes meet the fixed id
        self._filing: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def file_postmortem(
        self,
        *,
        key: str,
        title: str,
        body: str,
        severity: Severity | None = None,
        owner_email: str | None = None,
    ) -> FiledPostmortem:
        if not key.strip() or "\n" in key:
            raise ValueError("a postmortem key must be one non-empty line")
        if not title.strip():
            raise ValueError("a postmortem needs a title")
        issue_id = postmortem_issue_id(self._team_id, key)
        lock = self._filing.get(key)
        if lock is None:
            lock = self._filing[key] = asyncio.Lock()
        async with lock:
            found = await self._find(issue_id, key)
            if found is not None:
                return found
            fields: dict[str, Any] = {
                "id": issue_id,
                "teamId": self._team_id,
                "title": title.strip(),
                "description": description(body, key),
                "priority": NO_PRIORITY if severity is None else PRIORITY_BY_SEVERITY[severity],
            }
            if self._project_id:
                fields["projectId"] = self._project_id
            if self._label_ids:
                fields["labelIds"] = list(self._label_ids)
            assignee = await self._user_id(owner_email)
            if assignee is not None:
                fields["assigneeId"] = assignee
            return await self._create(fields, issue_id=issue_id, key=key)

    async def file_followup(
        self,
        *,
        postmortem_key: str,
        followup_id: str,
        title: str,
        body: str,
        owner_email: str | None = None,
    ) -> IssueRef:
        """One issue per follow-up, filed like a postmortem (a fixed id from the team and the
        follow-up's key, looked up before it is created), so a resolution resumed after a crash
        never files it twice. Assigned to the owner when Linear knows their e-mail."""
        filed = await self.file_postmortem(
            key=followup_key(postmortem_key, followup_id),
            title=title,
            body=body,
            owner_email=owner_email,
        )
        return IssueRef(id=filed.id, url=filed.url)

    async def find_postmortem(self, key: str) -> FiledPostmortem | None:
        return await self._find(postmortem_issue_id(self._team_id, key), key)

    async def probe(self) -> str:
        """One authenticated read: who the key is and whether the team is there."""
        try:
            data = await self._graphql.query(PROBE, {"teamId": self._team_id}, what="probe")
        except LinearError as exc:
            if exc.at("team"):
                raise LinearError(
                    "probe",
                    f"LINEAR_TEAM_ID {self._team_id} is not a team this API key can see "
                    f"({exc.reason}); use the team's UUID, not its key",
                    problems=exc.problems,
                    refusal="input",
                    status=exc.status,
                    transient=False,
                    body=exc.body,
                ) from exc
            raise
        team, viewer = data["team"], data["viewer"]
        return f"team '{team['key']}' ({team['name']}) reachable as {viewer['name']}"

    # -- the calls ---------------------------------------------------------------------------

    async def _find(self, issue_id: str, key: str) -> FiledPostmortem | None:
        data = await self._graphql.query(FIND_ISSUE, {"id": issue_id}, what="find postmortem")
        nodes = data["issues"]["nodes"]
        return _filed(nodes[0], key) if nodes else None

    async def _create(self, fields: dict[str, Any], *, issue_id: str, key: str) -> FiledPostmortem:
        try:
            return await self._create_once(fields, key)
        except VendorError as exc:
            # The write may have happened (its answer was lost) or lost a race with another
            # process filing the same key: look before anything else.
            found = await self._find(issue_id, key)
            if found is not None:
                log.info("linear.postmortem_found_after_failed_create", key=key)
                return found
            if isinstance(exc, LinearError) and exc.refusal == "input":
                raise self._explained(exc) from exc
            if not exc.transient:
                raise
            log.warning("linear.postmortem_create_retried", key=key, reason=exc.reason)
        return await self._create_once(fields, key)

    async def _create_once(self, fields: dict[str, Any], key: str) -> FiledPostmortem:
        data = await self._graphql.mutate(CREATE_ISSUE, {"input": fields}, what="issueCreate")
        payload = data["issueCreate"]
        if not payload.get("success") or not payload.get("issue"):
            raise VendorError("linear", "issueCreate", "Linear did not create the issue")
        return _filed(payload["issue"], key)

    async def _user_id(self, email: str | None) -> str | None:
        """The Linear user with the IC's e-mail, if there is one. A refusal (say, a key that
        may not list users) files the postmortem unassigned rather than not at all."""
        if not email:
            return None
        try:
            data = await self._graphql.query(
                USER_BY_EMAIL, {"email": email}, what="find the IC's Linear user"
            )
        except VendorError as exc:
            if exc.transient:
                raise
            log.warning("linear.assignee_lookup_refused", reason=exc.reason)
            return None
        nodes = data["users"]["nodes"]
        return str(nodes[0]["id"]) if nodes else None

    def _explained(self, exc: LinearError) -> LinearError:
        """A create Linear refused for what it asked names the settings that went into it."""
        settings = ["LINEAR_TEAM_ID"]
        if self._project_id:
            settings.append("LINEAR_PROJECT_ID")
        if self._label_ids:
            settings.append("LINEAR_LABEL_IDS")
        return LinearError(
            exc.what,
            f"{exc.reason} (check {', '.join(settings)})",
            problems=exc.problems,
            refusal=exc.refusal,
            status=exc.status,
            transient=False,
            body=exc.body,
        )


def _filed(issue: Mapping[str, Any], key: str) -> FiledPostmortem:
    return FiledPostmortem(id=str(issue["id"]), url=str(issue["url"]), key=key)
