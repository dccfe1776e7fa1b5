"""What the resolution says in the war room with buttons: the question to resolve and the pulse.

Kept apart so the button actions the interaction handlers dispatch on sit beside the messages
that carry them.
"""

from __future__ import annotations

from datetime import datetime

from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.clock import isoformat
from incident_response.domain.incident import Incident

__all__ = ["PULSE_ACTION", "RESOLVE_ACTION", "pulse_question", "resolve_question"]

PULSE_ACTION = "pulse.rate"
RESOLVE_ACTION = "incident.resolve"


def resolve_question(incident: Incident, *, mark: datetime, ic: str = "IC") -> ChatMessage:
    """Asks the IC (once per mitigation, keyed by `mark`) whether to resolve; `ic` is how the
    chat mentions them."""
    return ChatMessage(
        text=f"{ic}: the alert source reports the problem is gone. Resolve the "
        "incident? Resolving files the postmortem draft, drafts the resolved status "
        "update for your approval and archives this room.",
        buttons=(
            ChatButton(
                action=RESOLVE_ACTION,
                label="Resolve incident",
                value=incident.id,
                style=ButtonStyle.PRIMARY,
                confirm="Resolve the incident and archive this war room?",
            ),
        ),
        key=f"{incident.id}:ask-to-resolve:{isoformat(mark)}",
    )


def pulse_question(incident: Incident) -> ChatMessage:
    """Asks the room to rate how the incident was run, one button per score."""
    return ChatMessage(
        text="How well was this incident run? Rate it from 1 (poorly) to 5 (very well); "
        "each person's rating counts once. `/incident-response rate N` works too.",
        buttons=tuple(
            ChatButton(action=PULSE_ACTION, label=str(n), value=str(n)) for n in range(1, 6)
        ),
        key=f"{incident.id}:pulse",
    )
