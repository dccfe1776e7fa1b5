"""Personal API tokens: valid only for the person, key and generation they were issued with, within
their lifetime, and never before they were issued."""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response import tokens
from incident_response.tokens import TokenProblem, TokenRefused

KEY = b"k" * 32
NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)


def problem(token: str, key: bytes = KEY) -> TokenProblem:
    with pytest.raises(TokenRefused) as refused:
        tokens.read(token, key)
    return refused.value.problem


@given(st.emails())
def test_a_token_names_its_person(email: str) -> None:
    assert tokens.read(tokens.issue(email, KEY), KEY).email == email.strip().lower()


def test_a_token_carries_its_generation_issue_time_and_expiry() -> None:
    token = tokens.issue(
        "alice@example.com", KEY, generation=3, issued_at=NOW, lifetime=timedelta(hours=12)
    )
    assert tokens.read(token, KEY) == tokens.Claims(
        email="alice@example.com",
        generation=3,
        issued_at=NOW,
        expires_at=NOW + timedelta(hours=12),
    )
    assert tokens.read(tokens.issue("a@b.c", KEY, issued_at=NOW), KEY).expires_at is None


def test_forged_tampered_or_foreign_tokens_are_refused() -> None:
    token = tokens.issue("alice@example.com", KEY)
    other = tokens.issue("bob@example.com", KEY)
    assert problem(token, b"x" * 32) is TokenProblem.INVALID
    assert problem(token[:-1] + ("A" if token[-1] != "A" else "B")) is TokenProblem.INVALID
    body_of_bob = other.split(".")[0]
    assert problem(body_of_bob + "." + token.split(".")[1]) is TokenProblem.INVALID
    for junk in ("", "ir_", "ir_.", "Bearer x", "ir_!!!.abc", "ir_YWxpY2U"):
        assert problem(junk) is TokenProblem.INVALID


def test_a_token_of_the_first_format_is_refused_as_outdated() -> None:
    email = "alice@example.com"
    encoded = base64.urlsafe_b64encode(email.encode()).decode().rstrip("=")
    mac = hmac.new(KEY, f"api-token:{email}".encode(), hashlib.sha256).hexdigest()[:40]

    assert problem(f"ir_{encoded}.{mac}") is TokenProblem.OUTDATED
    assert problem(f"ir_{encoded}.{'0' * 40}") is TokenProblem.INVALID
    assert "incident-response token EMAIL" in str(TokenRefused(TokenProblem.OUTDATED))


def test_a_token_is_good_only_at_its_generation_and_within_its_lifetime() -> None:
    claims = tokens.read(
        tokens.issue("a@b.c", KEY, generation=2, issued_at=NOW, lifetime=timedelta(minutes=30)),
        KEY,
    )
    assert tokens.problem_at(claims, now=NOW, generation=2) is None
    assert tokens.problem_at(claims, now=NOW, generation=3) is TokenProblem.REVOKED
    later = NOW + timedelta(minutes=29, seconds=59)
    assert tokens.problem_at(claims, now=later, generation=2) is None
    expired = NOW + timedelta(minutes=30)
    assert tokens.problem_at(claims, now=expired, generation=2) is TokenProblem.EXPIRED


def test_a_token_issued_in_the_future_is_refused_beyond_the_clock_skew() -> None:
    claims = tokens.read(tokens.issue("a@b.c", KEY, issued_at=NOW), KEY)
    assert tokens.problem_at(claims, now=NOW - tokens.CLOCK_SKEW, generation=0) is None
    too_early = NOW - tokens.CLOCK_SKEW - timedelta(seconds=1)
    assert tokens.problem_at(claims, now=too_early, generation=0) is TokenProblem.FUTURE


@pytest.mark.parametrize(
    ("text", "lifetime"),
    [
        ("30m", timedelta(minutes=30)),
        ("12h", timedelta(hours=12)),
        ("7d", timedelta(days=7)),
        (" 90S ", timedelta(seconds=90)),
        ("366d", timedelta(days=366)),
    ],
)
def test_lifetimes_are_read_from_a_number_and_a_unit(text: str, lifetime: timedelta) -> None:
    assert tokens.parse_lifetime(text) == lifetime


@pytest.mark.parametrize("text", ["", "12", "h", "0h", "-1h", "1.5h", "2w", "367d", "12 hours"])
def test_a_bad_lifetime_says_what_would_do(text: str) -> None:
    with pytest.raises(ValueError, match="30m, 12h or 7d"):
        tokens.parse_lifetime(text)


def test_the_signing_key_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "api-token-key"
    first = tokens.load_or_create_key(path)
    assert tokens.load_or_create_key(path) == first
    assert path.stat().st_mode & 0o077 == 0
