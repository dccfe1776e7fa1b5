"""Personal API tokens: valid only for the person and key they were issued with."""

from __future__ import annotations

from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from incident_response import tokens

KEY = b"k" * 32


@given(st.emails())
def test_a_token_names_its_person(email: str) -> None:
    assert tokens.verify(tokens.issue(email, KEY), KEY) == email.strip().lower()


def test_forged_tampered_or_foreign_tokens_are_refused() -> None:
    token = tokens.issue("alice@example.com", KEY)
    other = tokens.issue("bob@example.com", KEY)
    assert tokens.verify(token, b"x" * 32) is None
    assert tokens.verify(token[:-1] + ("0" if token[-1] != "0" else "1"), KEY) is None
    body_of_bob = other.split(".")[0]
    assert tokens.verify(body_of_bob + "." + token.split(".")[1], KEY) is None
    for junk in ("", "ir_", "ir_.", "Bearer x", "ir_!!!.abc", "ir_YWxpY2U"):
        assert tokens.verify(junk, KEY) is None


def test_the_signing_key_is_created_once_and_private(tmp_path: Path) -> None:
    path = tmp_path / "api-token-key"
    first = tokens.load_or_create_key(path)
    assert tokens.load_or_create_key(path) == first
    assert path.stat().st_mode & 0o077 == 0
