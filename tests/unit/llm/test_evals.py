"""The eval set and its scorer: enough incidents, and a scorer that catches what it must."""

from __future__ import annotations

from pathlib import Path

import pytest
from evals.run import Score, evaluate, load_cases, main, score
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


async def test_the_builtin_postmortem_leaks_no_planted_or_personal_data() -> None:
    result = await evaluate("builtin", load_cases())
    assert (result.postmortem.leaked, result.postmortem.personal) == (0, 0)


def test_the_scorer_reads_a_draft_as_rendered_and_lets_a_postmortem_name_responders() -> None:
    case = next(c for c in load_cases() if "cus_N8aZ3kLm9QxY" in c.planted)
    name, email = case.names[0], next(p for p in case.planted if "@" in p)

    def no_problems(text: str, facts: str) -> list[str]:
        return []

    def leaks(text: str, *, named: tuple[str, ...] = ()) -> int:
        total = Score()
        score(total, case, text, "", no_problems, named=named)
        return total.leaked

    assert leaks("slow query from cus\\_N8aZ3kLm9QxY") == 1  # escaped, still read as the id
    assert leaks(f"noted by {name}", named=case.names) == 0  # a postmortem names responders
    assert leaks(f"noted by {name}") == 1  # anything else may not
    assert leaks(f"noted by {email}", named=case.names) == 1


async def test_each_llm_adapter_scores_like_the_careful_model_through_its_vendor_fake() -> None:
    from evals.run import through_vendor_fakes

    results = await through_vendor_fakes(load_cases()[:3], call_timeout=10)

    assert [r.drafter for r in results] == [
        "anthropic (fake)",
        "openai-compatible (fake)",
        "bedrock (fake)",
    ]
    for result in results:
        for total in (result.status, result.postmortem):
            # the model's drafts were kept (the built-in fallback's postmortem is not clean)
            assert total.clean() == total.drafts == 3, result.drafter
            assert total.leaked == 0
