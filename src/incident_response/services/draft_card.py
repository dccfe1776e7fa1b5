"""The StatusDraft as the war room shows it: its text with Approve & Publish, Edit and Reject.

One builder for every caller that puts a draft in front of the IC (a `draft` command answered in
Slack, an edited draft, the Resolver's resolved update), so each surface offers the same buttons.
A button's value names the draft and the version it shows: approving binds to that exact
content, and a card left over from an earlier version is refused by the gate rather than
publishing something else. The card and the Approve confirmation show the public name, stage,
impact and components in the words the public page will use.
"""

from __future__ import annotations

from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.incident import Incident
from incident_response.domain.public import shown_as
from incident_response.domain.status_update import DraftKind, StatusDraft

APPROVE, EDIT, REJECT = "draft.approve", "draft.edit", "draft.reject"
CONFIRM_CHARS = 300  # Slack's limit for a confirmation dialog's text


def draft_value(draft: StatusDraft) -> str:
    return f"{draft.id}:{draft.version}"


def parse_draft_value(value: str) -> tuple[str, int] | None:
    """(draft id, version) from a button's value, or None for a value no card carries."""
    draft_id, _, version = value.rpartition(":")
    return (draft_id, int(version)) if draft_id and version.isdigit() else None


def public_lines(draft: StatusDraft) -> str:
    shown = shown_as(draft)
    return (
        f"Public name: {shown['name']}\nStage: {shown['stage']} · Impact: {shown['impact']} · "
        f"Affects: {shown['components']}"
    )


def approve_confirmation(draft: StatusDraft) -> str:
    """What the Approve dialog asks: the version and every public field, as published."""
    shown = shown_as(draft)
    head = f"Publish version {draft.version} to the public status page, exactly as shown?"
    fields = [
        f"Name: {shown['name']}",
        f"Stage: {shown['stage']}",
        f"Impact: {shown['impact']}",
        f"Affects: {shown['components']}",
    ]
    text = "\n".join([head, *fields])
    if len(text) > CONFIRM_CHARS:  # many components: the card lists them in full
        many = len(draft.components)
        fields[-1] = f"Affects: the {many} component{'s' if many > 1 else ''} on the card"
        text = "\n".join([head, *fields])
    return text


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
            public_lines(draft),
            f"Nothing reaches the status page until the IC ({incident.ic or 'none assigned'}) "
            "or an approver approves this exact content.",
        ),
        buttons=(
            ChatButton(
                action=APPROVE,
                label="Approve & Publish",
                value=value,
                style=ButtonStyle.PRIMARY,
                confirm=approve_confirmation(draft),
            ),
            ChatButton(action=EDIT, label="Edit", value=value),
            ChatButton(action=REJECT, label="Reject", value=value, style=ButtonStyle.DANGER),
        ),
        key=f"{incident.id}:draft-card:{draft.id}:v{draft.version}",
    )
