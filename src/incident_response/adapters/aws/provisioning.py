"""`incident-response aws bootstrap --env E`: the AWS resources one environment runs on, created
idempotently (a second run changes nothing), and the settings that point the service at them.

What it creates, all named `incident-response-<env>...`:
- the incidents and audit DynamoDB tables (on-demand, point-in-time recovery; TTL on
  `expires_at` on the incidents table; the audit log is kept), with the DynamoDB adapters' key
  design (docs/aws-dynamodb.md);
- the events SQS FIFO queue and its FIFO dead-letter queue, redriven after
  INCIDENT_RESPONSE_QUEUE_MAX_RECEIVES receives, hidden for
  INCIDENT_RESPONSE_QUEUE_VISIBILITY_TIMEOUT_SECONDS, long polling, 14 days' retention;
  content-based deduplication is ON on the events queue because EventBridge Scheduler sends no
  MessageDeduplicationId to a FIFO queue (the queue adapter's explicit dedup ids still win);
- the EventBridge Scheduler schedule group;
- in Secrets Manager, `incident-response/<env>/audit-key` and `.../api-token-key` (the keys every
  replica must share, see signing_keys.py) and `.../grafana-oncall-hmac` (the webhook's HMAC
  secret, to be copied into Grafana OnCall), each a random value when created and never
  overwritten;
- optionally the IAM role EventBridge Scheduler assumes, allowed sqs:SendMessage on that queue.

An existing resource whose shape differs in what cannot be changed in place (a table's keys, a
queue that is not FIFO) is refused with a clear error, never replaced: it may hold incidents.
The endpoint is boto3's: AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> reach moto or a VPC
endpoint. This is a one-shot operator command whose every step needs the one before, so it is
plain sequential boto3, not asyncio.
"""

from __future__ import annotations

import json
import math
import re
import secrets as random_secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from incident_response.adapters.aws.tables import TTL_ATTRIBUTE, audit_table, incidents_table
from incident_response.signing_keys import AUDIT, TOKENS

ENV = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$")
PREFIX = "incident-response"
RETENTION_SECONDS = 14 * 86400  # SQS's maximum: a message waits out a long outage
LONG_POLL_SECONDS = 20
WEBHOOK_SECRET_NAME = "grafana-oncall-hmac"


Progress = Callable[[str], None]


class ProvisioningError(Exception):
    """A resource exists in a shape this command will not change; nothing was replaced."""


@dataclass(frozen=True)
class Plan:
    env: str
    region: str
    max_receives: int
    visibility_timeout_seconds: float
    scheduler_role: bool = True

    def __post_init__(self) -> None:
        if not ENV.fullmatch(self.env):
            raise ValueError(
                f"--env {self.env!r}: use 1 to 24 of a-z 0-9 and '-' (not first or last),"
                " e.g. staging; it becomes part of every resource name"
            )

    def name(self, suffix: str) -> str:
        return f"{PREFIX}-{self.env}-{suffix}"

    def secret_id(self, name: str) -> str:
        """Secrets Manager's name for one of this environment's secrets (secrets_manager.py)."""
        return f"{PREFIX}/{self.env}/{name}"

    @property
    def schedule_group(self) -> str:
        return f"{PREFIX}-{self.env}"


def bootstrap(plan: Plan, progress: Progress) -> dict[str, str]:
    """Create what is missing, fix what drifted and may be fixed, and return the settings.
    AWS's refusals (credentials, permissions, quotas) come back as ProvisioningError."""
    try:
        return _bootstrap(plan, progress)
    except (ClientError, BotoCoreError) as exc:
        raise ProvisioningError(f"AWS refused: {exc}") from exc


