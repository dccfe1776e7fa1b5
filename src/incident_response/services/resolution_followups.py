"""The resolution's follow-ups step: each action item recorded during the incident becomes an
issue in the tracker (Linear when configured; a line of the Markdown postmortem otherwise).

It runs before the postmortem step, which links every follow-up to its issue. Resumable: the
tracker files each follow-up once per id (Linear: a fixed issue id), the issue is then recorded
on the follow-up, and FOLLOWUP_FILED is keyed by the follow-up, so a crash anywhere in between
files nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable

from incident_response.domain.audit import AuditEventType
from incident_response.domain.clock import utc
from incident_response.domain.incident import FollowUp, Incident, IssueRef
from incident_response.domain.responder_names import ResponderNames
from incident_response.domain.text import shortened
from incident_response.ports import IssueTracker
from incident_response.services.resolution_steps import ResolutionSteps, Step

TITLE_CHARS = 120


def followup_body(incident: Incident, item: FollowUp) -> str:
    """The issue's description: the action item and where it came from, people by name (as
    in the postmortem), everything else personal stripped."""
    names = ResponderNames.of(incident)
    lines = [
        names.text(item.text),
        "",
        f"Follow-up from incident {incident.id} ({incident.severity.value}, "
        f"{names.text(incident.title)}), recorded by {names.who(item.created_by)} at "
        f"{utc(item.created_at):%Y-%m-%d %H:%M} UTC.",
    ]
    if item.owner:
        lines.append(f"Owner: {names.who(item.owner)}.")
    lines.append("The incident's postmortem links this issue.")
    return "\n".join(lines)


async def file_followups(
    incident: Incident, *, issues: IssueTracker, steps: ResolutionSteps
) -> None:
    """File every follow-up not filed yet, record its issue and audit it."""
    for item in incident.followups:
        ref = item.issue
        if ref is None:
            ref = await issues.file_followup(
                postmortem_key=incident.id,
                followup_id=item.id,
                title=shortened(" ".join(item.text.split()), TITLE_CHARS),
                body=followup_body(incident, item),
                owner_email=item.owner,
            )
            await steps.mutate(incident.id, _linked(item.id, ref))
        await steps.append(
            incident.id,
            AuditEventType.FOLLOWUP_FILED,
            f"followup-filed:{item.id}",
            actor="system",
            data={"id": item.id, "issue_id": ref.id, "url": ref.url},
        )
    await steps.record(incident.id, Step.FOLLOWUPS, {"filed": len(incident.followups)})


def _linked(followup_id: str, ref: IssueRef) -> Callable[[Incident], Incident | None]:
    def link(current: Incident) -> Incident | None:
        if all(f.id != followup_id or f.issue == ref for f in current.followups):
            return None
        followups = tuple(
            f.model_copy(update={"issue": ref}) if f.id == followup_id else f
            for f in current.followups
        )
        return current.update(followups=followups)

    return link
