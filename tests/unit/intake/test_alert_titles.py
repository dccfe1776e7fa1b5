"""Alert titles from either source arrive as one clean line: no control, bidirectional or
zero-width characters (which could make a room message or page heading read differently from
what it says), whitespace collapsed; a title that is nothing but those falls back as if absent.
The full text is kept: shortening happens only where a title is shown."""

from __future__ import annotations

from datetime import UTC, datetime

from incident_response.intake import alertmanager, grafana_oncall
from tests.unit.intake.examples import alertmanager_body, encode, oncall_body

RECEIVED = datetime(2026, 11, 26, 9, 0, 5, tzinfo=UTC)
HOSTILE = "\u202eCheckout\u200b\r\n 5xx\x0b\x00 errors\u2066\t(eu-west)\u200f "
CLEAN = "Checkout 5xx errors (eu-west)"
INVISIBLE_ONLY = "\u202e\u200b\u2060\x00\n"
LONG = "Checkout latency " + " ".join(f"pod-{n}" for n in range(80))


def oncall_title(title: str, *, alertname: str = "HighErrorRate") -> str:
    body = oncall_body(title=title, labels={"alertname": alertname, "service": "checkout"})
    body["alert_payload"]["annotations"] = {}
    return grafana_oncall.parse(encode(body), received_at=RECEIVED)[0].title


def alertmanager_title(summary: str) -> str:
    body = alertmanager_body(summary=summary)
    return alertmanager.parse(encode(body), received_at=RECEIVED)[0].title


def test_a_grafana_oncall_title_is_one_clean_line() -> None:
    assert oncall_title(HOSTILE) == CLEAN


def test_an_alertmanager_summary_is_one_clean_line() -> None:
    assert alertmanager_title(HOSTILE) == CLEAN


def test_a_title_of_only_invisible_characters_falls_back_to_the_next_candidate() -> None:
    assert oncall_title(INVISIBLE_ONLY, alertname="High\u200bErrorRate") == "HighErrorRate"
    assert alertmanager_title(INVISIBLE_ONLY) == "HighErrorRate"


def test_a_long_title_is_kept_whole_by_intake() -> None:
    assert oncall_title(LONG) == LONG
    assert alertmanager_title(LONG) == LONG
