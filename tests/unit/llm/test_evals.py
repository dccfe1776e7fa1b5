"""The eval set and its scorer: enough incidents, and a scorer that catches what it must."""

from __future__ import annotations

from pathlib import Path

import pytest
from evals.run import evaluate, load_cases, main
from evals.scripted import CarefulCompletion, HallucinatingCompletion


def test_the_eval_set_has_twenty_incidents_with_planted_data() -> None:
    cases = load_cases()
    assert len(cases) >= 20
    for case in cases:
        assert len(case.planted) >= 5, case.id
        assert any("@" in value for value in case.planted), case.id
        assert {expected for _, expected in case.messages} == {True, False}, case.id


async def test_a_careful_model_scores_clean() -> None:
    result = await evaluate("careful", load_cases()[:5], completion=CarefulCompletion())
    for total in (result.status, result.postmortem):
        assert total.clean() == total.drafts == 5
        assert (total.model_rejected, total.model_leaked) == (0, 0)


async def test_the_scorer_catches_a_hallucinating_leaking_model() -> None:
    cases = load_cases()[:5]
    leak = next(p for p in cases[0].planted if "@" in p)
    result = await evaluate("bad", cases[:1], completion=HallucinatingCompletion(leak))
    assert result.status.model_rejected == result.status.model_answers == 1
    assert result.status.model_leaked == 1
    # and what was kept (the built-in drafter's update) leaks nothing
    assert (result.status.leaked, result.status.problems) == (0, 0)


async def test_the_runner_prints_a_table_and_writes_the_report(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    report = tmp_path / "report.md"
    assert await main(["--drafter", "builtin", "--report", str(report)]) == 0
    assert "builtin" in capsys.readouterr().out
    assert "| builtin | status update | 20 | 20 | 0 | 0 | 0 | 0 | 0 |" in report.read_text()
