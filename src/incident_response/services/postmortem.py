"""The PostmortemWriter: the facts of an incident, handed to the LLM port to draft a postmortem.

The draft is for people to finish, so it is built only from the record: the incident, its audit
timeline, the code changes around it and the status updates customers actually saw. When the
LLM fails, the writer falls back to a plain skeleton of the same facts, because a postmortem
draft waiting within two minutes of resolution matters more than its prose.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime

from incident_response.domain.clock import utc
from incident_response.domain.context import Change
from incident_response.domain.errors import IllegalTransition
from incident_response.domain.incident import FollowUp, Incident, IncidentStatus
from incident_response.domain.privacy import strip_personal_data
from incident_response.domain.responder_names import ResponderNames
from incident_response.domain.status_update import DraftStatus
from incident_response.domain.timeline import (
    CONTRIBUTING_FACTORS,
    LESSONS,
    Naming,
    incident_story,
    stage_path,
)
from incident_response.ports import LLM, AuditLog, PostmortemContext
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)


def postmortem_title(incident: Incident) -> str:
    """The filed issue's title: read in lists across the company, so the alert title in it is
    made fit to share (people by name, hosts, IPs and e-mails stripped) like the body."""
    title = ResponderNames.of(incident).text(" ".join(incident.title.split()))
    return f"Postmortem: {incident.severity.value} {title} ({incident.id})"


def published_bodies(incident: Incident) -> tuple[str, ...]:
    """The status updates customers saw, oldest first."""
    published = [d for d in incident.drafts if d.status is DraftStatus.PUBLISHED]
    published.sort(key=lambda d: d.published_at or d.updated_at)
    return tuple(d.body for d in published)


def as_resolved(incident: Incident, resolved_at: datetime | None) -> Incident:
    """The incident as it stands once resolved at `resolved_at`, so the draft written while the
    resolution is under way states the resolution time and duration."""
    if resolved_at is None or incident.status is IncidentStatus.RESOLVED:
        return incident
    try:
        return incident.transition(IncidentStatus.RESOLVED, at=resolved_at)
    except IllegalTransition:
        return incident


class PostmortemWriter:
    def __init__(self, *, llm: LLM, audit: AuditLog) -> None:
        self._llm = llm
        self._audit = audit

    async def context(
        self,
        incident: Incident,
        *,
        changes: Sequence[Change] = (),
        resolved_at: datetime | None = None,
    ) -> PostmortemContext:
        records = await self._audit.records(incident.id)
        return PostmortemContext(
            incident=as_resolved(incident, resolved_at),
            timeline=tuple(records),
            changes=tuple(sorted(changes, key=lambda c: utc(c.at))),
            published_updates=published_bodies(incident),
        )

    async def draft(self, context: PostmortemContext) -> str:
        """The LLM's draft; raises what the LLM raised, or ValueError for an empty draft."""
        text = await self._llm.draft_postmortem(context)
        if not text.strip():
            raise ValueError("the drafter returned an empty postmortem")
        return with_followups(text, context.incident)

    async def write(
        self,
        incident: Incident,
        *,
        changes: Sequence[Change] = (),
        resolved_at: datetime | None = None,
    ) -> str:
        """The postmortem draft as Markdown: the LLM's, or the skeleton when the LLM fails."""
        context = await self.context(incident, changes=changes, resolved_at=resolved_at)
        try:
            return await self.draft(context)
        except Exception as exc:
            log.warning("postmortem.llm_failed", incident_id=incident.id, exc_info=True)
            return skeleton(context, problem=f"{type(exc).__name__}: {exc}")


def skeleton(context: PostmortemContext, *, problem: str = "") -> str:
    """A postmortem draft from the record alone, with every judgement left to people. It is
    filed like any postmortem, so it names people by name or role, never by e-mail, and strips
    personal data from outside text, as the built-in drafter does."""
    incident = context.incident
    names = ResponderNames.of(incident)
    parts = [f"# {postmortem_title(incident)}"]
    if problem:
        parts.append(
            "_Drafted from the record without the language model, which failed "
            f"({strip_personal_data(problem)})._"
        )
    factors, factors_prompt = CONTRIBUTING_FACTORS
    story = incident_story(
        incident, context.timeline, naming=Naming(person=names.who, outside=names.text)
    )
    parts += [
        "## Facts",
        _lines(
            [
                f"Severity: {incident.severity.value}",
                f"Service: {names.text(incident.service)}",
                f"Incident commander: {names.who(incident.ic) if incident.ic else 'not recorded'}",
                f"Opened: {_when(incident.created_at)}",
                f"War room assembled: {_when(incident.assembled_at)}",
                f"Mitigated: {_when(incident.mitigated_at)}",
                f"Resolved: {_when(incident.resolved_at)}",
            ]
        ),
        "## Summary",
        names.text(incident.summary.strip())
        or "_What happened, in two or three sentences a customer could follow?_",
        "## Impact",
        _lines(
            [
                f"Stages: {' -> '.join(stage_path(context.timeline))}",
                f"Status updates published to customers: {len(context.published_updates)}",
                *context.published_updates,
            ]
        ),
        "## Timeline (UTC)",
        _lines(f"{_when(e.at)} {e.text} ({names.who(e.who)})" for e in story)
        or "_Nothing was recorded._",
        f"## {factors}",
        f"_{factors_prompt}_",
        "## Lessons learned",
        "\n\n".join(f"### {heading}\n\n_{prompt}_" for heading, prompt in LESSONS),
        "## Follow-ups",
        followups_markdown(incident, names),
        "## Recent changes",
        _lines(_change(c, names) for c in context.changes)
        or "_No code changes were found around the incident._",
    ]
    return "\n\n".join(parts) + "\n"


def followups_markdown(incident: Incident, names: ResponderNames) -> str:
    """The follow-ups as a list, each with its owner and a link to its issue."""
    if not incident.followups:
        return "_No follow-ups were recorded during the incident: add the action items here._"
    return _lines(_followup(f, names) for f in incident.followups)


def _followup(item: FollowUp, names: ResponderNames) -> str:
    line = names.text(item.text)
    if item.owner:
        line += f" (owner: {names.who(item.owner)})"
    if item.issue is not None:
        line += f": [{item.issue.id}]({item.issue.url})" if item.issue.url else f": {item.issue.id}"
    return line


def with_followups(markdown: str, incident: Incident) -> str:
    """A draft that links every filed follow-up: a drafter (the language model) that left one
    out gets the list appended, so no follow-up goes missing from the postmortem."""
    missing = [f for f in incident.followups if f.issue is not None and f.issue.url not in markdown]
    if not missing:
        return markdown
    names = ResponderNames.of(incident)
    listed = _lines(_followup(f, names) for f in missing)
    return f"{markdown.rstrip()}\n\n## Follow-ups filed\n\n{listed}\n"


def _change(change: Change, names: ResponderNames) -> str:
    text = names.text(f"{change.repo}@{change.sha[:10]} {change.title} ({change.author})")
    return f"{_when(change.at)} {text} {change.url}".rstrip()


def _lines(items: Iterable[str]) -> str:
    return "\n".join(f"- {item}" for item in items)


def _when(at: datetime | None) -> str:
    return "not recorded" if at is None else f"{utc(at):%Y-%m-%d %H:%M:%S} UTC"
