"""ModelDrafter: prompts built and checked around any Completion."""

from __future__ import annotations

from datetime import timedelta

import pytest
from evals.scripted import CarefulCompletion, HallucinatingCompletion

from incident_response.adapters.llm.drafter import DraftRejected, ModelDrafter
from incident_response.domain.errors import IncidentResponseError
from incident_response.http import VendorError
from incident_response.ports import LLM, StatusContext
from tests.contract.incident_samples import STARTED, sample_incident
from tests.contract.llm_suite import LLMContract, postmortem_context
from tests.support.clock import ManualClock
from tests.unit.llm.scripted import ScriptedCompletion
from tests.unit.llm.test_checks import POSTMORTEM

NOW = STARTED + timedelta(minutes=12)
GOOD = (
    "Checkout: as of 09:12 UTC, we are investigating a major outage that began at 09:00 UTC. "
    "Customers may be unable to use Checkout. We will post another update by 09:42 UTC."
)
CAREFUL_POSTMORTEM = """# Postmortem: Checkout incident

## Summary

A P1 incident on checkout (inc-66dac47ad4), opened at 09:00 UTC on 26 November 2026.

## Impact

_To fill in_

## Timeline (UTC)

- 2026-11-26 09:00:00 Incident opened by the system
- 2026-11-26 09:42:00 Incident resolved by the incident commander

## Contributing factors

_To fill in_

## Lessons learned

_To fill in_

## Follow-ups

_To fill in_
"""


def context(status: str = "investigating") -> StatusContext:
    return StatusContext(incident=sample_incident(), public_status=status)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


class TestModelDrafterOverACarefulModel(LLMContract):
    """The port's suite, against a model that answers faithfully."""

    @pytest.fixture
    def llm(self, clock: ManualClock) -> LLM:
        return ModelDrafter(CarefulCompletion(), model="m", clock=clock)


async def test_a_faithful_draft_is_returned_as_the_model_wrote_it(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"status_update": "  " + GOOD + "\n"})
    drafter = ModelDrafter(completion, model="big-model", classifier_model="small", clock=clock)
    assert await drafter.draft_status_update(context()) == GOOD
    [(request, model)] = completion.requests
    assert model == "big-model"
    assert request.version == "status_update@1"
    assert "09:12 UTC on 26 November 2026" in request.user  # the drafter's clock


async def test_a_draft_with_an_invented_fact_is_rejected_with_the_problem(
    clock: ManualClock,
) -> None:
    completion = ScriptedCompletion({"status_update": GOOD + " About 40% of orders failed."})
    drafter = ModelDrafter(completion, model="m", clock=clock)
    with pytest.raises(DraftRejected) as rejected:
        await drafter.draft_status_update(context())
    assert rejected.value.problems == ("the number or time '40' is not in the input",)
    assert isinstance(rejected.value, IncidentResponseError)


async def test_a_draft_that_leaks_an_email_is_rejected(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"status_update": GOOD + " Ask alice@example.com."})
    with pytest.raises(DraftRejected, match="personal data"):
        await ModelDrafter(completion, model="m", clock=clock).draft_status_update(context())


async def test_a_faithful_postmortem_is_returned(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"postmortem": CAREFUL_POSTMORTEM})
    text = await ModelDrafter(completion, model="m", clock=clock).draft_postmortem(
        postmortem_context()
    )
    assert text == CAREFUL_POSTMORTEM


async def test_a_postmortem_from_other_facts_is_rejected(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"postmortem": POSTMORTEM})  # another incident's
    with pytest.raises(DraftRejected, match="not in the input"):
        await ModelDrafter(completion, model="m", clock=clock).draft_postmortem(
            postmortem_context()
        )


async def test_classification_uses_the_classifier_model(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"classify": "Yes"})
    drafter = ModelDrafter(completion, model="big", classifier_model="small", clock=clock)
    assert await drafter.is_status_update("Posted to the status page: investigating") is True
    [(request, model)] = completion.requests
    assert (request.task, model) == ("classify", "small")


async def test_an_unclear_classification_is_rejected(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"classify": "Perhaps"})
    with pytest.raises(DraftRejected, match="not yes or no"):
        await ModelDrafter(completion, model="m", clock=clock).is_status_update("hm")


async def test_vendor_errors_pass_through_for_the_fallback_to_handle(clock: ManualClock) -> None:
    completion = ScriptedCompletion({"status_update": VendorError("x", "complete", "down")})
    with pytest.raises(VendorError):
        await ModelDrafter(completion, model="m", clock=clock).draft_status_update(context())


async def test_the_checks_catch_every_fault_of_a_hallucinating_model(clock: ManualClock) -> None:
    drafter = ModelDrafter(HallucinatingCompletion("carol@customer.io"), model="m", clock=clock)
    with pytest.raises(DraftRejected) as rejected:
        await drafter.draft_status_update(context())
    problems = " ".join(rejected.value.problems)
    for fault in ("'37'", "'Dave'", "'Cloudflare'", "carol@customer.io", "personal data"):
        assert fault in problems
