"""Which Slack failures are outages worth another try: the adapter decides, the core only
reads the neutral `transient` flag."""

from __future__ import annotations

import pytest

from incident_response.adapters.slack.client import SlackCallFailed
from incident_response.domain.errors import NotFound


@pytest.mark.parametrize(
    ("error", "status", "transient"),
    [
        ("internal_error", 500, True),
        ("unknown_error", 503, True),
        ("fatal_error", 200, True),
        ("transport_error: ClientConnectorError", 0, True),
        ("ratelimited", 429, True),
        ("user_not_found", 200, False),
        ("not_in_channel", 200, False),
        ("channel_not_found", 200, False),
        ("invalid_arguments", 200, False),
    ],
)
def test_outages_are_transient_and_refusals_are_not(
    error: str, status: int, transient: bool
) -> None:
    assert SlackCallFailed("chat.postMessage", error, status=status).transient is transient


def test_the_domains_own_errors_are_refusals() -> None:
    assert NotFound("channel C1").transient is False