def _bootstrap(plan: Plan, progress: Progress) -> dict[str, str]:
    session = boto3.session.Session(region_name=plan.region)
    dynamodb = session.client("dynamodb")
    sqs = session.client("sqs")
    scheduler = session.client("scheduler")
    incidents = _table(dynamodb, incidents_table(plan.name("incidents")), progress, ttl=True)
    audit = _table(dynamodb, audit_table(plan.name("audit")), progress, ttl=False)
    dlq_url = _queue(
        sqs,
        plan.name("events-dlq.fifo"),
        {
            "FifoQueue": "true",
            "ContentBasedDeduplication": "false",
            "MessageRetentionPeriod": str(RETENTION_SECONDS),
        },
        progress,
    )
    dlq_arn = _queue_arn(sqs, dlq_url)
    events_url = _queue(
        sqs,
        plan.name("events.fifo"),
        {
            "FifoQueue": "true",
            "ContentBasedDeduplication": "true",
            "MessageRetentionPeriod": str(RETENTION_SECONDS),
            "ReceiveMessageWaitTimeSeconds": str(LONG_POLL_SECONDS),
            "VisibilityTimeout": str(math.ceil(plan.visibility_timeout_seconds)),
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": plan.max_receives},
                separators=(",", ":"),
            ),
        },
        progress,
    )
    _schedule_group(scheduler, plan.schedule_group, progress)
    secretsmanager = session.client("secretsmanager")
    for key in (AUDIT, TOKENS):
        _secret(secretsmanager, plan.secret_id(key.secret_name), key.purpose, progress)
    webhook_secret = plan.secret_id(WEBHOOK_SECRET_NAME)
    if _secret(
        secretsmanager, webhook_secret, "the Grafana OnCall webhook's HMAC secret", progress
    ):
        progress(
            f"secret {webhook_secret}: copy its value into Grafana OnCall's outgoing webhook"
            f" (aws secretsmanager get-secret-value --secret-id {webhook_secret})"
        )
    settings = {
        "AWS_REGION": plan.region,
        "INCIDENTS_TABLE_NAME": incidents,
        "AUDIT_TABLE_NAME": audit,
        "INCIDENT_EVENTS_QUEUE_URL": events_url,
        "INCIDENT_RESPONSE_SCHEDULE_GROUP": plan.schedule_group,
        "GRAFANA_ONCALL_HMAC_SECRET_ID": webhook_secret,
    }
    if plan.scheduler_role:
        iam = session.client("iam")
        events_arn = _queue_arn(sqs, events_url)
        settings["SCHEDULER_ROLE_ARN"] = _scheduler_role(
            iam, plan.name("scheduler"), events_arn, progress
        )
    else:
        progress("scheduler role: skipped (--no-scheduler-role); set SCHEDULER_ROLE_ARN yourself")
    return settings


def _table(client: Any, design: dict[str, Any], progress: Progress, *, ttl: bool) -> str:
    name = str(design["TableName"])
    try:
        found = client.describe_table(TableName=name)["Table"]
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        client.create_table(**design)
        client.get_waiter("table_exists").wait(TableName=name)
        progress(f"table {name}: created")
    else:
        if _keys(found.get("KeySchema", [])) != _keys(design["KeySchema"]):
            raise ProvisioningError(
                f"table {name} exists with keys {_keys(found['KeySchema'])}, not"
                f" {_keys(design['KeySchema'])}: it was made for something else; not changed"
            )
        progress(f"table {name}: exists")
    expiry = client.describe_time_to_live(TableName=name)["TimeToLiveDescription"]
    if ttl and expiry.get("TimeToLiveStatus") not in ("ENABLED", "ENABLING"):
        client.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": TTL_ATTRIBUTE},
        )
        progress(f"table {name}: TTL on {TTL_ATTRIBUTE} enabled")
    backups = client.describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    recovery = backups.get("PointInTimeRecoveryDescription", {})
    if recovery.get("PointInTimeRecoveryStatus") != "ENABLED":
        client.update_continuous_backups(
            TableName=name,
            PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True},
        )
        progress(f"table {name}: point-in-time recovery enabled")
    return name


def _keys(schema: list[dict[str, str]]) -> list[tuple[str, str]]:
    return sorted((key["AttributeName"], key["KeyType"]) for key in schema)


