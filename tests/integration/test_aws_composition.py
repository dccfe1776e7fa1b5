"""`bootstrap.build` with the AWS backends selected, on a moto server with the resources
`aws bootstrap` creates: each port gets its AWS adapter, SQLite holds none of them, the embedded
timers' loop does not run, and readiness checks the AWS backends instead of SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from incident_response.adapters.aws.dynamodb_audit import DynamoDbAuditLog
from incident_response.adapters.aws.dynamodb_credentials import DynamoDbCredentials
from incident_response.adapters.aws.dynamodb_store import DynamoDbIncidentStore
from incident_response.adapters.aws.eventbridge_scheduler import EventBridgeScheduler
from incident_response.adapters.aws.provisioning import Plan, bootstrap
from incident_response.adapters.aws.secrets_manager import SecretsManagerSecrets
from incident_response.adapters.aws.sqs_queue import SqsEventQueue
from incident_response.bootstrap import Container, build, issue_token, verify_audit
from incident_response.cli import app
from incident_response.config import ConfigurationError, load_settings
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.tokens import TokenVerifier
from tests.contract.incident_samples import sample_incident
from tests.support.moto_server import MotoServer

SECRET_ID = "incident-response/test/oncall-hmac"
ADA = "alice@example.com"  # in the sample roster every data dir starts with


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoServer]:
    with MotoServer.started() as server:
        yield server


@pytest.fixture
def aws_settings(
    aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    aws.reset()
    for key, value in aws.environ().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    printed = bootstrap(
        Plan(env="test", region=aws.region, max_receives=3, visibility_timeout_seconds=30),
        lambda _line: None,
    )
    boto3.session.Session().client("secretsmanager").create_secret(
        Name=SECRET_ID, SecretString="s" * 40
    )
    return {
        **printed,
        "GRAFANA_ONCALL_HMAC_SECRET_ID": SECRET_ID,
        "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path / "data"),
        "INCIDENT_RESPONSE_AUDIT_KEY": "k" * 32,
    }


async def built(values: dict[str, str]) -> Container:
    return await build(load_settings(values), base_url="http://incident-response.test")


async def test_every_storage_port_is_on_its_aws_adapter_and_none_in_sqlite(
    aws_settings: dict[str, str],
) -> None:
    container = await built(aws_settings)
    try:
        assert isinstance(container.store, DynamoDbIncidentStore)
        assert isinstance(container.audit, DynamoDbAuditLog)
        assert isinstance(container.credentials, DynamoDbCredentials)
        assert isinstance(container.queue, SqsEventQueue)
        assert isinstance(container.scheduler, EventBridgeScheduler)
        assert isinstance(container.secrets, SecretsManagerSecrets)
        assert container.closers == []  # no embedded timers' firing loop
        tables = {
            row["name"] for row in await container.db.fetchall("SELECT name FROM sqlite_master")
        }
        assert not tables & {
            "incidents",
            "audit_records",
            "queue_messages",
            "schedules",
            "credential_generations",
        }
        assert container.webhook_secret_file is None
        assert (await container.secrets.get("oncall-hmac")).value == "s" * 40
    finally:
        await container.aclose()


async def test_readiness_checks_the_aws_backends_not_sqlite(
    aws: MotoServer, aws_settings: dict[str, str]
) -> None:
    container = await built(aws_settings)
    try:
        checks = await container.readiness()
        assert checks == {
            "dynamodb": "ok",
            "sqs": "ok",
            "eventbridge-scheduler": "ok",
            "secrets-manager": "ok",
            "data_dir": "ok",
        }

        aws.reset()  # the tables, the queue and the schedule group are gone

        checks = await container.readiness()
        assert checks["dynamodb"].startswith("failed")
        assert checks["sqs"].startswith("failed")
        assert checks["eventbridge-scheduler"].startswith("failed")
    finally:
        await container.aclose()


async def test_a_queue_that_is_not_there_stops_the_start(aws_settings: dict[str, str]) -> None:
    missing = aws_settings["INCIDENT_EVENTS_QUEUE_URL"].replace("events.fifo", "nope.fifo")

    with pytest.raises(Exception, match=r"nope\.fifo|NonExistentQueue|does not exist"):
        await built({**aws_settings, "INCIDENT_EVENTS_QUEUE_URL": missing})


def test_the_nudge_interval_must_be_whole_minutes_with_eventbridge(
    aws_settings: dict[str, str],
) -> None:
    with pytest.raises(ConfigurationError, match="multiple of 60"):
        load_settings({**aws_settings, "INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS": "150"})


def test_config_check_probes_each_aws_backend(aws_settings: dict[str, str]) -> None:
    result = CliRunner().invoke(
        app, ["config", "check", "--probe"], env={**aws_settings, "COLUMNS": "200"}
    )

    assert result.exit_code == 0, result.output
    for name in ("dynamodb", "sqs", "eventbridge-scheduler", "secrets-manager"):
        assert f"ok     {name}: " in result.stdout, result.stdout


def replica(aws_settings: dict[str, str], data_dir: Path, **changes: str | None) -> dict[str, str]:
    """One replica's settings: its own data dir, and no key of its own unless given."""
    values = {**aws_settings, "INCIDENT_RESPONSE_DATA_DIR": str(data_dir)}
    del values["INCIDENT_RESPONSE_AUDIT_KEY"]
    for name, value in changes.items():
        if value is None:
            values.pop(name, None)
        else:
            values[name] = value
    return values


