"""The `incident-response` command as an operator uses it (typer's runner, real data dir)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_response import __version__, tokens
from incident_response.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    return {"INCIDENT_RESPONSE_DATA_DIR": str(tmp_path / "data")}


def test_version() -> None:
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout.strip() == f"incident-response {__version__}"


def test_token_prints_only_a_token_valid_for_that_person(
    env: dict[str, str], tmp_path: Path
) -> None:
    result = runner.invoke(app, ["token", "alice@example.com"], env=env)
    assert result.exit_code == 0, result.output
    token = result.stdout.strip()
    assert "\n" not in token
    key = (tmp_path / "data" / "api-token-key").read_text().strip().encode()
    assert tokens.verify(token, key) == "alice@example.com"
    assert (tmp_path / "data" / "roster.yaml").exists()  # the sample roster, written on first use


def test_token_for_someone_not_in_the_roster_fails_clearly(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["token", "mallory@example.com"], env=env)
    assert result.exit_code == 1
    assert "not in the roster" in result.output
    assert result.stdout.strip() == "" or "ir_" not in result.stdout


def test_audit_verify_on_a_fresh_data_dir_passes(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["audit", "verify"], env=env)
    assert result.exit_code == 0
    assert "intact" in result.stdout


def test_config_check_shows_every_port(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["config", "check"], env={**env, "COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for port in ("IncidentStore", "AuditLog", "EventQueue", "Chat", "StatusPage", "LLM", "Secrets"):
        assert port in result.stdout


def test_half_configured_settings_stop_every_command_with_the_missing_variable(
    env: dict[str, str],
) -> None:
    result = runner.invoke(app, ["config", "check"], env={**env, "STATUSPAGE_API_KEY": "k"})
    assert result.exit_code == 2
    assert "STATUSPAGE_PAGE_ID" in result.output


def test_serve_refuses_an_unknown_role(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["serve", "--role", "everything"], env=env)
    assert result.exit_code == 2
    assert "--role" in result.output