def _queue(client: Any, name: str, attributes: dict[str, str], progress: Progress) -> str:
    try:
        url: str = client.get_queue_url(QueueName=name)["QueueUrl"]
    except ClientError as exc:
        if _code(exc) not in ("AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist"):
            raise
        url = client.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]
        progress(f"queue {name}: created")
        return url
    found = client.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
    if found.get("FifoQueue") != "true":
        raise ProvisioningError(f"queue {name} exists but is not a FIFO queue; not changed")
    drifted = {
        key: value
        for key, value in attributes.items()
        if key != "FifoQueue" and not _same(key, found.get(key), value)
    }
    if drifted:
        client.set_queue_attributes(QueueUrl=url, Attributes=drifted)
        progress(f"queue {name}: updated {', '.join(sorted(drifted))}")
    else:
        progress(f"queue {name}: exists")
    return url


def _same(key: str, found: str | None, wanted: str) -> bool:
    if found is None:
        return False
    if key == "RedrivePolicy":
        mine = json.loads(wanted)
        theirs = json.loads(found)
        return bool(
            theirs.get("deadLetterTargetArn") == mine["deadLetterTargetArn"]
            and int(theirs.get("maxReceiveCount", 0)) == mine["maxReceiveCount"]
        )
    return found.lower() == wanted.lower()


def _queue_arn(client: Any, url: str) -> str:
    attributes = client.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
    return str(attributes["Attributes"]["QueueArn"])


def _schedule_group(client: Any, name: str, progress: Progress) -> None:
    try:
        client.get_schedule_group(Name=name)
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        try:
            client.create_schedule_group(Name=name)
        except ClientError as race:
            if _code(race) != "ConflictException":
                raise
        progress(f"schedule group {name}: created")
        return
    progress(f"schedule group {name}: exists")


def _secret(client: Any, secret_id: str, purpose: str, progress: Progress) -> bool:
    """Create the secret with a random value unless it exists (its value is never read or
    replaced here: it may be in use); True when it was created now."""
    try:
        client.describe_secret(SecretId=secret_id)
    except ClientError as exc:
        if _code(exc) != "ResourceNotFoundException":
            raise
        try:
            client.create_secret(
                Name=secret_id,
                Description=f"incident-response: {purpose}",
                SecretString=random_secrets.token_urlsafe(32),
            )
        except ClientError as race:
            if _code(race) != "ResourceExistsException":
                raise
            progress(f"secret {secret_id}: exists")
            return False
        progress(f"secret {secret_id}: created")
        return True
    progress(f"secret {secret_id}: exists")
    return False


def scheduler_trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "scheduler.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def scheduler_send_policy(queue_arn: str) -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": queue_arn}],
    }


_ROLE_POLICY = "send-to-events-queue"


def _scheduler_role(client: Any, name: str, queue_arn: str, progress: Progress) -> str:
    try:
        arn = str(client.get_role(RoleName=name)["Role"]["Arn"])
        progress(f"role {name}: exists")
    except ClientError as exc:
        if _code(exc) != "NoSuchEntity":
            raise
        arn = str(
            client.create_role(
                RoleName=name,
                AssumeRolePolicyDocument=json.dumps(scheduler_trust_policy()),
                Description="EventBridge Scheduler sends incident-response timers to the queue",
            )["Role"]["Arn"]
        )
        progress(f"role {name}: created")
    wanted = scheduler_send_policy(queue_arn)
    try:
        found = client.get_role_policy(RoleName=name, PolicyName=_ROLE_POLICY)["PolicyDocument"]
    except ClientError as exc:
        if _code(exc) != "NoSuchEntity":
            raise
        found = None
    if isinstance(found, str):
        found = json.loads(found)
    if found != wanted:
        client.put_role_policy(
            RoleName=name, PolicyName=_ROLE_POLICY, PolicyDocument=json.dumps(wanted)
        )
        progress(f"role {name}: policy {_ROLE_POLICY} set (sqs:SendMessage on {queue_arn})")
    return arn


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
