"""FallbackDrafter: the model's draft when it works in time, else the built-in drafter's."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pytest

from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.llm.drafter import ModelDrafter
from incident_response.adapters.llm.fallback import FallbackDrafter
from incident_response.http import VendorError
from incident_response.ports import LLM, StatusContext
from tests.contract.incident_samples import STARTED, sample_incident
from tests.contract.llm_suite import LLMContract, postmortem_context
from tests.support.clock import ManualClock
from tests.unit.llm.scripted import Answer, ScriptedCompletion
from tests.unit.llm.test_drafter import GOOD

NOW = STARTED + timedelta(minutes=12)


class RecordingLogger:
    def __init__(self) -> None:
        self.warnings: list[tuple[str, dict[str, Any]]] = []

    def warning(self, event: str, **fields: Any) -> None:
        self.warnings.append((event, fields))


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def drafter(
    clock: ManualClock, answers: dict[str, Answer], *, delay: float = 0.0, timeout: float = 5.0
) -> tuple[FallbackDrafter, RecordingLogger]:
    logger = RecordingLogger()
    primary = ModelDrafter(ScriptedCompletion(answers, delay=delay), model="m", clock=clock)
    return (
        FallbackDrafter(
            primary, BuiltinDrafter(clock=clock), timeout_seconds=timeout, logger=logger
        ),
        logger,
    )


def context() -> StatusContext:
    return StatusContext(incident=sample_incident(), public_status="investigating")


class TestFallbackOverAFailingModel(LLMContract):
    """The port's suite holds even when every model call fails."""

    @pytest.fixture
    def llm(self, clock: ManualClock) -> LLM:
        return drafter(clock, {})[0]


async def test_the_models_draft_when_it_passes(clock: ManualClock) -> None:
    llm, logger = drafter(clock, {"status_update": GOOD})
    assert await llm.draft_status_update(context()) == GOOD
    assert llm.last_drafted_by == "primary"
    assert logger.warnings == []


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        (VendorError("anthropic", "messages", "HTTP 529 overloaded", status=529), "vendor call"),
        (GOOD + " Ask alice@example.com.", "failed its checks"),
        (RuntimeError("bug"), "unexpected error: bug"),
    ],
)
async def test_any_failure_gives_the_builtin_draft_and_says_why(
    clock: ManualClock, answer: Answer, reason: str
) -> None:
    llm, logger = drafter(clock, {"status_update": answer})
    builtin = await BuiltinDrafter(clock=clock).draft_status_update(context())
    assert await llm.draft_status_update(context()) == builtin
    assert llm.last_drafted_by == "fallback"
    [(event, fields)] = logger.warnings
    assert event == "llm.fallback"
    assert fields["task"] == "status_update"
    assert reason in fields["reason"]


async def test_a_slow_model_gives_the_builtin_draft(clock: ManualClock) -> None:
    llm, logger = drafter(clock, {"postmortem": "never read"}, delay=5.0, timeout=0.01)
    builtin = await BuiltinDrafter(clock=clock).draft_postmortem(postmortem_context())
    assert await llm.draft_postmortem(postmortem_context()) == builtin
    [(_, fields)] = logger.warnings
    assert fields["reason"] == "no answer within 0.01 s"


async def test_a_rejected_draft_logs_its_problems(clock: ManualClock) -> None:
    llm, logger = drafter(clock, {"status_update": GOOD + " 40% failed."})
    await llm.draft_status_update(context())
    [(_, fields)] = logger.warnings
    assert fields["problems"] == ["the number or time '40' is not in the input"]


async def test_classification_falls_back_to_the_builtin_heuristic(clock: ManualClock) -> None:
    llm, logger = drafter(clock, {"classify": VendorError("openai", "chat", "down")})
    assert await llm.is_status_update("Posted to the status page: we are investigating") is True
    assert await llm.is_status_update("restarted the pods") is False
    assert [fields["task"] for _, fields in logger.warnings] == ["classify", "classify"]


async def test_the_models_classification_wins_when_it_answers(clock: ManualClock) -> None:
    llm, _ = drafter(clock, {"classify": "yes"})
    assert await llm.is_status_update("restarted the pods") is True


def test_the_timeout_must_be_positive(clock: ManualClock) -> None:
    with pytest.raises(ValueError, match="positive"):
        FallbackDrafter(BuiltinDrafter(), BuiltinDrafter(), timeout_seconds=0)


async def test_the_default_logger_is_structured(
    clock: ManualClock, caplog: pytest.LogCaptureFixture
) -> None:
    primary = ModelDrafter(ScriptedCompletion({}), model="m", clock=clock)
    llm = FallbackDrafter(primary, BuiltinDrafter(clock=clock), timeout_seconds=1)
    with caplog.at_level(logging.WARNING):
        assert await llm.draft_status_update(context())
    assert llm.last_drafted_by == "fallback"
