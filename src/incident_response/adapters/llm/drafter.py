"""ModelDrafter: the LLM port over any model endpoint (a `Completion`), with every draft checked.

The request is built by `prompting` (personal data stripped there), the model answers, and
`checks` compares the answer with the facts it was given. A draft that fails any check is never
returned: `DraftRejected` names the problems, and the FallbackDrafter around this drafter offers
the built-in drafter's text instead. Either way the draft still goes through the approval gate.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from incident_response.adapters.llm import checks, prompting
from incident_response.adapters.llm.completion import Completion, PromptRequest
from incident_response.domain.clock import Clock, SystemClock
from incident_response.domain.errors import IncidentResponseError
from incident_response.ports import PostmortemContext, StatusContext


class DraftRejected(IncidentResponseError):
    """The model's answer failed the checks (invented facts, personal data, wrong shape)."""

    def __init__(self, task: str, problems: Sequence[str]) -> None:
        self.task = task
        self.problems = tuple(problems)
        super().__init__(f"{task} draft rejected: " + "; ".join(self.problems))


class ModelDrafter:
    """LLM port over a Completion. `classifier_model` answers the yes/no classification (a small,
    cheap model will do); it defaults to `model`."""

    def __init__(
        self,
        completion: Completion,
        *,
        model: str,
        classifier_model: str | None = None,
        clock: Clock | None = None,
    ) -> None:
        self._completion = completion
        self._model = model
        self._classifier_model = classifier_model or model
        self._clock = clock or SystemClock()

    @property
    def name(self) -> str:
        return f"{self._completion.name}:{self._model}"

    async def draft_status_update(self, context: StatusContext) -> str:
        request = prompting.status_update_request(context, now=self._clock.now())
        return await self._draft(request, checks.status_update_problems)

    async def draft_postmortem(self, context: PostmortemContext) -> str:
        request = prompting.postmortem_request(context)
        return await self._draft(request, checks.postmortem_problems)

    async def is_status_update(self, text: str) -> bool:
        request = prompting.classify_request(text)
        answer = await self._completion.complete(request, model=self._classifier_model)
        try:
            return prompting.parse_classification(answer)
        except ValueError as exc:
            raise DraftRejected(request.task, [str(exc)]) from None

    async def _draft(
        self, request: PromptRequest, problems_of: Callable[[str, str], list[str]]
    ) -> str:
        answer = (await self._completion.complete(request, model=self._model)).strip()
        problems = problems_of(answer, request.user)
        if problems:
            raise DraftRejected(request.task, problems)
        return answer + "\n" if request.task == "postmortem" else answer
