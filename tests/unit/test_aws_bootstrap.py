"""`incident-response aws bootstrap --env E` against a moto server, as an operator runs it: the
real command in a subprocess, reaching AWS through AWS_ENDPOINT_URL, settings on stdout only."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from incident_response.adapters.aws.eventbridge_scheduler import (
    EventBridgeScheduler,
    scheduler_client,
)
from incident_response.domain.messages import QueueMessage, Schedule
from tests.support.clock import ManualClock
from tests.support.moto_server import MotoServer

SETTING = re.compile(r"^([A-Z][A-Z0-9_]*)=(\S+)$")
CHANGED = re.compile(r"created|updated|enabled|set \(")


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoServer]:
    with MotoServer.started() as server:
        yield server


@pytest.fixture
def environ(aws: MotoServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    aws.reset()
    for key, value in aws.environ().items():
        monkeypatch.setenv(key, value)
    return {
        **os.environ,
        **aws.environ(),
        "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path / "data"),
        "INCIDENT_RESPONSE_QUEUE_MAX_RECEIVES": "3",
        "INCIDENT_RESPONSE_QUEUE_VISIBILITY_TIMEOUT_SECONDS": "44.5",
    }


def command() -> list[str]:
    beside = Path(sys.executable).with_name("incident-response")
    found = str(beside) if beside.exists() else shutil.which("incident-response")
    assert found, "the incident-response command is not installed"
    return [found]


def bootstrap(
    environ: dict[str, str], *args: str, env: str = "staging"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), "aws", "bootstrap", "--env", env, *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def settings_of(stdout: str) -> dict[str, str]:
    """Every stdout line is KEY=VALUE: nothing else may be there."""
    lines = stdout.splitlines()
    assert lines, "no settings printed"
    pairs = [SETTING.fullmatch(line) for line in lines]
    assert all(pairs), f"stdout holds more than KEY=VALUE lines: {stdout!r}"
    return {m.group(1): m.group(2) for m in pairs if m}


def client(service: str) -> Any:
    return boto3.session.Session().client(service)


def test_bootstrap_creates_everything_then_a_second_run_changes_nothing(
    environ: dict[str, str],
) -> None:
    first = bootstrap(environ)
    assert first.returncode == 0, first.stderr
    second = bootstrap(environ)
    assert second.returncode == 0, second.stderr

    settings = settings_of(first.stdout)
    assert settings_of(second.stdout) == settings
    assert not CHANGED.search(second.stderr), second.stderr
    assert settings == {
        "AWS_REGION": "us-east-1",
        "INCIDENTS_TABLE_NAME": "incident-response-staging-incidents",
        "AUDIT_TABLE_NAME": "incident-response-staging-audit",
        "INCIDENT_EVENTS_QUEUE_URL": settings["INCIDENT_EVENTS_QUEUE_URL"],
        "INCIDENT_RESPONSE_SCHEDULE_GROUP": "incident-response-staging",
        "SCHEDULER_ROLE_ARN": "arn:aws:iam::123456789012:role/incident-response-staging-scheduler",
        "GRAFANA_ONCALL_HMAC_SECRET_ID": "incident-response/staging/grafana-oncall-hmac",
    }

    # the keys every replica shares, and the webhook's secret: random, and kept by a second run
    manager = client("secretsmanager")
    values = {
        name: manager.get_secret_value(SecretId=f"incident-response/staging/{name}")
        for name in ("audit-key", "api-token-key", "grafana-oncall-hmac")
    }
    assert len({v["SecretString"] for v in values.values()}) == 3
    assert all(len(v["SecretString"]) >= 32 for v in values.values())
    for name, first_value in values.items():
        listed = manager.list_secret_version_ids(SecretId=f"incident-response/staging/{name}")
        assert [v["VersionId"] for v in listed["Versions"]] == [first_value["VersionId"]]
    assert "grafana-oncall-hmac: copy its value into Grafana OnCall" in first.stderr
    assert "copy its value" not in second.stderr

    dynamodb = client("dynamodb")
    incidents = dynamodb.describe_table(TableName=settings["INCIDENTS_TABLE_NAME"])["Table"]
    assert incidents["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert sorted(index["IndexName"] for index in incidents["GlobalSecondaryIndexes"]) == [
        "by_channel",
        "by_created",
        "outbox",
    ]
    ttl = dynamodb.describe_time_to_live(TableName=settings["INCIDENTS_TABLE_NAME"])
    assert ttl["TimeToLiveDescription"] == {
        "TimeToLiveStatus": "ENABLED",
        "AttributeName": "expires_at",
    }
    audit = dynamodb.describe_table(TableName=settings["AUDIT_TABLE_NAME"])["Table"]
    assert audit["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    kept = dynamodb.describe_time_to_live(TableName=settings["AUDIT_TABLE_NAME"])
    assert kept["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"  # the audit log is kept
    for table in (settings["INCIDENTS_TABLE_NAME"], settings["AUDIT_TABLE_NAME"]):
        found = dynamodb.describe_table(TableName=table)["Table"]
        assert found["TableStatus"] == "ACTIVE"
        assert found["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
        backups = dynamodb.describe_continuous_backups(TableName=table)
        recovery = backups["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"]
        assert recovery["PointInTimeRecoveryStatus"] == "ENABLED"

    sqs = client("sqs")
    events = sqs.get_queue_attributes(
        QueueUrl=settings["INCIDENT_EVENTS_QUEUE_URL"], AttributeNames=["All"]
    )["Attributes"]
    assert events["FifoQueue"] == "true"
    assert events["ContentBasedDeduplication"] == "true"
    assert events["VisibilityTimeout"] == "45"
    assert events["ReceiveMessageWaitTimeSeconds"] == "20"
    redrive = json.loads(events["RedrivePolicy"])
    assert int(redrive["maxReceiveCount"]) == 3
    dlq_url = sqs.get_queue_url(QueueName="incident-response-staging-events-dlq.fifo")["QueueUrl"]
    dlq = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["All"])["Attributes"]
    assert redrive["deadLetterTargetArn"] == dlq["QueueArn"]
    assert dlq["FifoQueue"] == "true"

    group = client("scheduler").get_schedule_group(Name="incident-response-staging")
    assert group["State"] == "ACTIVE"

    iam = client("iam")
    role = iam.get_role(RoleName="incident-response-staging-scheduler")["Role"]
    [trust] = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "scheduler.amazonaws.com"}
    policy = iam.get_role_policy(
        RoleName="incident-response-staging-scheduler", PolicyName="send-to-events-queue"
    )["PolicyDocument"]
    assert policy["Statement"] == [
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": events["QueueArn"]}
    ]


async def test_a_schedule_made_with_the_printed_settings_is_one_the_queue_accepts(
    environ: dict[str, str],
) -> None:
    done = bootstrap(environ)
    assert done.returncode == 0, done.stderr
    settings = settings_of(done.stdout)
    sqs = client("sqs")
    url = settings["INCIDENT_EVENTS_QUEUE_URL"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    clock = ManualClock()
    scheduler = EventBridgeScheduler(
        client=scheduler_client(region=settings["AWS_REGION"]),
        group=settings["INCIDENT_RESPONSE_SCHEDULE_GROUP"],
        queue_arn=queue_arn,
        role_arn=settings["SCHEDULER_ROLE_ARN"],
        clock=clock,
    )
    message = QueueMessage(type="STATUS_UPDATE_NUDGE", payload={"incident_id": "inc-1"})
    await scheduler.put(
        Schedule(
            name="nudge-inc-1",
            every_seconds=900,
            message=message,
            group_id="inc-1",
            next_fire_at=clock.now() + timedelta(minutes=15),
        )
    )
    target = client("scheduler").get_schedule(
        Name="nudge-inc-1", GroupName=settings["INCIDENT_RESPONSE_SCHEDULE_GROUP"]
    )["Target"]

    # what EventBridge does when it fires: SendMessage with the Input and the group, and no
    # MessageDeduplicationId (a FIFO queue without content-based dedup would refuse it)
    sqs.send_message(
        QueueUrl=url,
        MessageBody=target["Input"],
        MessageGroupId=target["SqsParameters"]["MessageGroupId"],
    )

    received = sqs.receive_message(QueueUrl=url, AttributeNames=["MessageGroupId"])
    [delivered] = received["Messages"]
    assert QueueMessage.model_validate_json(delivered["Body"]) == message
    assert delivered["Attributes"]["MessageGroupId"] == "inc-1"


def test_a_drifted_queue_setting_is_put_back_and_said_on_stderr(environ: dict[str, str]) -> None:
    first = bootstrap(environ)
    assert first.returncode == 0, first.stderr
    url = settings_of(first.stdout)["INCIDENT_EVENTS_QUEUE_URL"]
    client("sqs").set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "5"})

    again = bootstrap(environ)

    assert again.returncode == 0, again.stderr
    assert settings_of(again.stdout) == settings_of(first.stdout)
    assert "updated VisibilityTimeout" in again.stderr
    attributes = client("sqs").get_queue_attributes(
        QueueUrl=url, AttributeNames=["VisibilityTimeout"]
    )["Attributes"]
    assert attributes["VisibilityTimeout"] == "45"


def test_a_table_made_for_something_else_is_refused_and_left_alone(
    environ: dict[str, str],
) -> None:
    dynamodb = client("dynamodb")
    dynamodb.create_table(
        TableName="incident-response-staging-incidents",
        BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    )

    refused = bootstrap(environ)

    assert refused.returncode == 1
    assert refused.stdout == ""
    assert "incident-response-staging-incidents" in refused.stderr
    found = dynamodb.describe_table(TableName="incident-response-staging-incidents")["Table"]
    assert found["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]


@pytest.mark.parametrize("env", ["Staging", "staging_1", "-staging", "x" * 25, ""])
def test_a_bad_env_name_is_refused_and_creates_nothing(environ: dict[str, str], env: str) -> None:
    refused = bootstrap(environ, env=env)

    assert refused.returncode == 2
    assert refused.stdout == ""
    assert "--env" in refused.stderr
    assert client("dynamodb").list_tables()["TableNames"] == []
    assert client("sqs").list_queues().get("QueueUrls", []) == []


def test_without_the_role_no_role_is_made_and_none_is_printed(environ: dict[str, str]) -> None:
    done = bootstrap(environ, "--no-scheduler-role")

    assert done.returncode == 0, done.stderr
    assert "SCHEDULER_ROLE_ARN" not in settings_of(done.stdout)
    assert "SCHEDULER_ROLE_ARN" in done.stderr
    assert client("iam").list_roles()["Roles"] == []
