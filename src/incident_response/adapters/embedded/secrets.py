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

from incident_response.domain.audit import AuditKey
from incident_response.domain.errors import NotFound
from incident_response.ports import SecretValue
from incident_response.tokens import load_or_create_secret

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


def load_audit_key(data_dir: Path, configured: str | None) -> AuditKey:
    """The audit log's key: `configured` (INCIDENT_RESPONSE_AUDIT_KEY) when set, else the data
    dir's `audit-key` file, written (0600) on first use. `serve` and `audit verify` run in
    separate processes and find the same key this way. The file is a one-machine convenience: it
    sits next to the database, so whoever can edit the database can read it; for real protection
    set the variable from outside the data dir (environment, Secrets Manager)."""
    found = find_audit_key(data_dir, configured)
    return found or AuditKey(load_or_create_secret(data_dir / AUDIT_KEY_FILE).encode())


def find_audit_key(data_dir: Path, configured: str | None) -> AuditKey | None:
    """The key `load_audit_key` would use, or None when there is none yet; writes nothing."""
    if configured and configured.strip():
        return AuditKey(configured.strip().encode())
    lines = _read_lines(data_dir / AUDIT_KEY_FILE)
    return AuditKey(lines[0].encode()) if lines else None


def _read_lines(path: Path) -> list[str]:
    try:
        text = path.read_text()
    except FileNotFoundError:
        return []
    return [line.strip() for line in text.splitlines() if line.strip()]


def _version(value: str, previous: str | None) -> str:
    """A version that changes with the values and reveals nothing about them."""
    return hashlib.sha256(f"{value}\0{previous or ''}".encode()).hexdigest()[:12]
