"""Secrets from the environment, and the embedded default's webhook secret file in the data dir.

A secret named `NAME` is the variable `NAME`; during a rotation `NAME_PREVIOUS` holds the old
value, still accepted until it is removed. The embedded default may keep the webhook secret in
`<data dir>/webhook-secret` instead (first line current, optional second line previous), written
with mode 0600 the first time `serve` runs without one, so a one-machine install works without
setting anything. The data dir is the operator's, never part of the image or the repository.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
from collections.abc import Mapping
from pathlib import Path

from incident_response.domain.errors import NotFound
from incident_response.ports import SecretValue

WEBHOOK_SECRET = "INCIDENT_RESPONSE_WEBHOOK_SECRET"
WEBHOOK_SECRET_FILE = "webhook-secret"
AUDIT_KEY_FILE = "audit-key"
PREVIOUS_SUFFIX = "_PREVIOUS"


class EnvSecrets:
    def __init__(self, environ: Mapping[str, str], *, data_dir: Path | None = None) -> None:
        self._environ = environ
        self._files: dict[str, Path] = {}
        if data_dir is not None:
            self._files[WEBHOOK_SECRET] = data_dir / WEBHOOK_SECRET_FILE

    async def get(self, name: str, *, refresh: bool = False) -> SecretValue:
        """The secret's value; the environment wins over a file. Nothing is cached, so `refresh`
        needs no special handling: every call reads the current value."""
        value = (self._environ.get(name) or "").strip()
        previous = (self._environ.get(name + PREVIOUS_SUFFIX) or "").strip() or None
        if not value and name in self._files:
            lines = await asyncio.to_thread(_read_lines, self._files[name])
            value = lines[0] if lines else ""
            previous = previous or (lines[1] if len(lines) > 1 else None)
        if not value:
            raise NotFound(f"secret {name} is not configured")
        return SecretValue(value=value, version=_version(value, previous), previous=previous)


def ensure_webhook_secret(data_dir: Path) -> Path:
    """Create `<data_dir>/webhook-secret` with a random secret unless it exists; return its path."""
    path = data_dir / WEBHOOK_SECRET_FILE
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    with os.fdopen(fd, "w") as handle:
        handle.write(secrets.token_urlsafe(32) + "\n")
    return path


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _version(value: str, previous: str | None) -> str:
    """A version that changes with the values and reveals nothing about them."""
    return hashlib.sha256(f"{value}\0{previous or ''}".encode()).hexdigest()[:12]