async def test_replicas_that_share_no_data_dir_share_the_keys_from_secrets_manager(
    aws_settings: dict[str, str], tmp_path: Path
) -> None:
    """A token the CLI issues in one place is accepted by another replica, and an audit chain
    one replica seals is verified from a third: both keys come from Secrets Manager."""
    manager = boto3.session.Session().client("secretsmanager")
    shared = manager.get_secret_value(SecretId="incident-response/test/api-token-key")
    first = await built(replica(aws_settings, tmp_path / "one"))
    second = await built(replica(aws_settings, tmp_path / "two"))
    try:
        assert first.token_key == second.token_key == shared["SecretString"].encode()
        token = await issue_token(load_settings(replica(aws_settings, tmp_path / "cli")), ADA)
        verifier = TokenVerifier(
            key=second.token_key, credentials=second.credentials, clock=second.clock
        )
        assert await verifier.email(token) == ADA

        await first.store.create(sample_incident(id="inc-1"))
        await first.audit.append(
            AuditEvent(
                incident_id="inc-1",
                type=AuditEventType.INCIDENT_OPENED,
                key="opened",
                at=first.clock.now(),
            )
        )
        report = await verify_audit(load_settings(replica(aws_settings, tmp_path / "three")))
        assert report.ok, report.breaks
    finally:
        await first.aclose()
        await second.aclose()
    for data_dir in ("one", "two", "cli", "three"):
        assert not (tmp_path / data_dir / "api-token-key").exists()
        assert not (tmp_path / data_dir / "audit-key").exists()


@pytest.mark.parametrize(
    "missing", ["INCIDENT_RESPONSE_AUDIT_KEY", "INCIDENT_RESPONSE_API_TOKEN_KEY"]
)
async def test_without_a_shared_key_a_replica_refuses_to_start_and_writes_no_key(
    aws_settings: dict[str, str], tmp_path: Path, missing: str
) -> None:
    """No Secrets Manager and no setting: a key per data dir would split the deployment."""
    given = {
        "INCIDENT_RESPONSE_AUDIT_KEY": "a" * 32,
        "INCIDENT_RESPONSE_API_TOKEN_KEY": "t" * 32,
        missing: None,
    }
    values = replica(aws_settings, tmp_path / "data", GRAFANA_ONCALL_HMAC_SECRET_ID=None, **given)

    with pytest.raises(ConfigurationError, match=f"same in every replica.*{missing}"):
        await built(values)

    assert not (tmp_path / "data" / "api-token-key").exists()
    assert not (tmp_path / "data" / "audit-key").exists()


async def test_the_settings_win_over_secrets_manager(
    aws_settings: dict[str, str], tmp_path: Path
) -> None:
    values = replica(aws_settings, tmp_path / "data", INCIDENT_RESPONSE_API_TOKEN_KEY="t" * 32)
    container = await built(values)
    try:
        assert container.token_key == b"t" * 32
    finally:
        await container.aclose()
