"""Console sessions: signed cookies that cannot be forged, expire, and carry the CSRF token."""

from __future__ import annotations

from datetime import timedelta

from starlette.requests import Request
from starlette.responses import Response

from incident_response.web.console.session import (
    FLASH_COOKIE,
    SESSION_COOKIE,
    Flash,
    Sessions,
)
from tests.support.clock import ManualClock

KEY = b"k" * 32


def request_with(cookies: dict[str, str]) -> Request:
    header = "; ".join(f"{k}={v}" for k, v in cookies.items())
    return Request({"type": "http", "headers": [(b"cookie", header.encode())]})


def cookies_of(response: Response) -> dict[str, str]:
    found = {}
    for name, value in response.raw_headers:
        if name == b"set-cookie":
            pair = value.decode().split(";")[0]
            key, _, raw = pair.partition("=")
            found[key] = raw.strip('"')
    return found


def issued(sessions: Sessions, email: str | None) -> dict[str, str]:
    response = Response()
    sessions.write(response, sessions.new(email))
    return cookies_of(response)


def test_a_written_session_reads_back() -> None:
    sessions = Sessions(key=KEY, clock=ManualClock(), secure=False)
    session = sessions.read(request_with(issued(sessions, "alice@example.com")))
    assert session is not None
    assert session.email == "alice@example.com"
    assert session.signed_in


def test_the_cookie_is_http_only_lax_and_secure_only_over_https() -> None:
    for secure in (False, True):
        response = Response()
        sessions = Sessions(key=KEY, clock=ManualClock(), secure=secure)
        sessions.write(response, sessions.new("alice@example.com"))
        header = response.headers["set-cookie"].lower()
        assert "httponly" in header
        assert "samesite=lax" in header
        assert ("secure" in header.replace("samesite", "")) is secure


def test_a_changed_cookie_is_refused() -> None:
    sessions = Sessions(key=KEY, clock=ManualClock(), secure=False)
    value = issued(sessions, "alice@example.com")[SESSION_COOKIE]
    payload, _, mac = value.rpartition(".")
    other = issued(sessions, "mallory@example.com")[SESSION_COOKIE].rpartition(".")[0]
    for tampered in (payload[:-2] + "AA." + mac, f"{other}.{mac}", "garbage", ""):
        assert sessions.read(request_with({SESSION_COOKIE: tampered})) is None


def test_another_key_cannot_read_the_session() -> None:
    mine = Sessions(key=KEY, clock=ManualClock(), secure=False)
    theirs = Sessions(key=b"z" * 32, clock=ManualClock(), secure=False)
    assert theirs.read(request_with(issued(mine, "alice@example.com"))) is None


def test_sessions_expire() -> None:
    clock = ManualClock()
    sessions = Sessions(key=KEY, clock=clock, secure=False, ttl=timedelta(hours=1))
    cookies = issued(sessions, "alice@example.com")
    clock.advance(minutes=59)
    assert sessions.read(request_with(cookies)) is not None
    clock.advance(minutes=2)
    assert sessions.read(request_with(cookies)) is None


def test_a_session_issued_in_the_future_is_refused_beyond_a_minute() -> None:
    issuer, reader = ManualClock(), ManualClock()
    cookies = issued(Sessions(key=KEY, clock=issuer, secure=False), "alice@example.com")
    sessions = Sessions(key=KEY, clock=reader, secure=False)
    reader.advance(seconds=-60)
    assert sessions.read(request_with(cookies)) is not None
    reader.advance(seconds=-1)
    assert sessions.read(request_with(cookies)) is None


def test_a_signed_in_session_has_an_id_and_an_anonymous_one_has_none() -> None:
    sessions = Sessions(key=KEY, clock=ManualClock(), secure=False)
    signed_in = sessions.read(request_with(issued(sessions, "alice@example.com")))
    anonymous = sessions.read(request_with(issued(sessions, None)))
    assert signed_in is not None
    assert signed_in.id
    assert anonymous is not None
    assert anonymous.id is None
    assert sessions.key_of(signed_in.id) != signed_in.id
    assert sessions.new("alice@example.com").id != sessions.new("alice@example.com").id


def test_csrf_must_match_the_session() -> None:
    sessions = Sessions(key=KEY, clock=ManualClock(), secure=False)
    session = sessions.new("alice@example.com")
    assert sessions.csrf_ok(session, session.csrf)
    assert not sessions.csrf_ok(session, sessions.new("alice@example.com").csrf)
    assert not sessions.csrf_ok(session, "")
    assert not sessions.csrf_ok(session, None)
    assert not sessions.csrf_ok(None, session.csrf)


def test_a_flash_is_shown_once_and_long_ones_are_cut() -> None:
    sessions = Sessions(key=KEY, clock=ManualClock(), secure=False)
    response = Response()
    sessions.flash(response, Flash("é" * 5000, ok=False))
    cookies = cookies_of(response)
    assert len(cookies[FLASH_COOKIE]) < 4000
    flash = sessions.read_flash(request_with(cookies))
    assert flash is not None
    assert not flash.ok
    assert flash.text.endswith("\u2026")
    shown = Response()
    sessions.clear_flash(request_with(cookies), shown)
    assert (
        'ir_flash=""' in shown.headers["set-cookie"] or "Max-Age=0" in shown.headers["set-cookie"]
    )
