"""The StatusDraft as the war room shows it: its text with Approve & Publish, Edit and Reject.

One builder for every caller that puts a draft in front of the IC (a `draft` command answered in
Slack, an edited draft, the Resolver's resolved update), so each surface offers the same buttons.
A button's value names the draft and the version it shows: approving binds to that exact text,
and a card left over from an earlier version is refused by the gate rather than publishing
something else.
"""

from __future__ import annotations

from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import DraftKind, StatusDraft

APPROVE, EDIT, REJECT = "draft.approve", "draft.edit", "draft.reject"


def draft_value(draft: StatusDraft) -> str:
    return f"{draft.id}:{draft.version}"


def parse_draft_value(value: str) -> tuple[str, int] | None:
    """(draft id, version) from a button's value, or None for a value no card carries."""
    draft_id, _, version = value.rpartition(":")
    return (draft_id, int(version)) if draft_id and version.isdigit() else None


def draft_card(incident: Incident, draft: StatusDraft) -> ChatMessage:
    """The draft in the room, keyed per version so posting it again shows it once."""
    value = draft_value(draft)
    if draft.kind is DraftKind.RESOLVED:
        text = (
            f"Customers have not been told yet. The resolved status update {draft.id} "
            f"(version {draft.version}) waits for the IC's approval"
        )
    else:
        text = (
            f"Status update draft {draft.id} (version {draft.version}) waits for the IC's approval"
        )
    return ChatMessage(
        text=text,
        sections=(
            "\n".join(f"> {line}" for line in draft.body.splitlines()),
            f"Nothing reaches the status page until the IC ({incident.ic or 'none assigned'}) "
            "or an approver approves this exact text.",
        ),
        buttons=(
            ChatButton(
                action=APPROVE,
                label="Approve & Publish",
                value=value,
                style=ButtonStyle.PRIMARY,
                confirm=f"Publish version {draft.version} of this update to the public status "
                "page, exactly as written?",
            ),
            ChatButton(action=EDIT, label="Edit", value=value),
            ChatButton(action=REJECT, label="Reject", value=value, style=ButtonStyle.DANGER),
        ),
        key=f"{incident.id}:draft-card:{draft.id}:v{draft.version}",
    )
