"""The Declare incident modal: what `/incident-response declare` opens, and what its submission
says, in Block Kit's words. The declaration itself is the core's (services.declaration).

Title, severity (P1-P4), service, summary, and the IC as a users_select that starts on the person
who typed the command. The modal's private metadata carries where the command was typed (the
channel and its response URL), so the answer goes back there; the submitted view's id is the
declaration's idempotency key, so a redelivered submission opens no second incident.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from incident_response.domain.alert import Severity
from incident_response.domain.declaration import (
    MAX_SERVICE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    DeclareText,
)

DECLARE_VIEW = "incident.declare"
INPUT_MAX = 3000  # Block Kit's limit for a plain_text_input
DECLARE_WORD = "declare"
DEFAULT_SEVERITY = Severity.P2

# field -> (block id, action id) of each input
INPUTS: Mapping[str, tuple[str, str]] = {
    "title": ("declare_title", "title_input"),
    "severity": ("declare_severity", "severity_input"),
    "service": ("declare_service", "service_input"),
    "summary": ("declare_summary", "summary_input"),
    "ic": ("declare_ic", "ic_input"),
}
SEVERITY_LABELS: Mapping[Severity, str] = {
    Severity.P1: "P1 - critical, customers badly affected",
    Severity.P2: "P2 - major",
    Severity.P3: "P3 - minor",
    Severity.P4: "P4 - low",
}


def asks_to_declare(text: str) -> bool:
    """Whether a slash command's text is `declare` (with or without a title after it)."""
    words = text.strip().split(maxsplit=1)
    return bool(words) and words[0].lower() == DECLARE_WORD


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text, "emoji": True}


def _input(
    field: str, label: str, element: dict[str, Any], *, optional: bool = False
) -> dict[str, Any]:
    block, action = INPUTS[field]
    return {
        "type": "input",
        "block_id": block,
        "label": _plain(label),
        "optional": optional,
        "element": {**element, "action_id": action},
    }


def declare_modal(
    *, typed: DeclareText, declarer_user_id: str, metadata: Mapping[str, str]
) -> dict[str, Any]:
    """The modal, prefilled with what followed `declare` (`P1 checkout: Checkout is slow`)."""
    options = [
        {"text": _plain(label), "value": severity.value}
        for severity, label in SEVERITY_LABELS.items()
    ]
    wanted = typed.severity.upper() or DEFAULT_SEVERITY.value
    chosen = next((o for o in options if o["value"] == wanted), options[1])
    title_input: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_TITLE_CHARS}
    if typed.title:
        title_input["initial_value"] = typed.title[:MAX_TITLE_CHARS]
    service_input: dict[str, Any] = {"type": "plain_text_input", "max_length": MAX_SERVICE_CHARS}
    if typed.service:
        service_input["initial_value"] = typed.service[:MAX_SERVICE_CHARS]
    ic_input: dict[str, Any] = {"type": "users_select"}
    if declarer_user_id:
        ic_input["initial_user"] = declarer_user_id
    return {
        "type": "modal",
        "callback_id": DECLARE_VIEW,
        "private_metadata": json.dumps(dict(metadata)),
        "title": _plain("Declare incident"),
        "submit": _plain("Declare"),
        "close": _plain("Cancel"),
        "blocks": [
            _input("title", "What is wrong?", title_input),
            _input(
                "severity",
                "Severity",
                {"type": "static_select", "options": options, "initial_option": chosen},
            ),
            _input("service", "Service affected", service_input, optional=True),
            _input(
                "summary",
                "What is known so far",
                {
                    "type": "plain_text_input",
                    "multiline": True,
                    "max_length": min(MAX_SUMMARY_CHARS, INPUT_MAX),
                },
                optional=True,
            ),
            _input("ic", "Incident commander", ic_input),
        ],
    }


def submitted_declaration(view: Mapping[str, Any]) -> dict[str, str]:
    """What was entered in a submitted Declare modal, by field; the IC as a Slack user id."""
    values = view.get("state", {}).get("values", {})
    found: dict[str, str] = {}
    for field, (block, action) in INPUTS.items():
        state = values.get(block, {}).get(action)
        if not isinstance(state, Mapping):
            continue
        option = state.get("selected_option")
        value = (
            option.get("value")
            if isinstance(option, Mapping)
            else state.get("selected_user")
            if state.get("type") == "users_select"
            else state.get("value")
        )
        if isinstance(value, str):
            found[field] = value
    return found


def block_errors(problems: Mapping[str, str]) -> dict[str, str]:
    """A declaration's problems by field, as Slack's `response_action: errors` wants them:
    by block id (a problem with no input of its own is shown under the title)."""
    errors: dict[str, str] = {}
    for field, problem in problems.items():
        block = INPUTS.get(field, INPUTS["title"])[0]
        errors[block] = (errors[block] + "; " if block in errors else "") + problem
    return errors
