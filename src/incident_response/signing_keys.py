"""The two keys every process of one deployment must share: the audit log's (it seals each
chain's MACs) and the API tokens' (it signs personal tokens and console sessions).

Each comes from the first of:
1. its setting, `INCIDENT_RESPONSE_AUDIT_KEY` / `INCIDENT_RESPONSE_API_TOKEN_KEY`;
2. the production secrets backend, when one is configured: Secrets Manager's
   `incident-response/<env>/audit-key` and `.../api-token-key` (`aws bootstrap` creates both);
3. a file in the data dir (`audit-key`, `api-token-key`), written on first use - but only while
   the state lives in the data dir. With DynamoDB selected the replicas share tables, not a data
   dir: a key per replica would break every chain another replica sealed and refuse every token
   another issued, so start-up is refused instead, naming the two places a shared key may come
   from.

A key found in one place is never copied to another. Rotating the token key signs everyone
out (every token and session was signed with the old one); the audit key is not rotated
(docs/audit.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from incident_response.adapters.embedded.secrets import AUDIT_KEY_FILE
from incident_response.config import ConfigurationError, Settings
from incident_response.domain.audit import AuditKey
from incident_response.domain.errors import NotFound
from incident_response.ports import Secrets
from incident_response.tokens import load_or_create_secret

TOKEN_KEY_FILE = "api-token-key"


@dataclass(frozen=True)
class _Key:
    """Where one key may come from."""

    variable: str
    secret_name: str
    file_name: str
    purpose: str


AUDIT = _Key("INCIDENT_RESPONSE_AUDIT_KEY", "audit-key", AUDIT_KEY_FILE, "the audit log's key")
TOKENS = _Key(
    "INCIDENT_RESPONSE_API_TOKEN_KEY", "api-token-key", TOKEN_KEY_FILE, "the API tokens' key"
)


async def audit_key(
    settings: Settings, secrets: Secrets | None, *, create: bool = True
) -> AuditKey | None:
    """The audit log's key; None only when `create` is False and there is none yet."""
    found = await _find(AUDIT, settings, secrets, create=create)
    return AuditKey(found.encode()) if found is not None else None


async def token_key(settings: Settings, secrets: Secrets | None) -> bytes:
    """The key API tokens and console sessions are signed with."""
    found = await _find(TOKENS, settings, secrets, create=True)
    assert found is not None  # create=True: made, or ConfigurationError
    return found.encode()


def shared_state(settings: Settings) -> bool:
    """Whether the state lives outside the data dir, where every replica reads it."""
    return settings.enabled("dynamodb")


def unshared_keys(settings: Settings) -> list[str]:
    """What `config check` can tell without calling AWS: with DynamoDB, each key that has no
    setting while no Secrets Manager is configured either (start-up would be refused)."""
    if not shared_state(settings) or settings.enabled("secrets-manager"):
        return []
    return [
        _unshared(key, secrets=False)
        for key in (AUDIT, TOKENS)
        if not (settings.value_of(key.variable) or "").strip()
    ]


def _unshared(key: _Key, *, secrets: bool) -> str:
    where = f"store it as the secret {key.secret_name!r} or set it" if secrets else "set it"
    return (
        f"{key.purpose} must be the same in every replica: with the DynamoDB backends, "
        f"{where} in {key.variable} (`incident-response aws bootstrap` creates it in "
        "Secrets Manager); a data dir file would differ from one replica to the next"
    )


async def _find(
    key: _Key, settings: Settings, secrets: Secrets | None, *, create: bool
) -> str | None:
    configured = (settings.value_of(key.variable) or "").strip()
    if configured:
        return configured
    if secrets is not None:
        try:
            return (await secrets.get(key.secret_name)).value
        except NotFound:
            pass
    if shared_state(settings):
        if not create:
            return None
        where = (
            "set it" if secrets is None else f"store it as the secret {key.secret_name!r} or set it"
        )
        raise ConfigurationError(
            f"{key.purpose} must be the same in every replica: with the DynamoDB backends, "
            f"{where} in {key.variable} (`incident-response aws bootstrap` creates it in "
            "Secrets Manager); a data dir file would differ from one replica to the next"
        )
    path = settings.data_dir / key.file_name
    if create:
        return load_or_create_secret(path)
    try:
        lines = path.read_text().split()
    except FileNotFoundError:
        return None
    return lines[0] if lines else None
