"""Personal API tokens: signed with a key kept in the data dir (or the environment), and checked
against the person's token generation in the shared database.

A token is `ir_<base64url(JSON claims)>.<MAC>`; the claims are the e-mail, the person's token
generation when it was issued, when it was issued and (with `--ttl`) when it expires. Any process
that sees the key and the database can issue one (`incident-response token EMAIL`) and `serve`
accepts it without a token table: rotating or revoking moves the person's generation on
(Credentials port), which ends every token issued before. A token issued more than `CLOCK_SKEW`
in the future is refused, so a skewed clock cannot mint tokens that outlive a revocation window;
60 seconds absorbs the drift between the machine running the CLI and the server.

Tokens of the first format (`ir_<base64url(email)>.<MAC>`, issued before generations) carry no
generation, so they could never be revoked: they are refused with a message saying so.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import os
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path

from incident_response.domain.clock import Clock
from incident_response.domain.errors import IncidentResponseError
from incident_response.ports import Credentials

PREFIX = "ir_"
CLOCK_SKEW = timedelta(seconds=60)
MAX_LIFETIME = timedelta(days=366)
_LIFETIME = re.compile(r"\s*(\d{1,6})\s*([smhd])\s*", re.IGNORECASE)
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class TokenProblem(StrEnum):
    INVALID = "invalid"
    OUTDATED = "outdated"
    REVOKED = "revoked"
    EXPIRED = "expired"
    FUTURE = "future"


_NEW_ONE = "run `incident-response token EMAIL` for a new one"
MESSAGES: dict[TokenProblem, str] = {
    TokenProblem.INVALID: "a valid personal token is required: run `incident-response token EMAIL`",
    TokenProblem.OUTDATED: f"token of an older format, no longer accepted: {_NEW_ONE}",
    TokenProblem.REVOKED: f"token revoked: {_NEW_ONE}",
    TokenProblem.EXPIRED: f"token expired: {_NEW_ONE}",
    TokenProblem.FUTURE: "token issued in the future: check the clock of the machine that issued "
    f"it and of this server, then {_NEW_ONE}",
}


class TokenRefused(IncidentResponseError):
    """A token that does not let anyone in; the message says why and what to do."""

    def __init__(self, problem: TokenProblem) -> None:
        super().__init__(MESSAGES[problem])
        self.problem = problem


@dataclass(frozen=True)
class Claims:
    email: str
    generation: int
    issued_at: datetime
    expires_at: datetime | None = None


def issue(
    email: str,
    key: bytes,
    *,
    generation: int = 0,
    issued_at: datetime | None = None,
    lifetime: timedelta | None = None,
) -> str:
    """A token for `email` at `generation`; `issued_at` defaults to the system clock."""
    if lifetime is not None and not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise ValueError(f"a token lifetime must be more than 0 and at most {MAX_LIFETIME.days}d")
    issued = issued_at or datetime.now(UTC)
    claims = {
        "e": email.strip().lower(),
        "g": generation,
        "t": int(issued.timestamp()),
        "x": int((issued + lifetime).timestamp()) if lifetime is not None else None,
    }
    payload = _b64(json.dumps(claims, separators=(",", ":")).encode())
    return f"{PREFIX}{payload}.{_mac(payload, key)}"


def read(token: str, key: bytes) -> Claims:
    """The claims of a token signed with `key` (TokenRefused for anything forged or malformed).
    Says nothing about whether the token is still valid: see `TokenVerifier`."""
    token = token.strip()
    if not token.startswith(PREFIX) or "." not in token:
        raise TokenRefused(TokenProblem.INVALID)
    payload, _, signature = token[len(PREFIX) :].partition(".")
    try:
        decoded = _unb64(payload)
    except (ValueError, binascii.Error):
        raise TokenRefused(TokenProblem.INVALID) from None
    if not hmac.compare_digest(signature.encode(), _mac(payload, key).encode()):
        if _first_format(decoded, signature, key):
            raise TokenRefused(TokenProblem.OUTDATED)
        raise TokenRefused(TokenProblem.INVALID)
    try:
        doc = json.loads(decoded)
        expires = doc["x"]
        return Claims(
            email=str(doc["e"]),
            generation=int(doc["g"]),
            issued_at=datetime.fromtimestamp(int(doc["t"]), UTC),
            expires_at=datetime.fromtimestamp(int(expires), UTC) if expires is not None else None,
        )
    except (ValueError, TypeError, KeyError, OverflowError, OSError):
        raise TokenRefused(TokenProblem.INVALID) from None


def problem_at(claims: Claims, *, now: datetime, generation: int) -> TokenProblem | None:
    """What is wrong with a genuine token now, given the person's current token generation."""
    if claims.issued_at > now + CLOCK_SKEW:
        return TokenProblem.FUTURE
    if claims.expires_at is not None and now >= claims.expires_at:
        return TokenProblem.EXPIRED
    if claims.generation != generation:
        return TokenProblem.REVOKED
    return None


class TokenVerifier:
    """Checks a presented token: its MAC, its issue and expiry times, the person's generation."""

    def __init__(self, *, key: bytes, credentials: Credentials, clock: Clock) -> None:
        self._key = key
        self._credentials = credentials
        self._clock = clock

    async def email(self, token: str) -> str:
        """The e-mail the token was issued for, or TokenRefused saying why not."""
        claims = read(token, self._key)
        current = await self._credentials.generations(claims.email)
        problem = problem_at(claims, now=self._clock.now(), generation=current.tokens)
        if problem is not None:
            raise TokenRefused(problem)
        return claims.email


def parse_lifetime(text: str) -> timedelta:
    """`30m`, `12h`, `7d` (or `90s`) as a timedelta; ValueError with a usable message otherwise."""
    match = _LIFETIME.fullmatch(text)
    lifetime = timedelta(**{_UNITS[match.group(2).lower()]: int(match.group(1))}) if match else None
    if lifetime is None or not timedelta(0) < lifetime <= MAX_LIFETIME:
        raise ValueError(
            f"--ttl must be a whole number of minutes, hours or days such as 30m, 12h or 7d "
            f"(at most {MAX_LIFETIME.days}d), not {text!r}"
        )
    return lifetime


def _mac(payload: str, key: bytes) -> str:
    return _b64(hmac.new(key, f"api-token:v2:{payload}".encode(), hashlib.sha256).digest())


def _first_format(decoded: bytes, signature: str, key: bytes) -> bool:
    """True for a genuine token of the first, generation-less format."""
    try:
        email = decoded.decode()
    except UnicodeDecodeError:
        return False
    expected = hmac.new(key, f"api-token:{email}".encode(), hashlib.sha256).hexdigest()[:40]
    return hmac.compare_digest(signature.encode(), expected.encode())


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_or_create_key(path: Path) -> bytes:
    """The signing key from `path`, created (0600) on first use."""
    return load_or_create_secret(path).encode()


def load_or_create_secret(path: Path, *, nbytes: int = 32) -> str:
    """A random secret kept in a file of the data dir, written atomically on first use."""
    if path.exists():
        value = path.read_text().strip()
        if value:
            return value
    path.parent.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(nbytes)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    try:
        # another process may have won the race: keep theirs
        os.link(tmp, path)
    except FileExistsError:
        value = path.read_text().strip()
    finally:
        tmp.unlink(missing_ok=True)
    return value
