"""The ports: what the core needs from the world, as Protocols.

Every port has a conformance suite under `tests/contract/`; an adapter is done when it passes it.
The core depends on these and never on an adapter.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from pydantic import BaseModel, ConfigDict

from incident_response.domain.alert import Alert, AlertEventKind, Severity
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord, ChainReport
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.context import (
    Change,
    ContextSnapshot,
    FiledPostmortem,
    PublishedUpdate,
    PublishRequest,
)
from incident_response.domain.incident import ChannelRef, Incident, IncidentStatus, IssueRef
from incident_response.domain.messages import DeadLetter, Delivery, QueueMessage, Schedule
from incident_response.domain.people import OnCallShift, Person


class AlertClaim(BaseModel):
    """Where an alert went, written in the same transaction as the incident it went to.

    Two keys, each pointing at one incident: the delivery (for good, so a redelivery finds the
    decision instead of taking it again) and the alert group (so the group's later alerts follow
    it). A write fails with AlertClaimed when another incident holds either key, except that the
    group key may move from `moves_from`: the resolved incident a re-fired group leaves.
    `reason` is why the alert went there, kept for a redelivery that finishes the job.
    """

    model_config = ConfigDict(frozen=True)

    delivery_id: str
    alert_group_key: str
    reason: str = ""
    moves_from: str | None = None


@runtime_checkable
class IncidentStore(Protocol):
    """Incidents and the alert deliveries that opened or joined them."""

    async def create(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        """Store a new incident at version 1, and `claim` for it, atomically.

        Raises AlreadyExists if the id is taken and AlertClaimed if another incident holds the
        claim; either way nothing is written.
        """
        ...

    async def get(self, incident_id: str, *, consistent: bool = True) -> Incident | None: ...

    async def save(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        """Compare-and-set on `incident.version`: store it as version + 1, and `claim` for it,
        atomically, and return it.

        Raises ConcurrentUpdate when the stored version is not `incident.version`, AlertClaimed
        (a ConcurrentUpdate) when another incident holds the claim, and NotFound when the
        incident was never created; nothing is written then.
        """
        ...

    async def find_by_delivery(self, delivery_id: str) -> tuple[Incident, AlertClaim] | None:
        """The incident holding this delivery's claim, and the claim: a strongly consistent
        read of one key."""
        ...

    async def find_by_alert_group(self, alert_group_key: str) -> Incident | None:
        """The incident holding the alert group's claim, open or not: a strongly consistent
        read of one key."""
        ...

    async def find_by_channel(self, channel_id: str) -> Incident | None: ...

    async def find_open_by_grouping_key(
        self, grouping_key: str, since: datetime
    ) -> Incident | None:
        """The newest open incident with this grouping key created at or after `since`.

        An empty key (the alert had none of the grouping labels) matches nothing."""
        ...

    async def count_created_since(self, since: datetime) -> int: ...

    async def recent(
        self, *, statuses: Sequence[IncidentStatus] | None = None, limit: int = 100
    ) -> list[Incident]:
        """Newest first."""
        ...

    async def record_alert(self, alert: Alert) -> bool:
        """Keep an alert delivery, once per `alert.delivery_id`; True when it was new."""
        ...

    async def alert_processed(self, delivery_id: str) -> bool: ...

    async def mark_alert_processed(self, delivery_id: str, incident_id: str) -> None:
        """Raises NotFound for a delivery that `record_alert` never kept."""
        ...

    async def unprocessed_alerts(
        self,
        *,
        kinds: Collection[AlertEventKind],
        recorded_after: datetime,
        recorded_before: datetime,
        limit: int = 100,
    ) -> list[Alert]:
        """Deliveries of `kinds` recorded in (`recorded_after`, `recorded_before`], not yet
        processed and not yet requeued, oldest first: intake's outbox, which the processor's
        upkeep hands to the queue again in case a delivery was recorded but never queued."""
        ...

    async def mark_alert_requeued(self, delivery_id: str) -> None:
        """The relay sent this delivery again: it is not offered again (once is enough; a
        message that keeps failing ends in the dead letters, not in a loop)."""
        ...

    async def incident_ids(self) -> list[str]:
        """Every stored incident's id, sorted, without loading the incidents (audit verify
        checks each one has its audit chain)."""
        ...

    async def created_between(
        self, start: datetime, end: datetime, *, limit: int = 10_000
    ) -> list[Incident]:
        """Incidents created in [`start`, `end`), oldest first, at most `limit` of them: a
        ranged read for reports (insights), which must not load the whole history. Like
        `recent` it may read an index (DynamoDB's `by_created`) a moment behind the latest
        writes: use it for reports, never for a decision.

        Raises ValueError for `end` before `start` or a negative `limit`."""
        ...


@runtime_checkable
class AuditLog(Protocol):
    """Append-only, idempotent per (incident, key), hash-chained per incident."""

    async def append(self, event: AuditEvent) -> AuditRecord:
        """Append and return the stored record, or return the record already stored for the key."""
        ...

    async def records(self, incident_id: str) -> list[AuditRecord]:
        """The incident's records in chain order, read consistently."""
        ...

    async def find(self, incident_id: str, type: AuditEventType) -> list[AuditRecord]:
        """Records of one type, read consistently (the approval gate relies on it)."""
        ...

    async def verify(self, incident_id: str | None = None) -> ChainReport:
        """Check one incident's chain, or every chain."""
        ...

    async def incident_ids(self) -> list[str]: ...


@runtime_checkable
class EventQueue(Protocol):
    """SQS FIFO semantics: FIFO per group, at-least-once, visibility timeout, dead letters.

    It promises nothing a FIFO queue cannot keep: no per-message delay on send (a message that
    must wait is a `once` Schedule), a depth that is approximate, and dead letters read from the
    dead-letter queue.
    """

    async def send(self, message: QueueMessage, *, group_id: str, dedup_id: str) -> bool:
        """Enqueue, visible at once; False when a message with `dedup_id` was sent within the
        dedup window (SQS: 5 minutes)."""
        ...

    async def receive(
        self, *, max_messages: int = 10, visibility_timeout: float = 30, wait_seconds: float = 0
    ) -> list[Delivery]:
        """At most one in-flight message per group; messages of a group come out in send order."""
        ...

    async def ack(self, delivery: Delivery) -> None:
        """Delete the message; a stale receipt (the message was redelivered) is ignored."""
        ...

    async def retry(self, delivery: Delivery, *, error: str, delay_seconds: float = 0) -> None:
        """Make the message visible again after `delay_seconds` (SQS ChangeMessageVisibility on
        the in-flight message), or dead-letter it if it has been received the configured
        maximum number of times."""
        ...

    async def extend_visibility(self, delivery: Delivery, *, seconds: float) -> bool:
        """Keep an in-flight message hidden for `seconds` from now (0 to 43200, SQS's 12 hours),
        the heartbeat of a handler that outlives its visibility timeout (SQS
        ChangeMessageVisibility). False, changing nothing, when the receipt is stale or the
        message is no longer in flight (acked, retried, or its visibility already ran out).
        SQS also caps the total at 12 hours from the receive: do not count on more."""
        ...

    async def dead_letters(self) -> list[DeadLetter]:
        """The messages in the dead-letter queue, oldest first: read there (SQS: a receive on
        the DLQ that leaves them in it), never from the source queue."""
        ...

    async def depth(self) -> int:
        """About how many messages are waiting or in flight (not dead-lettered): approximate,
        as SQS's ApproximateNumberOfMessages(+NotVisible). Use it for metrics and for waiting
        until a queue drains, never for a decision that must be exact."""
        ...


@runtime_checkable
class Scheduler(Protocol):
    """Durable timers that put their message on the EventQueue by themselves when due
    (EventBridge Scheduler): push-based, so nothing outside the adapter polls for due timers.

    Names fit `[0-9a-zA-Z-_.]{1,64}` (domain.messages.check_schedule_name); `put` raises
    ValueError for any other name, a bad period or an empty group_id, storing nothing. A due
    schedule's message goes to the queue with its `group_id` as the FIFO group, at least once
    per slot (the embedded adapter dedups by name and slot; on SQS the queue's content-based
    deduplication does); the handlers are idempotent per slot.
    """

    async def put(self, schedule: Schedule) -> None:
        """Create or replace the schedule named `schedule.name`."""
        ...

    async def get(self, name: str) -> Schedule | None: ...

    async def enable(self, name: str) -> None: ...

    async def disable(self, name: str) -> None:
        """Stop firing but keep the schedule."""
        ...

    async def delete(self, name: str) -> None: ...

    async def schedules(self, prefix: str = "") -> list[Schedule]: ...


@runtime_checkable
class Chat(Protocol):
    """The war-room surface: Slack in production, the built-in console otherwise."""

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        """Create a private channel. If `name` is taken by this incident's own channel, return
        that channel instead of failing (a retried assembly must never make a second one)."""
        ...

    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult: ...

    async def post(self, channel_id: str, message: ChatMessage) -> str:
        """Post and return the message id; idempotent per `message.key` within the channel."""
        ...

    async def update(self, channel_id: str, message_id: str, message: ChatMessage) -> None: ...

    async def pin(self, channel_id: str, message_id: str) -> None: ...

    async def set_topic(self, channel_id: str, topic: str) -> None: ...

    async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None: ...

    async def archive(self, channel_id: str) -> None: ...

    async def send_direct(self, user_id: str, message: ChatMessage) -> None:
        """A direct message to one person, for escalations outside the room."""
        ...

    async def user_id_for(self, person: Person) -> str | None:
        """The person's chat id, from the roster or a cached lookup by e-mail."""
        ...

    def mention(self, person: Person) -> str:
        """`person` as a message names them, so that the chat can notify them: a mention of
        their chat account (`person.chat_id`) where the chat has mentions, else their name.
        The core writes no chat markup of its own; this is where a mention is spelt."""
        ...


@runtime_checkable
class Directory(Protocol):
    """Who works here and in which team (WorkOS in production, the roster otherwise)."""

    async def person(self, email: str) -> Person | None: ...

    async def person_by_chat_id(self, chat_id: str) -> Person | None: ...

    async def team_members(self, team: str) -> list[Person]: ...

    async def team_for_service(self, service: str) -> str | None: ...

    async def people(self) -> list[Person]: ...

    async def approvers(self) -> frozenset[str]:
        """Lower-cased e-mails of the people who may approve any incident's status updates
        (besides its IC). Read live on every call: removing someone takes effect at once."""
        ...


@runtime_checkable
class OnCall(Protocol):
    """Who is on call for a service now (Grafana OnCall in production, the roster otherwise)."""

    async def shift(
        self, service: str, *, at: datetime, alert_group_id: str | None = None
    ) -> OnCallShift:
        """Primary and secondary for `service` at `at`. `alert_group_id` is the on-call
        system's own alert group behind the incident, when there is one: an adapter that pages
        through escalation chains (Grafana OnCall) answers from that group's chain; one that
        knows only rotations ignores it."""
        ...

    async def acknowledge(self, alert_group_id: str) -> bool:
        """Tell the on-call system someone is on the alert group, so its escalation stops
        paging further people. True when the group is acknowledged; False when there is
        nothing to acknowledge (a roster has no alert groups)."""
        ...


@runtime_checkable
class Telemetry(Protocol):
    """Metrics, logs, traces and deploys around an alert (Grafana Cloud in production)."""

    async def snapshot(self, incident: Incident, *, at: datetime) -> ContextSnapshot: ...


@runtime_checkable
class StatusPage(Protocol):
    """The public status page. Only the StatusUpdateGate may call `publish` (CI enforces it)."""

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        """Create the public incident (first update) or add an update to it."""
        ...

    async def find_published(self, key: str) -> PublishedUpdate | None:
        """The update published earlier with this key, if any (crash recovery)."""
        ...


@runtime_checkable
class IssueTracker(Protocol):
    """Where postmortems are filed (Linear in production, Markdown files otherwise)."""

    async def file_postmortem(
        self,
        *,
        key: str,
        title: str,
        body: str,
        severity: Severity | None = None,
        owner_email: str | None = None,
    ) -> FiledPostmortem:
        """File once per `key`; filing the same key again returns the first one.

        `severity` and `owner_email` (the IC) let a tracker set its own priority and assignee
        fields; a tracker without such fields may ignore them (the body names both)."""
        ...

    async def find_postmortem(self, key: str) -> FiledPostmortem | None: ...

    async def file_followup(
        self,
        *,
        postmortem_key: str,
        followup_id: str,
        title: str,
        body: str,
        owner_email: str | None = None,
    ) -> IssueRef:
        """File one follow-up of the postmortem `postmortem_key` once per `followup_id`; filing
        it again returns the first one. A tracker without issues of its own (the Markdown
        files) lists follow-ups in the postmortem and answers with their place there."""
        ...


@runtime_checkable
class CodeHost(Protocol):
    """Recent changes for the postmortem's deploy timeline, and who owns a service's code
    (GitHub in production)."""

    async def recent_changes(
        self, *, service: str, since: datetime, until: datetime
    ) -> list[Change]: ...

    async def owners(self, *, service: str) -> list[str]:
        """Suggested owners of the service's code (CODEOWNERS handles and e-mails), best
        first; [] when none are known. Only a suggestion for the war room: callers must not
        let a failure here hold anything up."""
        ...


class StatusContext(BaseModel):
    """The facts a status update may be drafted from: nothing else reaches the drafter."""

    model_config = ConfigDict(frozen=True)

    incident: Incident
    public_status: str
    previous_updates: tuple[str, ...] = ()


class PostmortemContext(BaseModel):
    model_config = ConfigDict(frozen=True)

    incident: Incident
    timeline: tuple[AuditRecord, ...]
    changes: tuple[Change, ...] = ()
    published_updates: tuple[str, ...] = ()


@runtime_checkable
class LLM(Protocol):
    """Drafts text for people to review; never publishes anything itself."""

    async def draft_status_update(self, context: StatusContext) -> str: ...

    async def draft_postmortem(self, context: PostmortemContext) -> str: ...

    async def is_status_update(self, text: str) -> bool:
        """Does this war-room message already tell customers or stakeholders where the incident
        stands (or say that they were told)? Such a message counts as an update for the nudge."""
        ...


class SecretValue(BaseModel):
    model_config = ConfigDict(frozen=True)

    value: str
    version: str
    previous: str | None = None  # the prior value, accepted while a rotation is under way


@runtime_checkable
class Secrets(Protocol):
    async def get(self, name: str, *, refresh: bool = False) -> SecretValue:
        """The secret's current value; `refresh` bypasses any cache (after a failed check)."""
        ...


class Generations(BaseModel):
    """A person's credential generations: a token or console session carries the generation it
    was issued at and stops being valid once the stored one moves on."""

    model_config = ConfigDict(frozen=True)

    email: str
    tokens: int = 0
    sessions: int = 0


class ConsoleSessionRecord(BaseModel):
    """A signed-in console session as stored: keyed by a hash of its id, never the id itself."""

    model_config = ConfigDict(frozen=True)

    key: str
    email: str
    generation: int
    issued_at: datetime
    expires_at: datetime


@runtime_checkable
class Credentials(Protocol):
    """Who may still use which personal token or console session.

    Shared by every process on the same data (the CLI writes, `serve` reads), so each call is one
    strongly consistent single-key read or one conditional write: DynamoDB can keep it.
    """

    async def generations(self, email: str) -> Generations:
        """The person's current generations; someone never rotated or revoked is at 0 and 0."""
        ...

    async def rotate_tokens(self, email: str) -> Generations:
        """Add one to the token generation, atomically: every earlier token stops working."""
        ...

    async def revoke(self, email: str) -> Generations:
        """Add one to both generations, atomically: every token and console session ends."""
        ...

    async def open_session(self, session: ConsoleSessionRecord) -> None:
        """Store a new session; raises AlreadyExists if its key is taken. Sessions past their
        `expires_at` may be deleted by any write."""
        ...

    async def session(self, key: str) -> ConsoleSessionRecord | None:
        """The session stored under `key`; None once ended or past its `expires_at`."""
        ...

    async def end_session(self, key: str) -> None:
        """Delete the session; ending one that is not there is fine (signing out twice)."""
        ...


@runtime_checkable
class Metrics(Protocol):
    """Operational counters and timings, recorded where the event happens (OpenTelemetry in
    `serve`, exported over OTLP and at `/metrics`). Recording is in memory and never raises,
    so it may sit on the incident path; labels carry no incident data beyond severity and
    outcome (docs/observability.md)."""

    def war_room_assembled(self, *, seconds: float, severity: str) -> None:
        """A room counted as assembled `seconds` after its first alert arrived."""
        ...

    def status_update_published(self, *, approval_seconds: float | None, severity: str) -> None:
        """An approved update reached the status page, `approval_seconds` after its approval."""
        ...

    def status_update_failed(self, *, severity: str) -> None:
        """The status page did not take an approved update (recovery publishes it later)."""
        ...

    def directory_lookup_failed(self, *, source: str) -> None:
        """The directory or the on-call system could not say who responds."""
        ...

    def incident_resolved(self, *, severity: str) -> None: ...

    def postmortem_created(self, *, severity: str) -> None: ...

    def nudge_sent(self, *, severity: str) -> None:
        """A reminder to update customers was posted in a war room."""
        ...


class NoMetrics:
    """Records nothing: the services' default, for tests and tools that build them alone."""

    def war_room_assembled(self, *, seconds: float, severity: str) -> None:
        return None

    def status_update_published(self, *, approval_seconds: float | None, severity: str) -> None:
        return None

    def status_update_failed(self, *, severity: str) -> None:
        return None

    def directory_lookup_failed(self, *, source: str) -> None:
        return None

    def incident_resolved(self, *, severity: str) -> None:
        return None

    def postmortem_created(self, *, severity: str) -> None:
        return None

    def nudge_sent(self, *, severity: str) -> None:
        return None


NO_METRICS: Metrics = NoMetrics()
