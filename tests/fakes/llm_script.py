"""What the model fakes (Anthropic, OpenAI-compatible, Bedrock) say: a script.

Each fake reads the prompt out of its vendor's request shape into a `Prompt` and asks its
`script` for the answer, so a test or a benchmark decides what "the model" writes, whatever the
vendor. A script returns the text, or a `Reply` to say how the model stopped (cut off at
max_tokens, refused). The fakes' `latency` knob (FakeVendorServer) makes a slow model.

    fake = FakeAnthropic(script=lambda prompt: "We are investigating.", latency=20)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

Stop = Literal["end", "max_tokens", "refusal"]


@dataclass(frozen=True)
class Prompt:
    """The prompt one call carried, whatever the vendor: the system text, the user text, the
    model asked for, and the raw request body (`body`) for scripts that need more."""

    model: str
    system: str
    user: str
    body: Any


@dataclass(frozen=True)
class Reply:
    text: str
    stop: Stop = "end"


Script = Callable[[Prompt], "str | Reply"]

STATUS_TEXT = (
    "We are investigating reports of errors affecting some customers. "
    "We will post an update as soon as we know more."
)
POSTMORTEM_TEXT = (
    "# Postmortem\n\n"
    "## Summary\n\nCustomers saw errors while the service was degraded; the team restored it.\n\n"
    "## Impact\n\nSome customers saw failed requests during the incident.\n\n"
    "## Timeline\n\nThe incident timeline has the recorded events.\n\n"
    "## Contributing factors\n\nTo be filled in by the responders.\n\n"
    "## Lessons learned\n\nTo be filled in by the responders.\n\n"
    "## Follow-ups\n\n- Fix the alert so that it fires sooner.\n"
)


def plain_script(prompt: Prompt) -> str:
    """A sensible default that passes the drafter's checks: a short status update, a Markdown
    postmortem with the expected sections when the system prompt asks for one, or "no" to a
    yes-or-no classification."""
    system = prompt.system.lower()
    if "yes or no" in system:
        return "no"
    if "postmortem" in system:
        return POSTMORTEM_TEXT
    return STATUS_TEXT


def as_reply(answer: str | Reply) -> Reply:
    return answer if isinstance(answer, Reply) else Reply(answer)


def tokens(text: str) -> int:
    """A rough token count (about four characters a token), for the usage figures."""
    return max(1, len(text) // 4) if text else 0
