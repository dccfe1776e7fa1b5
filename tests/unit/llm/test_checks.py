"""Draft checks: nothing invented, nothing personal, the right shape."""

from __future__ import annotations

from datetime import timedelta

from incident_response.adapters.llm.checks import (
    STATUS_MAX_CHARS,
    invented,
    postmortem_problems,
    status_update_problems,
)
from incident_response.adapters.llm.prompting import status_update_request
from incident_response.ports import StatusContext
from tests.contract.incident_samples import STARTED, sample_incident

FACTS = status_update_request(
    StatusContext(incident=sample_incident(), public_status="investigating"),
    now=STARTED + timedelta(minutes=12),
).user
GOOD = (
    "Checkout: as of 09:12 UTC, we are investigating a major outage that began at 09:00 UTC. "
    "Customers may be unable to use Checkout. We will post another update by 09:42 UTC."
)

POSTMORTEM_FACTS = """Incident: inc-1
Severity: P2
Service: checkout-api
Opened: 09:00 UTC on 26 November 2026
Resolved: 09:42 UTC on 26 November 2026
Duration: 42 min
Timeline:
- 2026-11-26 09:05:00 Timeline note added by responder 2: error rate 12.5% on [host]
"""
POSTMORTEM = """# Postmortem: Checkout API errors

## Summary

A P2 incident on checkout-api, opened at 09:00 UTC on 26 November 2026 and resolved at 09:42 UTC
(42 min).

## Impact

Some customers saw errors; the error rate reached 12.5%.

## Timeline (UTC)

- 09:00 Incident opened
- 09:05 A responder noted an error rate of 12.5% on [host]
- 09:42 Incident resolved

## Contributing factors

_To fill in_

## Lessons learned

_To fill in_

## Follow-ups

_To fill in_
"""


def test_a_faithful_status_update_passes() -> None:
    assert status_update_problems(GOOD, FACTS) == []


def test_an_invented_number_is_caught() -> None:
    problems = status_update_problems(GOOD + " About 40% of payments failed.", FACTS)
    assert problems == ["the number or time '40' is not in the input"]


def test_an_invented_time_is_caught_even_when_its_parts_are_known() -> None:
    # 09 and 42 both appear in the input, but "09:26" does not
    problems = status_update_problems(GOOD.replace("09:42", "09:26"), FACTS)
    assert "the number or time '9:26' is not in the input" in problems


def test_a_time_written_with_or_without_seconds_or_a_leading_zero_matches() -> None:
    assert invented("It began at 9:05.", "opened 2026-11-26 09:05:00") == []


def test_an_invented_name_is_caught_but_sentence_openings_are_not() -> None:
    problems = status_update_problems(
        GOOD + " Engineers from Cloudflare are helping, says Alice.", FACTS
    )
    assert "the name 'Cloudflare' is not in the input" in problems
    assert "the name 'Alice' is not in the input" in problems
    assert not any("Engineers" in p for p in problems)


def test_a_name_from_the_input_may_be_capitalised() -> None:
    # the input says checkout-api; the draft may say Checkout API
    assert invented("Checkout API errors fell.", "service checkout-api") == []


def test_an_email_or_url_not_in_the_input_is_caught() -> None:
    problems = invented("Write to help@acme.io or see https://acme.io/x", "nothing")
    assert "the e-mail address 'help@acme.io' is not in the input" in problems
    assert "the URL 'https://acme.io/x' is not in the input" in problems


def test_a_url_from_the_input_may_be_repeated() -> None:
    assert (
        invented("See https://status.acme.io/incidents/1.", "https://status.acme.io/incidents/1")
        == []
    )


def test_personal_data_in_a_draft_is_caught() -> None:
    problems = status_update_problems(GOOD + " Contact ops@acme.io.", FACTS + " ops@acme.io")
    assert any("personal data (email)" in p for p in problems)


def test_placeholders_never_reach_customers() -> None:
    problems = status_update_problems("Checkout: errors on [host] at 09:12 UTC.", FACTS)
    assert "the status update shows placeholders to customers: [host]" in problems


def test_status_update_shape() -> None:
    assert status_update_problems("  ", FACTS) == ["the status update is empty"]
    assert "the status update has a Markdown heading" in status_update_problems(
        "# Checkout\n" + GOOD, FACTS
    )
    assert any(
        "Markdown formatting" in p for p in status_update_problems("**Checkout** down", FACTS)
    )
    long = " ".join([GOOD] * 4)
    assert f"at most {STATUS_MAX_CHARS}" in status_update_problems(long, FACTS)[0]


def test_a_faithful_postmortem_passes() -> None:
    assert postmortem_problems(POSTMORTEM, POSTMORTEM_FACTS) == []


def test_a_postmortem_without_its_sections_is_caught() -> None:
    text = POSTMORTEM.replace("## Contributing factors", "## Cause").replace(
        "## Follow-ups", "## Todo"
    )
    problems = postmortem_problems(text, POSTMORTEM_FACTS)
    assert "the postmortem lacks the sections: Contributing factors, Follow-ups" in problems


def test_a_postmortem_that_blames_someone_by_name_is_caught() -> None:
    text = POSTMORTEM.replace(
        "_To fill in_\n\n## Lessons", "Dave Smith deployed a bad config.\n\n## Lessons", 1
    )
    problems = postmortem_problems(text, POSTMORTEM_FACTS)
    assert "the name 'Dave' is not in the input" in problems
    assert "the name 'Smith' is not in the input" in problems


def test_a_too_short_postmortem_is_caught() -> None:
    assert any("at least" in p for p in postmortem_problems("## Summary\nok", POSTMORTEM_FACTS))


def test_another_service_named_in_the_draft_is_caught() -> None:
    problems = status_update_problems(GOOD + " Search is also affected.", FACTS)
    assert "the name 'Search' is not in the input" in problems


def test_a_possessive_of_a_known_name_is_known() -> None:
    assert invented("Checkout's error rate fell.", "service checkout-api") == []
    assert 'the name "Stripe\'s" is not in the input' in invented(
        "Then Stripe's API failed.", "service checkout-api"
    )


def test_common_sentence_openings_are_not_names() -> None:
    text = "Unfortunately, checkout errors continue. Meanwhile, engineers are investigating."
    assert invented(text, "service checkout-api") == []
