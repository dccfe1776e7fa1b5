"""Where the audit key and the API token key come from (signing_keys.py)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from incident_response import signing_keys
from incident_response.adapters.embedded.secrets import EnvSecrets
from incident_response.config import ConfigurationError, Settings
from incident_response.domain.audit import AuditKey

DYNAMODB = {
    "INCIDENTS_TABLE_NAME": "t-incidents",
    "AUDIT_TABLE_NAME": "t-audit",
    "AWS_REGION": "eu-west-1",
}


def settings(data_dir: Path, **values: str) -> Settings:
    return Settings(
        incident_response_data_dir=data_dir, **{k.lower(): v for k, v in values.items()}
    )


async def test_embedded_keys_are_made_once_in_the_data_dir_and_kept(tmp_path: Path) -> None:
    embedded = settings(tmp_path)

    token_key = await signing_keys.token_key(embedded, None)
    audit_key = await signing_keys.audit_key(embedded, None)

    assert token_key == (tmp_path / "api-token-key").read_text().strip().encode()
    assert audit_key == AuditKey((tmp_path / "audit-key").read_text().strip().encode())
    assert token_key != audit_key
    assert await signing_keys.token_key(embedded, None) == token_key  # a restart keeps them
    assert (tmp_path / "api-token-key").stat().st_mode & 0o777 == 0o600


async def test_a_setting_wins_over_the_secrets_and_the_data_dir(tmp_path: Path) -> None:
    configured = settings(
        tmp_path, INCIDENT_RESPONSE_API_TOKEN_KEY="t" * 20, INCIDENT_RESPONSE_AUDIT_KEY="a" * 20
    )
    store = EnvSecrets({"api-token-key": "s" * 20, "audit-key": "s" * 20})

    assert await signing_keys.token_key(configured, store) == b"t" * 20
    assert await signing_keys.audit_key(configured, store) == AuditKey(b"a" * 20)
    assert os.listdir(tmp_path) == []


async def test_the_secrets_backend_is_read_before_the_data_dir(tmp_path: Path) -> None:
    store = EnvSecrets({"api-token-key": "from-the-secret-store"})

    assert await signing_keys.token_key(settings(tmp_path), store) == b"from-the-secret-store"
    assert not (tmp_path / "api-token-key").exists()


async def test_with_dynamodb_no_key_is_made_in_a_data_dir(tmp_path: Path) -> None:
    shared = settings(tmp_path, **DYNAMODB)

    with pytest.raises(ConfigurationError, match="INCIDENT_RESPONSE_API_TOKEN_KEY"):
        await signing_keys.token_key(shared, None)
    with pytest.raises(ConfigurationError, match="store it as the secret 'audit-key'"):
        await signing_keys.audit_key(shared, EnvSecrets({}))
    assert await signing_keys.audit_key(shared, None, create=False) is None
    assert os.listdir(tmp_path) == []


async def test_looking_for_the_audit_key_without_creating_it_writes_nothing(
    tmp_path: Path,
) -> None:
    embedded = settings(tmp_path)

    assert await signing_keys.audit_key(embedded, None, create=False) is None
    made = await signing_keys.audit_key(embedded, None)
    assert await signing_keys.audit_key(embedded, None, create=False) == made


def test_a_short_token_key_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="at least 16 characters"):
        settings(tmp_path, INCIDENT_RESPONSE_API_TOKEN_KEY="short")
