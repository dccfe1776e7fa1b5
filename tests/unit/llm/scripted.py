"""A Completion that answers from a script: what a model said, or how it failed."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from incident_response.adapters.llm.completion import PromptRequest
from incident_response.http import VendorError

Answer = str | Exception | Callable[[PromptRequest], str]


class ScriptedCompletion:
    """Answers each task from `answers` (text, an exception to raise, or a function of the
    request); records every request and model so tests can read what was sent."""

    name = "scripted"

    def __init__(self, answers: dict[str, Answer], *, delay: float = 0.0) -> None:
        self.answers = answers
        self.delay = delay
        self.requests: list[tuple[PromptRequest, str]] = []

    async def complete(self, request: PromptRequest, *, model: str) -> str:
        self.requests.append((request, model))
        if self.delay:
            await asyncio.sleep(self.delay)
        answer = self.answers.get(request.task)
        if answer is None:
            raise VendorError("scripted", request.task, "no answer scripted")
        if isinstance(answer, Exception):
            raise answer
        return answer(request) if callable(answer) else answer
