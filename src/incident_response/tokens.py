"""Personal API tokens: stateless, signed with a key kept in the data dir (or the environment).

A token is `ir_<base64url(email)>.<hmac>`: `incident-response token EMAIL` can issue one from any
process that sees the same key, and `serve` can check it without a token table. Revoking every
token means rotating the key; a person removed from the roster loses access at once because the
API also requires the person to exist.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

PREFIX = "ir_"


def issue(email: str, key: bytes) -> str:
    normalised = email.strip().lower()
    encoded = base64.urlsafe_b64encode(normalised.encode()).decode().rstrip("=")
    return f"{PREFIX}{encoded}.{_signature(normalised, key)}"


def verify(token: str, key: bytes) -> str | None:
    """The e-mail a token was issued for, or None for anything forged or malformed."""
    if not token.startswith(PREFIX) or "." not in token:
        return None
    encoded, _, signature = token[len(PREFIX) :].partition(".")
    try:
        email = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
    except (ValueError, UnicodeDecodeError):
        return None
    if not hmac.compare_digest(signature, _signature(email, key)):
        return None
    return email


def _signature(email: str, key: bytes) -> str:
    return hmac.new(key, f"api-token:{email}".encode(), hashlib.sha256).hexdigest()[:40]


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
