"""What every model client takes and gives: one prompt in, one text answer out.

The prompts are built (and personal data stripped) once, in `prompting.py`; a vendor client
(`anthropic.py`, `openai_compatible.py`, `bedrock.py`) only sends a `PromptRequest` the way its
API wants it. `ModelDrafter` (drafter.py) turns a Completion into the LLM port.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

Task = Literal["status_update", "postmortem", "classify"]


@dataclass(frozen=True)
class PromptRequest:
    """One call's prompt. `system` is the stable instruction text (the same for every incident,
    so a vendor's prompt cache can keep it); `user` carries the incident's facts, already
    stripped of personal data. `version` names the prompt file and its version
    ("status_update@2"), recorded with every draft so a wording change can be traced."""

    task: Task
    version: str
    system: str
    user: str
    max_tokens: int = 800
    temperature: float = 0.2


@runtime_checkable
class Completion(Protocol):
    """A model endpoint. Raises incident_response.http.VendorError (or a subclass) on failure;
    never returns an empty string (an empty answer is a failure too)."""

    name: str  # the vendor, as logs and `config check` name it

    async def complete(self, request: PromptRequest, *, model: str) -> str: ...
