"""The EventQueue on an SQS FIFO queue with a FIFO dead-letter queue (conformance:
tests/contract/event_queue_suite.py; design: docs/aws.md).

SQS keeps each incident's events in order (MessageGroupId = the incident), drops a dedup id sent
again within 5 minutes (MessageDeduplicationId), hides a received message for its visibility
timeout and, after the queue's RedrivePolicy `maxReceiveCount` receives, moves it to the DLQ.
What SQS does not do, the adapter does in this process and says so:

- One ReceiveMessage may return several messages of one group. The port hands out at most one
  per group, and a follower received beside its predecessor and put back would count a receive
  it never had (and reach the DLQ early). So a receive asks SQS for one message at a time, up to
  `max_messages` calls: SQS then never hands out a group's next message while one is in flight.
- `send` is True unless this adapter itself sent the same dedup id within the window: SQS
  answers a deduplicated send exactly like a new one, so a duplicate sent by another replica
  reads True (and is still dropped by SQS).
- `retry` of a message at its last receive moves it to the DLQ itself (send, then delete) so the
  dead letter keeps its error; a worker that dies without retrying is moved by SQS's redrive.
- Receipts acked or retried here are remembered (a bounded set), so a late heartbeat on them is
  refused as the port asks: SQS would still accept a visibility change for a retried message.

boto3 is synchronous: every call runs in a worker thread (`asyncio.to_thread`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import re
import time
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any, Self

import boto3  # type: ignore[import-untyped]
from botocore.config import Config  # type: ignore[import-untyped]

from incident_response.domain.clock import Clock, isoformat, utc
from incident_response.domain.messages import DeadLetter, Delivery, QueueMessage
from incident_response.http import VendorError
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

VENDOR = "sqs"
MAX_BATCH = 10  # SQS: ReceiveMessage returns at most 10 messages
MAX_WAIT_SECONDS = 20  # SQS: the longest long poll
MAX_VISIBILITY_SECONDS = 43_200  # SQS: 12 hours
DEDUP_WINDOW_SECONDS = 300.0  # SQS: the deduplication interval
MAX_ID_LENGTH = 128  # SQS: MessageGroupId and MessageDeduplicationId
_ID_OK = re.compile(r"[A-Za-z0-9!\"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~]{1,128}")
_STALE_CODES = frozenset(
    {
        "ReceiptHandleIsInvalid",
        "MessageNotInflight",
        "AWS.SimpleQueueService.MessageNotInflight",
        "InvalidParameterValue",  # past the 12 hours SQS allows since the receive
    }
)
_TRANSIENT_CODES = frozenset(
    {"ThrottlingException", "RequestThrottled", "ServiceUnavailable", "InternalError"}
)
_REMEMBERED_RECEIPTS = 10_000
# message attributes the adapter writes (a message from elsewhere, e.g. a schedule, has none)
GROUP_ATTR = "ir_group_id"
SENT_AT_ATTR = "ir_sent_at"
ERROR_ATTR = "ir_last_error"
DEAD_AT_ATTR = "ir_dead_at"
COUNT_ATTR = "ir_receive_count"
MESSAGE_ID_ATTR = "ir_message_id"
_SYSTEM_ATTRS = ["ApproximateReceiveCount", "SentTimestamp", "MessageGroupId"]


def sqs_client(*, region: str, connect_timeout: float = 5, read_timeout: float = 30) -> Any:
    """An `sqs` client of its own boto3 Session (sessions are not thread-safe; clients are).
    The read timeout outlasts the 20 s long poll. botocore honours AWS_ENDPOINT_URL_SQS and
    AWS_ENDPOINT_URL (moto, a VPC endpoint). Blocking (it loads the service model)."""
    config = Config(
        region_name=region,
        connect_timeout=connect_timeout,
        read_timeout=max(read_timeout, MAX_WAIT_SECONDS + 5),
        retries={"total_max_attempts": 3, "mode": "standard"},
    )
    return boto3.session.Session().client("sqs", config=config)


def sqs_id(value: str) -> str:
    """`value` as SQS takes a group or dedup id: itself when SQS accepts it, else its SHA-256
    (hex, 64 characters), so a long or non-ASCII key still dedups and groups exactly."""
    if _ID_OK.fullmatch(value):
        return value
    return hashlib.sha256(value.encode()).hexdigest()


def _seconds(name: str, value: float, *, most: float = math.inf) -> int:
    """Whole seconds for SQS (rounded up, so a message is never visible early)."""
    if not (math.isfinite(value) and 0 <= value <= most):
        raise ValueError(f"{name} must be a finite number of seconds from 0 to {most:g}")
    return math.ceil(value)


def _attr(value: str) -> dict[str, str]:
    return {"DataType": "String", "StringValue": value}


def _code(exc: Exception) -> str:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", ""))
    return ""


class SqsEventQueue:
    """An EventQueue on one SQS FIFO queue; `open()` reads its RedrivePolicy for the DLQ and
    `maxReceiveCount` (a queue without one is refused: nothing would ever be dead-lettered)."""

    def __init__(
        self,
        client: Any,
        *,
        queue_url: str,
        clock: Clock,
        dedup_window_seconds: float = DEDUP_WINDOW_SECONDS,
    ) -> None:
        self._sqs = client
        self._url = queue_url
        self._clock = clock
        self._dedup_window = dedup_window_seconds
        self._dlq_url = ""
        self._max_receives = 0
        self._sent: dict[str, datetime] = {}  # dedup id -> when this adapter sent it
        self._retired: OrderedDict[str, None] = OrderedDict()

    @property
    def max_receives(self) -> int:
        return self._max_receives

    @property
    def dead_letter_url(self) -> str:
        return self._dlq_url

    async def open(self) -> Self:
        attributes = (
            await self._call(
                "GetQueueAttributes",
                QueueUrl=self._url,
                AttributeNames=["FifoQueue", "RedrivePolicy"],
            )
        ).get("Attributes", {})
        if attributes.get("FifoQueue") != "true":
            raise ValueError(f"{self._url} is not a FIFO queue: per-incident order needs one")
        if "RedrivePolicy" not in attributes:
            raise ValueError(f"{self._url} has no RedrivePolicy: failing messages would loop")
        policy = json.loads(attributes["RedrivePolicy"])
        self._max_receives = int(policy["maxReceiveCount"])
        _, _, _, _, account, name = str(policy["deadLetterTargetArn"]).split(":", 5)
        found = await self._call("GetQueueUrl", QueueName=name, QueueOwnerAWSAccountId=account)
        self._dlq_url = str(found["QueueUrl"])
        return self

    async def probe(self) -> str:
        depth = await self.depth()
        return f"SQS queue {self._url.rsplit('/', 1)[-1]} reachable ({depth} messages)"

    async def send(self, message: QueueMessage, *, group_id: str, dedup_id: str) -> bool:
        """True unless this adapter sent `dedup_id` within the window (see the module doc).
        FIFO queues have no per-message delay, and neither has the port: a message that must
        wait is a Schedule."""
        if not group_id or not dedup_id:
            raise ValueError("a queue message needs a group_id and a dedup_id")
        now = self._clock.now()
        self._forget_sent(now)
        if dedup_id in self._sent:
            return False
        await self._call(
            "SendMessage",
            QueueUrl=self._url,
            MessageBody=message.model_dump_json(),
            MessageGroupId=sqs_id(group_id),
            MessageDeduplicationId=sqs_id(dedup_id),
            MessageAttributes={GROUP_ATTR: _attr(group_id), SENT_AT_ATTR: _attr(isoformat(now))},
        )
        self._sent[dedup_id] = now
        return True

    async def receive(
        self, *, max_messages: int = 10, visibility_timeout: float = 30, wait_seconds: float = 0
    ) -> list[Delivery]:
        """At most min(max_messages, 10) deliveries, one per group, one SQS call each: the
        first long-polls for up to `wait_seconds` (20 s per call), the rest take what is ready."""
        if max_messages < 1:
            raise ValueError(f"max_messages must be at least 1, got {max_messages}")
        hidden = _seconds("visibility_timeout", visibility_timeout, most=MAX_VISIBILITY_SECONDS)
        _seconds("wait_seconds", wait_seconds)
        wanted = min(max_messages, MAX_BATCH)
        # a zero visibility would let the next call of this same receive take the message again
        held = max(hidden, 1)
        deadline = time.monotonic() + wait_seconds
        out: list[Delivery] = []
        while len(out) < wanted:
            wait = 0 if out else math.ceil(max(0.0, deadline - time.monotonic()))
            raw = (
                await self._call(
                    "ReceiveMessage",
                    QueueUrl=self._url,
                    MaxNumberOfMessages=1,
                    VisibilityTimeout=held,
                    WaitTimeSeconds=min(MAX_WAIT_SECONDS, wait),
                    MessageSystemAttributeNames=_SYSTEM_ATTRS,
                    MessageAttributeNames=["All"],
                )
            ).get("Messages", [])
            if raw:
                out += [d for d in map(self._delivery, raw) if d is not None]
            elif out or time.monotonic() >= deadline:
                break
        if hidden == 0:
            for delivery in out:
                await self.extend_visibility(delivery, seconds=0)
        return out

    async def ack(self, delivery: Delivery) -> None:
        """DeleteMessage; a stale receipt (SQS refuses it) is ignored."""
        if delivery.receipt not in self._retired:
            await self._quietly("DeleteMessage", QueueUrl=self._url, ReceiptHandle=delivery.receipt)
        self._retire(delivery)

    async def retry(self, delivery: Delivery, *, error: str, delay_seconds: float = 0) -> None:
        """Visible again after `delay_seconds` (ChangeMessageVisibility); at its last receive
        the adapter moves it to the DLQ with `error`. A stale receipt changes nothing."""
        delay = _seconds("delay_seconds", delay_seconds, most=MAX_VISIBILITY_SECONDS)
        if delivery.receipt in self._retired:
            return
        if delivery.receive_count >= self._max_receives:
            await self._dead_letter(delivery, error)
        else:
            await self._quietly(
                "ChangeMessageVisibility",
                QueueUrl=self._url,
                ReceiptHandle=delivery.receipt,
                VisibilityTimeout=delay,
            )
        self._retire(delivery)

    async def extend_visibility(self, delivery: Delivery, *, seconds: float) -> bool:
        hidden = _seconds("seconds", seconds, most=MAX_VISIBILITY_SECONDS)
        if delivery.receipt in self._retired:
            return False
        return await self._quietly(
            "ChangeMessageVisibility",
            QueueUrl=self._url,
            ReceiptHandle=delivery.receipt,
            VisibilityTimeout=hidden,
        )

    async def dead_letters(self) -> list[DeadLetter]:
        """The oldest dead letters, up to 10 (one SQS batch), read without consuming them: SQS
        has no peek, so they are received with a zero visibility timeout (each read counts one
        receive on the DLQ, which has no redrive policy of its own, so nothing is lost). The
        whole DLQ is for the console or `aws sqs` (and StartMessageMoveTask to redrive)."""
        raw = (
            await self._call(
                "ReceiveMessage",
                QueueUrl=self._dlq_url,
                MaxNumberOfMessages=MAX_BATCH,
                VisibilityTimeout=0,
                WaitTimeSeconds=0,
                MessageSystemAttributeNames=_SYSTEM_ATTRS,
                MessageAttributeNames=["All"],
            )
        ).get("Messages", [])
        return [self._dead_letter_of(item) for item in raw]

    async def depth(self) -> int:
        """Approximate, as SQS counts: ApproximateNumberOfMessages + ...NotVisible (a message
        sent or deleted a moment ago may not be counted yet on real SQS)."""
        attributes = (
            await self._call(
                "GetQueueAttributes",
                QueueUrl=self._url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )
        ).get("Attributes", {})
        return int(attributes.get("ApproximateNumberOfMessages", 0)) + int(
            attributes.get("ApproximateNumberOfMessagesNotVisible", 0)
        )

    def _retire(self, delivery: Delivery) -> None:
        self._retired[delivery.receipt] = None
        while len(self._retired) > _REMEMBERED_RECEIPTS:
            self._retired.popitem(last=False)

    def _forget_sent(self, now: datetime) -> None:
        for dedup_id, sent_at in list(self._sent.items()):
            if (now - sent_at).total_seconds() >= self._dedup_window:
                del self._sent[dedup_id]

    # -- dead letters ------------------------------------------------------------------------

    async def _dead_letter(self, delivery: Delivery, error: str) -> None:
        """Send to the DLQ, then delete: a crash between the two leaves a copy in both, never
        none. Only while the receipt is still ours (a heartbeat checks it first)."""
        if not await self.extend_visibility(delivery, seconds=60):
            return
        await self._call(
            "SendMessage",
            QueueUrl=self._dlq_url,
            MessageBody=delivery.body.model_dump_json(),
            MessageGroupId=sqs_id(delivery.group_id),
            MessageDeduplicationId=sqs_id(delivery.message_id),
            MessageAttributes={
                GROUP_ATTR: _attr(delivery.group_id),
                SENT_AT_ATTR: _attr(isoformat(delivery.sent_at)),
                ERROR_ATTR: _attr(error[:4000] or "(no error given)"),
                DEAD_AT_ATTR: _attr(isoformat(self._clock.now())),
                COUNT_ATTR: _attr(str(delivery.receive_count)),
                MESSAGE_ID_ATTR: _attr(delivery.message_id),
            },
        )
        await self._quietly("DeleteMessage", QueueUrl=self._url, ReceiptHandle=delivery.receipt)

    def _dead_letter_id(self, item: dict[str, Any]) -> str:
        return _string_attr(item, MESSAGE_ID_ATTR) or str(item["MessageId"])

    def _dead_letter_of(self, item: dict[str, Any]) -> DeadLetter:
        """A message the adapter moved carries its error, time and count; one SQS's redrive
        moved has none: it was received maxReceiveCount times, and a FIFO DLQ resets the
        enqueue time, so SentTimestamp is when it died."""
        count = _string_attr(item, COUNT_ATTR)
        dead_at = _string_attr(item, DEAD_AT_ATTR)
        return DeadLetter(
            message_id=self._dead_letter_id(item),
            group_id=self._group_of(item),
            body=QueueMessage.model_validate_json(item["Body"]),
            receive_count=int(count) if count else self._max_receives,
            dead_at=datetime.fromisoformat(dead_at) if dead_at else _sent_timestamp(item),
            last_error=_string_attr(item, ERROR_ATTR),
        )

    # -- SQS messages and calls --------------------------------------------------------------

    def _group_of(self, item: dict[str, Any]) -> str:
        return _string_attr(item, GROUP_ATTR) or str(item["Attributes"]["MessageGroupId"])

    def _delivery(self, item: dict[str, Any]) -> Delivery | None:
        """The delivery, or None for a body that is no QueueMessage (sent by something else):
        it is left in flight, and the redrive policy moves it to the DLQ after N receives."""
        sent_at = _string_attr(item, SENT_AT_ATTR)
        try:
            body = QueueMessage.model_validate_json(item["Body"])
        except ValueError as exc:
            log.warning("sqs.unreadable_message", message_id=item.get("MessageId"), error=str(exc))
            return None
        return Delivery(
            message_id=str(item["MessageId"]),
            receipt=str(item["ReceiptHandle"]),
            group_id=self._group_of(item),
            body=body,
            receive_count=int(item["Attributes"]["ApproximateReceiveCount"]),
            sent_at=utc(datetime.fromisoformat(sent_at)) if sent_at else _sent_timestamp(item),
        )

    async def _quietly(self, operation: str, **params: Any) -> bool:
        """A call on a receipt: False when SQS says the receipt is stale or not in flight."""
        try:
            await self._call(operation, **params)
        except VendorError as exc:
            if exc.reason.split(":", 1)[0] in _STALE_CODES:
                return False
            raise
        return True

    async def _call(self, operation: str, **params: Any) -> dict[str, Any]:
        method = getattr(self._sqs, _snake(operation))
        try:
            result: dict[str, Any] = await asyncio.to_thread(method, **params)
        except Exception as exc:
            code = _code(exc)
            if not code:
                raise VendorError(VENDOR, operation, str(exc), transient=True) from exc
            raise VendorError(
                VENDOR,
                operation,
                f"{code}: {exc}",
                status=_status(exc),
                transient=code in _TRANSIENT_CODES,
            ) from exc
        return result


def _status(exc: Exception) -> int:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        return int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    return 0


def _string_attr(item: dict[str, Any], name: str) -> str | None:
    value = item.get("MessageAttributes", {}).get(name, {}).get("StringValue")
    return str(value) if value is not None else None


def _sent_timestamp(item: dict[str, Any]) -> datetime:
    return datetime.fromtimestamp(int(item["Attributes"]["SentTimestamp"]) / 1000, UTC)


def _snake(operation: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


def create_fifo_queue(
    client: Any, name: str, *, max_receives: int = 5, visibility_timeout: int = 30
) -> str:
    """Create (idempotently) `<name>.fifo` and its DLQ `<name>-dlq.fifo` with a RedrivePolicy of
    `max_receives`; return the queue's URL. Blocking: for `aws bootstrap` and tests."""
    dlq_url = client.create_queue(
        QueueName=f"{name}-dlq.fifo",
        Attributes={"FifoQueue": "true", "MessageRetentionPeriod": str(14 * 24 * 3600)},
    )["QueueUrl"]
    dlq_arn = client.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])[
        "Attributes"
    ]["QueueArn"]
    policy = {"deadLetterTargetArn": dlq_arn, "maxReceiveCount": max_receives}
    url: str = client.create_queue(
        QueueName=f"{name}.fifo",
        Attributes={
            "FifoQueue": "true",
            "VisibilityTimeout": str(visibility_timeout),
            "RedrivePolicy": json.dumps(policy),
        },
    )["QueueUrl"]
    return url
