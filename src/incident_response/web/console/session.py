"""Console sessions: a signed cookie, a per-session CSRF token, and one-shot flash messages.

A signed-in session's cookie also names a random session id; the session is only good while the
Credentials port holds it (under a hash of the id, so the database holds nothing a browser could
present), which is how signing out, and `incident-response token revoke`, end it on the server
(see ConsoleAuth). A visitor's anonymous session before signing in stays stateless.

Signed with HMAC-SHA256 under a key derived from the API token key (so rotating that key signs
everyone out too), using the standard library rather than itsdangerous: the whole format is a
base64 JSON payload and a MAC, which needs no dependency. The cookie holds no secret beyond the
CSRF token and the session id, which are only useful to the browser that already holds the cookie.

CSRF uses the synchroniser pattern: every form carries the session's token and a POST is only
honoured when it matches. A visitor who is not signed in still gets an anonymous session, so the
sign-in form is protected the same way (no login CSRF).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from incident_response.domain.clock import Clock

SESSION_COOKIE = "ir_session"
FLASH_COOKIE = "ir_flash"
COOKIE_PATH = "/console"
SESSION_TTL = timedelta(hours=12)
# a cookie issued further in the future than this is refused (the same allowance as tokens)
CLOCK_SKEW = timedelta(seconds=60)
FLASH_MAX_BYTES = 2000


@dataclass(frozen=True)
class Session:
    """`email` and `id` are None for a visitor who has not signed in yet."""

    email: str | None
    csrf: str
    issued_at: datetime
    id: str | None = None

    @property
    def signed_in(self) -> bool:
        return self.email is not None


@dataclass(frozen=True)
class Flash:
    """The answer to the last action, shown once on the next page: beside the control it
    answers (`near` names the page's reply place, e.g. `command`), or at the top of the page
    when `near` is empty or the page has no such place."""

    text: str
    ok: bool = True
    near: str = ""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Sessions:
    def __init__(
        self, *, key: bytes, clock: Clock, secure: bool, ttl: timedelta = SESSION_TTL
    ) -> None:
        self._key = hmac.new(key, b"console-session-key", hashlib.sha256).digest()
        self._clock = clock
        self._secure = secure
        self._ttl = ttl

    # -- signing -------------------------------------------------------------------------------

    def _mac(self, purpose: str, payload: str) -> str:
        return hmac.new(self._key, f"{purpose}:{payload}".encode(), hashlib.sha256).hexdigest()

    def _seal(self, purpose: str, doc: dict[str, Any]) -> str:
        payload = _b64(json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode())
        return f"{payload}.{self._mac(purpose, payload)}"

    def _open(self, purpose: str, value: str | None) -> dict[str, Any] | None:
        if not value or "." not in value:
            return None
        payload, _, mac = value.rpartition(".")
        if not hmac.compare_digest(mac, self._mac(purpose, payload)):
            return None
        try:
            doc = json.loads(_unb64(payload))
        except ValueError:
            return None
        return doc if isinstance(doc, dict) else None

    # -- sessions ------------------------------------------------------------------------------

    def new(self, email: str | None) -> Session:
        """A fresh session with a fresh CSRF token (signing in never keeps the old token) and,
        when signed in, a fresh id for the server to keep."""
        return Session(
            email=email,
            csrf=secrets.token_urlsafe(24),
            issued_at=self._clock.now(),
            id=secrets.token_urlsafe(32) if email is not None else None,
        )

    def expires_at(self, session: Session) -> datetime:
        return session.issued_at + self._ttl

    def read(self, request: Request) -> Session | None:
        """The request's session as its cookie says, or None when it is missing, forged, expired
        or issued in the future. A signed-in one still has to be checked with the server."""
        doc = self._open("session", request.cookies.get(SESSION_COOKIE))
        if doc is None:
            return None
        try:
            issued = datetime.fromisoformat(str(doc["t"]))
            email, csrf, session_id = doc["e"], str(doc["c"]), doc.get("s")
        except (KeyError, ValueError):
            return None
        if issued.tzinfo is None or not csrf or (email is not None and not isinstance(email, str)):
            return None
        if (email is None) != (session_id is None) or not isinstance(session_id, str | None):
            return None  # a signed-in cookie without a server-side session (or the reverse)
        now = self._clock.now()
        if now - issued > self._ttl or issued - now > CLOCK_SKEW:
            return None
        return Session(email=email, csrf=csrf, issued_at=issued, id=session_id)

    def write(self, response: Response, session: Session) -> None:
        value = self._seal(
            "session",
            {
                "e": session.email,
                "c": session.csrf,
                "t": session.issued_at.isoformat(),
                "s": session.id,
            },
        )
        self._set(response, SESSION_COOKIE, value, max_age=int(self._ttl.total_seconds()))

    def clear(self, response: Response) -> None:
        response.delete_cookie(SESSION_COOKIE, path=COOKIE_PATH)

    def anonymous(self, session: Session | None) -> Session:
        """The session to keep for a visitor: theirs if any, else a new anonymous one."""
        return session if session is not None else self.new(None)

    @staticmethod
    def key_of(session_id: str) -> str:
        """What the server stores a session under: a hash, so the table holds no usable id."""
        return hashlib.sha256(f"console-session:{session_id}".encode()).hexdigest()

    @staticmethod
    def csrf_ok(session: Session | None, submitted: object) -> bool:
        if session is None or not isinstance(submitted, str) or not submitted:
            return False
        return hmac.compare_digest(session.csrf.encode(), submitted.encode())

    # -- flash ---------------------------------------------------------------------------------

    def flash(self, response: Response, flash: Flash) -> None:
        text = flash.text
        if len(text.encode()) > FLASH_MAX_BYTES:
            text = text.encode()[: FLASH_MAX_BYTES - 3].decode(errors="ignore") + "\u2026"
        sealed = self._seal("flash", {"x": text, "ok": flash.ok, "n": flash.near})
        self._set(response, FLASH_COOKIE, sealed, None)

    def read_flash(self, request: Request) -> Flash | None:
        doc = self._open("flash", request.cookies.get(FLASH_COOKIE))
        if doc is None:
            return None
        return Flash(
            text=str(doc.get("x", "")), ok=bool(doc.get("ok", True)), near=str(doc.get("n", ""))
        )

    def clear_flash(self, request: Request, response: Response) -> None:
        """Forget the flash once a page has shown it."""
        if FLASH_COOKIE in request.cookies:
            response.delete_cookie(FLASH_COOKIE, path=COOKIE_PATH)

    def _set(self, response: Response, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path=COOKIE_PATH,
            httponly=True,
            samesite="lax",
            secure=self._secure,
        )
