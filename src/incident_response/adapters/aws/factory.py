"""The AWS integrations' factories (integrations.FACTORIES): DynamoDB, SQS, EventBridge
Scheduler and Secrets Manager, each built from its settings (docs/aws.md).

Each integration makes its own boto3 clients (one Session per client: sessions are not
thread-safe); building one loads botocore's service model, so it runs in a worker thread. The
endpoint is boto3's standard lookup: AWS_ENDPOINT_URL(_<SERVICE>) reaches moto or a VPC endpoint.
"""

from __future__ import annotations

import asyncio
from typing import Any

from incident_response.adapters.aws.dynamodb_audit import DynamoDbAuditLog
from incident_response.adapters.aws.dynamodb_client import dynamodb_client
from incident_response.adapters.aws.dynamodb_credentials import DynamoDbCredentials
from incident_response.adapters.aws.dynamodb_store import DynamoDbIncidentStore
from incident_response.adapters.aws.eventbridge_scheduler import (
    EventBridgeScheduler,
    scheduler_client,
)
from incident_response.adapters.aws.secrets_manager import (
    SecretsManagerSecrets,
    secrets_manager_client,
)
from incident_response.adapters.aws.sqs_queue import SqsEventQueue, sqs_client
from incident_response.config import SECRET_ID, ConfigurationError, Settings
from incident_response.http import VendorError
from incident_response.integrations import Contribution, Wiring


def _required(settings: Settings, variable: str) -> str:
    value = settings.value_of(variable)
    if value is None:  # settings.enabled() checked the integration's required variables
        raise ConfigurationError(f"{variable} is not set")
    return value


async def build_dynamodb(wiring: Wiring) -> Contribution:
    """IncidentStore, AuditLog and Credentials on the two tables (one client for all three)."""
    settings = wiring.settings
    audit_key = await wiring.sealing_key()  # shared by every replica, else ConfigurationError
    client = await asyncio.to_thread(dynamodb_client, region=_required(settings, "AWS_REGION"))
    incidents = _required(settings, "INCIDENTS_TABLE_NAME")
    return Contribution(
        store=DynamoDbIncidentStore(client=client, table=incidents, clock=wiring.clock),
        audit=DynamoDbAuditLog(
            client=client,
            table=_required(settings, "AUDIT_TABLE_NAME"),
            clock=wiring.clock,
            key=audit_key,
        ),
        credentials=DynamoDbCredentials(client=client, table=incidents, clock=wiring.clock),
    )


async def build_sqs(wiring: Wiring) -> Contribution:
    """The EventQueue on INCIDENT_EVENTS_QUEUE_URL; opening it reads its redrive policy (a queue
    that is not FIFO or has no dead-letter queue is refused here, at start-up)."""
    settings = wiring.settings
    client = await asyncio.to_thread(sqs_client, region=_required(settings, "AWS_REGION"))
    queue = SqsEventQueue(
        client, queue_url=_required(settings, "INCIDENT_EVENTS_QUEUE_URL"), clock=wiring.clock
    )
    try:
        await queue.open()
    except ValueError as exc:
        raise ConfigurationError(str(exc)) from None
    return Contribution(queue=queue)


async def build_eventbridge_scheduler(wiring: Wiring) -> Contribution:
    """Schedules in INCIDENT_RESPONSE_SCHEDULE_GROUP that send to the events queue (its ARN read
    with GetQueueAttributes) as SCHEDULER_ROLE_ARN. Config refuses it without the sqs
    integration and with a nudge interval that is not whole minutes."""
    settings = wiring.settings
    region = _required(settings, "AWS_REGION")
    queue_url = _required(settings, "INCIDENT_EVENTS_QUEUE_URL")
    sqs = await asyncio.to_thread(sqs_client, region=region)
    queue_arn = await _queue_arn(sqs, queue_url)
    client = await asyncio.to_thread(scheduler_client, region=region)
    return Contribution(
        scheduler=EventBridgeScheduler(
            client=client,
            group=settings.incident_response_schedule_group,
            queue_arn=queue_arn,
            role_arn=_required(settings, "SCHEDULER_ROLE_ARN"),
            clock=wiring.clock,
        )
    )


async def _queue_arn(sqs: Any, queue_url: str) -> str:
    try:
        found = await asyncio.to_thread(
            sqs.get_queue_attributes, QueueUrl=queue_url, AttributeNames=["QueueArn"]
        )
    except Exception as exc:
        raise VendorError("sqs", "GetQueueAttributes", f"{queue_url}: {exc}") from exc
    return str(found["Attributes"]["QueueArn"])


async def build_secrets_manager(wiring: Wiring) -> Contribution:
    """Secrets of the env that GRAFANA_ONCALL_HMAC_SECRET_ID names: the ID is
    `incident-response/<env>/<name>`, so every secret is read under `incident-response/<env>/`,
    and the webhook verifier reads `<name>` (the current value and, during a rotation, the
    previous one)."""
    settings = wiring.settings
    matched = SECRET_ID.fullmatch(_required(settings, "GRAFANA_ONCALL_HMAC_SECRET_ID"))
    if matched is None:  # config refuses it first; this keeps the factory honest on its own
        raise ConfigurationError(
            "GRAFANA_ONCALL_HMAC_SECRET_ID is not incident-response/<env>/<name>"
        )
    env, name = matched.group(1), matched.group(2)
    client = await asyncio.to_thread(
        secrets_manager_client, region=_required(settings, "AWS_REGION")
    )
    return Contribution(
        secrets=SecretsManagerSecrets(client, env=env, clock=wiring.clock),
        webhook_secret_name=name,
    )
