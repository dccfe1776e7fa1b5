"""The `incident-response` command as an operator uses it (typer's runner, real data dir)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import Result
from typer.testing import CliRunner

from incident_response import __version__, signing_keys, tokens
from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.credentials import SqliteCredentials
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.cli import app
from incident_response.config import Settings
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.clock import SystemClock
from incident_response.tokens import TokenProblem, TokenRefused, TokenVerifier
from tests.contract.incident_samples import sample_incident
from tests.support.clock import ManualClock

T = AuditEventType

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
    claims = tokens.read(token, key)
    assert (claims.email, claims.generation, claims.expires_at) == ("alice@example.com", 0, None)
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


def test_config_check_names_the_keys_replicas_on_dynamodb_would_not_share(
    env: dict[str, str],
) -> None:
    dynamodb = {
        "INCIDENTS_TABLE_NAME": "t-incidents",
        "AUDIT_TABLE_NAME": "t-audit",
        "AWS_REGION": "eu-west-1",
        "INCIDENT_RESPONSE_AUDIT_KEY": "a" * 32,
    }

    result = runner.invoke(app, ["config", "check"], env={**env, **dynamodb, "COLUMNS": "200"})

    assert result.exit_code != 0
    assert "INCIDENT_RESPONSE_API_TOKEN_KEY" in result.output
    assert "the audit log's key" not in result.output
    keyed = {**env, **dynamodb, "INCIDENT_RESPONSE_API_TOKEN_KEY": "t" * 32, "COLUMNS": "200"}
    assert (
        "must be the same in every replica"
        not in runner.invoke(app, ["config", "check"], env=keyed).output
    )


def test_serve_refuses_an_unknown_role(env: dict[str, str]) -> None:
    result = runner.invoke(app, ["serve", "--role", "everything"], env=env)
    assert result.exit_code == 2
    assert "--role" in result.output


def test_serve_takes_its_role_from_the_environment_as_the_container_image_sets_it(
    env: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    served: list[str] = []

    async def run(settings: Settings, *, host: str, port: int, role: str) -> None:
        served.append(role)

    monkeypatch.setattr("incident_response.server.run", run)
    assert (
        runner.invoke(app, ["serve"], env={**env, "INCIDENT_RESPONSE_ROLE": "processor"}).exit_code
        == 0
    )
    later_argument = runner.invoke(
        app, ["serve", "--role", "webhook"], env={**env, "INCIDENT_RESPONSE_ROLE": "processor"}
    )
    assert later_argument.exit_code == 0
    assert served == ["processor", "webhook"]
    refused = runner.invoke(app, ["serve"], env={**env, "INCIDENT_RESPONSE_ROLE": "everything"})
    assert refused.exit_code == 2
    assert "not 'everything'" in refused.output
    assert Settings().warnings({"INCIDENT_RESPONSE_ROLE": "processor"}) == []


def seed_data_dir(data_dir: Path, *, configured_key: str | None = None) -> None:
    """What `serve` leaves behind: two incidents, each with its keyed audit chain."""

    async def seed() -> None:
        db = await Database(data_dir / "incident-response.sqlite3").open()
        try:
            clock = ManualClock()
            store = await SqliteIncidentStore(db=db, clock=clock).open()
            settings = Settings(
                incident_response_data_dir=data_dir,
                incident_response_audit_key=configured_key,
            )
            key = await signing_keys.audit_key(settings, None)
            assert key is not None
            audit = await SqliteAuditLog(db=db, clock=clock, key=key).open()
            for incident_id in ("inc-1", "inc-2"):
                await store.create(sample_incident(id=incident_id))
                for n, type_ in enumerate((T.INCIDENT_OPENED, T.WAR_ROOM_CREATED, T.IC_ASSIGNED)):
                    await audit.append(
                        AuditEvent(incident_id=incident_id, type=type_, key=f"k{n}", at=clock.now())
                    )
        finally:
            await db.close()

    data_dir.mkdir(parents=True, exist_ok=True)
    asyncio.run(seed())


def tamper(data_dir: Path, *statements: str) -> None:
    with sqlite3.connect(data_dir / "incident-response.sqlite3") as db:
        for sql in statements:
            db.execute(sql)


def verify(env: dict[str, str], **extra: str) -> Result:
    return runner.invoke(app, ["audit", "verify"], env={**env, "COLUMNS": "250", **extra})


def test_audit_verify_passes_an_untouched_log_with_the_key_serve_created(
    env: dict[str, str], tmp_path: Path
) -> None:
    seed_data_dir(tmp_path / "data")

    result = verify(env)

    assert result.exit_code == 0, result.output
    assert "6 records in 2 incident chains verified" in result.stdout
    assert (tmp_path / "data" / "audit-key").stat().st_mode & 0o777 == 0o600


def test_audit_verify_fails_on_a_cut_tail_whose_head_was_moved_back(
    env: dict[str, str], tmp_path: Path
) -> None:
    seed_data_dir(tmp_path / "data")
    tamper(
        tmp_path / "data",
        "DELETE FROM audit_records WHERE incident_id = 'inc-2' AND seq = 3",
        "UPDATE audit_chain_heads SET seq = 2, hash = (SELECT hash FROM audit_records"
        " WHERE incident_id = 'inc-2' AND seq = 2) WHERE incident_id = 'inc-2'",
    )

    result = verify(env)

    assert result.exit_code == 1
    assert "inc-2" in result.stdout
    assert "inc-1" not in result.stdout
    assert "chain head does not match its MAC" in result.stdout


def test_audit_verify_fails_when_an_incidents_whole_chain_is_deleted(
    env: dict[str, str], tmp_path: Path
) -> None:
    seed_data_dir(tmp_path / "data")
    tamper(
        tmp_path / "data",
        "DELETE FROM audit_records WHERE incident_id = 'inc-1'",
        "DELETE FROM audit_chain_heads WHERE incident_id = 'inc-1'",
    )

    result = verify(env)

    assert result.exit_code == 1
    assert "the incident has no audit chain" in result.stdout
    assert verify(env, INCIDENT_RESPONSE_AUDIT_KEY="").exit_code == 1


def test_audit_verify_with_another_key_breaks_every_chain_and_blames_the_key(
    env: dict[str, str], tmp_path: Path
) -> None:
    seed_data_dir(tmp_path / "data")
    wrong = "not-the-key-serve-used-0123456789"

    result = verify(env, INCIDENT_RESPONSE_AUDIT_KEY=wrong)

    assert result.exit_code == 1
    assert {"inc-1", "inc-2"} <= set(result.stdout.split())
    assert "the audit key may be wrong or missing" in result.stdout
    assert "check that this command sees the audit key `serve` uses" in result.stdout
    assert wrong not in result.output
    real = (tmp_path / "data" / "audit-key").read_text().strip()
    assert real not in result.output


def test_audit_verify_without_any_key_says_so(env: dict[str, str], tmp_path: Path) -> None:
    seed_data_dir(tmp_path / "data")
    (tmp_path / "data" / "audit-key").unlink()

    result = verify(env)

    assert result.exit_code == 1
    assert "no audit key: INCIDENT_RESPONSE_AUDIT_KEY is unset" in result.stdout
    assert not (tmp_path / "data" / "audit-key").exists()  # verify never makes up a key


def test_a_key_from_the_environment_is_used_instead_of_a_file(
    env: dict[str, str], tmp_path: Path
) -> None:
    key = "kept-in-secrets-manager-0123456789"
    seed_data_dir(tmp_path / "data", configured_key=key)

    assert verify(env, INCIDENT_RESPONSE_AUDIT_KEY=key).exit_code == 0
    assert not (tmp_path / "data" / "audit-key").exists()
    assert verify(env).exit_code == 1


def test_a_short_audit_key_is_refused_without_echoing_it(env: dict[str, str]) -> None:
    result = verify(env, INCIDENT_RESPONSE_AUDIT_KEY="hunter2")

    assert result.exit_code == 2
    assert "INCIDENT_RESPONSE_AUDIT_KEY: must be at least 16 characters" in result.output
    assert "hunter2" not in result.output


@pytest.fixture
async def running(tmp_path: Path, env: dict[str, str]) -> AsyncIterator[TokenVerifier]:
    """What a running `serve` on the same data dir checks tokens with: its own connection to the
    database, open before the CLI runs and kept open while it writes."""
    await cli(env, "alice@example.com")  # creates the data dir
    db = await Database(tmp_path / "data" / "incident-response.sqlite3").open()
    try:
        credentials = await SqliteCredentials(db=db, clock=SystemClock()).open()
        key = (tmp_path / "data" / "api-token-key").read_text().strip().encode()
        yield TokenVerifier(key=key, credentials=credentials, clock=SystemClock())
    finally:
        await db.close()


async def cli(env: dict[str, str], *args: str) -> Result:
    """`incident-response token ARGS` as its own run (a thread with its own event loop)."""
    return await asyncio.to_thread(runner.invoke, app, ["token", *args], env=env)


async def issue(env: dict[str, str], *args: str) -> str:
    result = await cli(env, *args)
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    return result.stdout.strip()


async def refusal(verifier: TokenVerifier, token: str) -> TokenProblem | None:
    try:
        await verifier.email(token)
    except TokenRefused as refused:
        return refused.problem
    return None


async def test_rotating_ends_earlier_tokens_for_a_server_already_running(
    env: dict[str, str], running: TokenVerifier
) -> None:
    before = await issue(env, "alice@example.com")
    bobs = await issue(env, "bob@example.com")
    assert await refusal(running, before) is None

    rotated = await issue(env, "alice@example.com", "--rotate")

    assert await refusal(running, before) is TokenProblem.REVOKED
    assert await refusal(running, rotated) is None
    assert await refusal(running, await issue(env, "alice@example.com")) is None
    assert await refusal(running, bobs) is None


async def test_revoke_ends_every_token_prints_none_and_says_so(
    env: dict[str, str], running: TokenVerifier
) -> None:
    before = await issue(env, "Alice@Example.com")

    result = await cli(env, "revoke", "alice@example.com")

    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "revoked every token and console session of alice@example.com" in result.stderr
    assert await refusal(running, before) is TokenProblem.REVOKED
    assert await refusal(running, await issue(env, "alice@example.com")) is None


async def test_a_token_with_a_lifetime_expires(env: dict[str, str], tmp_path: Path) -> None:
    token = await issue(env, "alice@example.com", "--ttl", "12h")

    key = (tmp_path / "data" / "api-token-key").read_text().strip().encode()
    claims = tokens.read(token, key)
    assert claims.expires_at == claims.issued_at + timedelta(hours=12)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["alice@example.com", "--rotate", "--ttl", "12x"], "--ttl must be"),
        (["alice@example.com", "--ttl", "0m"], "--ttl must be"),
        (["revoke"], "usage: incident-response token revoke EMAIL"),
        (["revoke", "alice@example.com", "--rotate"], "no --rotate or --ttl"),
        (["alice@example.com", "bob@example.com"], "usage: incident-response token EMAIL"),
    ],
)
async def test_bad_token_arguments_fail_in_one_line_and_change_nothing(
    env: dict[str, str], running: TokenVerifier, args: list[str], message: str
) -> None:
    before = await issue(env, "alice@example.com")

    result = await cli(env, *args)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert "Traceback" not in result.output
    assert await refusal(running, before) is None


async def test_revoking_someone_not_in_the_roster_fails_clearly(
    env: dict[str, str], running: TokenVerifier
) -> None:
    result = await cli(env, "revoke", "mallory@example.com")

    assert result.exit_code == 1
    assert result.stdout == ""
    assert "mallory@example.com is not in the roster" in result.stderr


@pytest.mark.parametrize("args", [["alice@example.com"], ["revoke", "alice@example.com"]])
def test_token_with_a_broken_roster_fails_in_one_line(
    env: dict[str, str], tmp_path: Path, args: list[str]
) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "roster.yaml").write_text("people: [ {name: x\n")

    result = runner.invoke(app, ["token", *args], env=env)

    assert result.exit_code == 2
    assert result.stdout == ""
    assert "not valid YAML" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
