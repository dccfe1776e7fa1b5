"""The composition root: the one place adapters are chosen and services are wired.

Nothing here runs at import. `build()` reads validated Settings and returns a Container; each
integration whose settings are present gets its production adapter, every other port gets the
embedded default's.
"""

from __future__ import annotations

import asyncio
import functools
import secrets as random_secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import TypeVar

from opentelemetry.sdk.metrics.export import MetricReader
from pydantic import SecretStr
from slack_bolt.async_app import AsyncApp

from incident_response import integrations, signing_keys
from incident_response.adapters.console.chat import ConsoleChat
from incident_response.adapters.embedded import data_dir
from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.codehost import NoCodeHost
from incident_response.adapters.embedded.credentials import SqliteCredentials
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.maintenances import SqliteMaintenances
from incident_response.adapters.embedded.postmortems import MarkdownIssueTracker
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.roster import (
    Roster,
    RosterDirectory,
    RosterError,
    RosterOnCall,
    write_sample_roster,
)
from incident_response.adapters.embedded.scheduler import SqliteScheduler
from incident_response.adapters.embedded.secrets import (
    AUDIT_KEY_FILE,
    WEBHOOK_SECRET,
    EnvSecrets,
    ensure_webhook_secret,
)
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.adapters.embedded.subscribers import SqliteSubscribers
from incident_response.adapters.embedded.telemetry import EmbeddedTelemetry
from incident_response.adapters.slack.chat import SlackChat
from incident_response.adapters.slack.client import SlackWebApi
from incident_response.adapters.slack.front import SlackFront, SocketMode, build_app
from incident_response.adapters.slack.interactions import SlackInteraction
from incident_response.adapters.slack.pacing import RateTable
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.adapters.webhooks.sender import HttpWebhookSender
from incident_response.commands.context import CommandServices
from incident_response.commands.registry import OUTSIDE_INCIDENTS, CommandRegistry
from incident_response.config import ConfigurationError, Settings
from incident_response.domain.audit import ALL_CHAINS, AuditKey, ChainBreak, ChainReport
from incident_response.domain.checklist import DEFAULT_CHECKLISTS
from incident_response.domain.clock import Clock, SystemClock
from incident_response.domain.routing import Routing, parse_routing
from incident_response.events.alert_received import AlertReceived
from incident_response.events.alert_resolved import AlertResolved
from incident_response.events.incident_declared import IncidentDeclared
from incident_response.events.incident_resolution import IncidentResolution
from incident_response.events.registry import EventHandler, EventRegistry
from incident_response.events.sla_check import SlaCheck
from incident_response.events.status_update_nudge import StatusUpdateNudge
from incident_response.events.status_update_published import StatusUpdatePublished
from incident_response.events.status_webhook_delivery import StatusWebhookDelivery
from incident_response.http import OutboundHttp
from incident_response.intake.auth import WebhookVerifier
from incident_response.intake.service import AlertIntake
from incident_response.ports import (
    LLM,
    AuditLog,
    Chat,
    CodeHost,
    Credentials,
    Directory,
    EventQueue,
    IncidentStore,
    IssueTracker,
    OnCall,
    Scheduler,
    Secrets,
    StatusPage,
    Telemetry,
)
from incident_response.processor import Processor
from incident_response.services.alert_split import AlertSplitter
from incident_response.services.audit_verification import verify_audit_trail
from incident_response.services.authority import Authority
from incident_response.services.checklist_on_raise import ChecklistOnRaise
from incident_response.services.checklist_ticks import ChecklistTicks
from incident_response.services.declaration import Declarations
from incident_response.services.draft_announcer import DraftAnnouncer
from incident_response.services.draft_lines import DraftLines, FirstUpdateTicks
from incident_response.services.incident_opener import NOT_OPENED, IncidentOpener
from incident_response.services.maintenance import MaintenanceDesk
from incident_response.services.nudges import NudgeScheduler
from incident_response.services.postmortem import PostmortemWriter
from incident_response.services.postmortem_copy import PostmortemWithCopy
from incident_response.services.postmortem_drafts import PostmortemDrafts
from incident_response.services.resolver import Resolver
from incident_response.services.severity_escalation import SeverityEscalation
from incident_response.services.sla import SlaMonitor
from incident_response.services.status_subscriptions import StatusSubscriptions
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.services.status_update_notes import StatusUpdateNotes
from incident_response.services.storm_room import StormRoom
from incident_response.services.war_room import RetryPolicy, StepDeadline, WarRoomAssembler
from incident_response.telemetry.logging import get_logger
from incident_response.telemetry.otel import (
    QUEUE_SAMPLE_SECONDS,
    Observability,
    build_observability,
)
from incident_response.tokens import issue
from incident_response.upkeep import Periodic, Upkeep, upkeep_jobs

log = get_logger(__name__)

# how long shutdown lets a war room's topic, bookmarks and repairs finish
BESIDE_GRACE_SECONDS = 5.0

P = TypeVar("P")


@dataclass(frozen=True)
class Overrides:
    """Explicit seams for callers that need more than settings. Each port wrapper receives the
    adapter `build` chose and returns what every service gets instead (a test wraps the real
    adapter to count calls or inject a crash, or puts another backend in its place); every port
    has one, storage included. The rest are knobs that are not settings, with the services'
    defaults; `slack_rates` are the limits a Slack-compatible server other than Slack enforces
    (a fake whose minutes are shortened)."""

    store: Callable[[IncidentStore], IncidentStore] | None = None
    audit: Callable[[AuditLog], AuditLog] | None = None
    queue: Callable[[EventQueue], EventQueue] | None = None
    scheduler: Callable[[Scheduler], Scheduler] | None = None
    secrets: Callable[[Secrets], Secrets] | None = None
    credentials: Callable[[Credentials], Credentials] | None = None
    chat: Callable[[Chat], Chat] | None = None
    directory: Callable[[Directory], Directory] | None = None
    oncall: Callable[[OnCall], OnCall] | None = None
    status_page: Callable[[StatusPage], StatusPage] | None = None
    issue_tracker: Callable[[IssueTracker], IssueTracker] | None = None
    code_host: Callable[[CodeHost], CodeHost] | None = None
    llm: Callable[[LLM], LLM] | None = None
    telemetry: Callable[[Telemetry], Telemetry] | None = None
    assembly_retry: RetryPolicy | None = None
    assembly_sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    assembly_call_timeout_seconds: float | None = None  # default: 10 s, 180 s with Slack
    slack_rates: RateTable | None = None
    # more readers of the container's metrics (a test's InMemoryMetricReader)
    metric_readers: tuple[MetricReader, ...] = ()


def _wrap(wrapper: Callable[[P], P] | None, adapter: P) -> P:
    return adapter if wrapper is None else wrapper(adapter)


def _chosen(production: dict[str, integrations.Contribution]) -> integrations.Contribution:
    """The production adapter of each port, merged from every enabled integration (each port
    has at most one: config refuses two LLMs, and the others serve distinct ports)."""
    merged = integrations.Contribution()
    for contribution in production.values():
        for port in (
            "directory",
            "oncall",
            "telemetry",
            "status_page",
            "issue_tracker",
            "code_host",
            "llm",
            "store",
            "audit",
            "queue",
            "scheduler",
            "secrets",
            "credentials",
            "webhook_secret_name",
        ):
            adapter = getattr(contribution, port)
            if adapter is not None:
                setattr(merged, port, adapter)
    return merged


def status_page_address(
    production: StatusPage | None, *, builtin_url: str
) -> str | Callable[[], Awaitable[str | None]] | None:
    """What war rooms bookmark as the status page: the page customers actually read. The
    built-in page's URL when it publishes; a hosted page's address as its adapter reads it
    (none, rather than the built-in page customers are not shown, when it cannot)."""
    if production is None:
        return builtin_url
    if isinstance(production, integrations.PublicAddress):
        return production.public_url
    return None


@dataclass
class SlackRuntime:
    """The Slack side of the process: the Web API client, the adapter, the Bolt app, and the
    Socket Mode connection when an app token is configured (HTTP mode otherwise)."""

    api: SlackWebApi
    chat: SlackChat
    app: AsyncApp
    socket_mode: SocketMode | None

    async def aclose(self) -> None:
        await self.chat.aclose()
        await self.api.aclose()


@dataclass
class Container:
    """Everything `serve` runs, built once."""

    settings: Settings
    clock: Clock
    base_url: str
    db: Database
    roster: Roster
    store: IncidentStore
    audit: AuditLog
    queue: EventQueue
    scheduler: Scheduler
    chat: Chat
    console_chat: ConsoleChat
    directory: Directory
    authority: Authority
    oncall: OnCall
    status_page: BuiltinStatusPage
    issue_tracker: MarkdownIssueTracker
    llm: LLM
    code_host: CodeHost
    telemetry: Telemetry
    secrets: Secrets
    intake: AlertIntake
    verifier: WebhookVerifier
    opener: IncidentOpener
    assembler: WarRoomAssembler
    gate: StatusUpdateGate
    nudges: NudgeScheduler
    sla: SlaMonitor
    resolver: Resolver
    postmortem_drafts: PostmortemDrafts
    commands: CommandRegistry
    events: EventRegistry
    processor: Processor
    upkeep: Upkeep
    token_key: bytes
    credentials: Credentials
    http: OutboundHttp
    production: dict[str, integrations.Contribution]
    draft_announcer: DraftAnnouncer
    declarations: Declarations
    webhook_secret_file: Path | None = None
    slack: SlackRuntime | None = None
    # background work of the embedded adapters (the scheduler's firing loop), ended by aclose
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # the production storage backends readiness checks instead of SQLite, by integration
    backends: dict[str, list[Callable[[], Awaitable[object]]]] = field(default_factory=dict)
    # the status page's webhook subscribers (issue 12, point 9)
    subscriptions: StatusSubscriptions | None = None
    maintenance: MaintenanceDesk | None = None
    # metrics (issue 13): what /metrics renders and OTLP exports
    observability: Observability | None = None

    async def readiness(self) -> dict[str, str]:
        checks: dict[str, str] = {}
        if "dynamodb" not in self.backends:  # the incidents live in SQLite
            try:
                await self.db.fetchone("SELECT 1")
                checks["database"] = "ok"
            except Exception as exc:
                checks["database"] = f"failed: {exc}"
        for name, probes in self.backends.items():
            checks[name] = await _backend_check(probes)
        # a full or read-only volume still answers reads: writing is what intake needs
        problem = await asyncio.to_thread(data_dir.unwritable, self.settings.data_dir)
        checks["data_dir"] = "ok" if problem is None else f"failed: {problem}"
        return checks

    async def aclose(self) -> None:
        for close in self.closers:
            await close()
        await self.assembler.settle(grace_seconds=BESIDE_GRACE_SECONDS)
        if self.observability is not None:
            await self.observability.shutdown()
        if self.slack is not None:
            await self.slack.aclose()
        for contribution in self.production.values():
            for close in contribution.closers:
                await close()
        await self.http.aclose()
        await self.db.close()


# how long readiness waits for one AWS backend's answer
BACKEND_CHECK_SECONDS = 5.0
_STORAGE_PORTS = ("store", "audit", "queue", "scheduler", "secrets", "credentials")


async def _backend_check(checks: list[Callable[[], Awaitable[object]]]) -> str:
    """Whether every check of one backend answers in time ("ok"), else what failed."""
    for check in checks:
        try:
            await asyncio.wait_for(check(), BACKEND_CHECK_SECONDS)
        except TimeoutError:
            return f"failed: no answer within {BACKEND_CHECK_SECONDS:g} s"
        except Exception as exc:
            return f"failed: {exc}"
    return "ok"


def _backends(
    production: dict[str, integrations.Contribution],
) -> dict[str, list[Callable[[], Awaitable[object]]]]:
    """Readiness checks of each production storage backend, by integration: the adapters'
    probes, except for Secrets Manager, read as the verifier reads it (the webhook secret,
    cached; its probe lists secrets, which the service's role need not be allowed)."""
    found: dict[str, list[Callable[[], Awaitable[object]]]] = {}
    for name, contribution in production.items():
        checks: list[Callable[[], Awaitable[object]]] = []
        secrets, secret_name = contribution.secrets, contribution.webhook_secret_name
        if secrets is not None and secret_name is not None:
            checks.append(functools.partial(secrets.get, secret_name))
        probed: list[object] = []
        for port in _STORAGE_PORTS:
            adapter = getattr(contribution, port)
            if port == "secrets" or adapter in probed:
                continue
            if isinstance(adapter, integrations.Probe):
                probed.append(adapter)
                checks.append(adapter.probe)
        if checks:
            found[name] = checks
    return found


def _secret(value: SecretStr | None) -> SecretStr:
    if value is None:  # settings.enabled() checked the integration's required variables
        raise ConfigurationError("a required secret is missing")
    return value


def check_startup(settings: Settings) -> list[str]:
    """What would stop `serve` from starting with these settings, without creating anything:
    `config check` reports exactly these."""
    problems: list[str] = []
    folder = settings.data_dir
    if folder.exists() and not folder.is_dir():
        problems.append(f"data dir {folder} is a file, not a directory")
    elif folder.is_dir() and (problem := data_dir.unwritable(folder)) is not None:
        problems.append(problem)
    if settings.roster_path.exists():
        try:
            Roster.load(settings.roster_path)
        except RosterError as exc:
            problems.append(str(exc))
    problems += signing_keys.unshared_keys(settings)
    return problems


def prepare_data_dir(settings: Settings) -> Roster:
    """First start: create the data dir (private) and a sample roster; then load (and validate)
    the roster. A data dir that cannot be used stops here, saying why."""
    try:
        data_dir.prepare(settings.data_dir, settings.database_path)
    except data_dir.DataDirError as exc:
        raise ConfigurationError(str(exc)) from None
    write_sample_roster(settings.roster_path)
    try:
        return Roster.load(settings.roster_path)
    except RosterError as exc:
        raise ConfigurationError(str(exc)) from None


def _routing(settings: Settings, roster: Roster) -> Callable[[], Routing]:
    """The routing rules: INCIDENT_RESPONSE_ROUTING when set, else the roster's `routing:`
    (read live, like its approvers), else the shipped default (docs/routing.md)."""
    configured = settings.incident_response_routing
    if configured is not None and configured.strip():
        fixed = settings.routing
        return lambda: fixed
    default = parse_routing(None)

    def live() -> Routing:
        found = roster.routing()
        return default if found is None else found

    return live


async def build(
    settings: Settings,
    *,
    base_url: str,
    clock: Clock | None = None,
    overrides: Overrides | None = None,
) -> Container:
    overrides = overrides or Overrides()
    clock = clock or SystemClock()
    roster = prepare_data_dir(settings)
    webhook_secret_file = None
    if settings.incident_response_webhook_secret is None and not settings.enabled(
        "secrets-manager"
    ):
        webhook_secret_file = ensure_webhook_secret(settings.data_dir)
    base_url = (settings.incident_response_base_url or base_url).rstrip("/")

    # approvers are read live from the roster on every decision; the settings' are added
    roster_directory: Directory = RosterDirectory(roster, approvers=settings.approvers)
    roster_oncall: OnCall = RosterOnCall(roster)
    drafter: LLM = BuiltinDrafter(clock=clock)
    http = OutboundHttp(default_timeout=settings.incident_response_http_call_timeout_seconds)
    production = await integrations.contributions(
        integrations.Wiring(
            settings=settings,
            http=http,
            clock=clock,
            directory=roster_directory,
            oncall=roster_oncall,
            drafter=drafter,
        )
    )
    chosen = _chosen(production)
    # shared by every replica: a setting, the production Secrets, or (embedded) the data dir
    token_key = await signing_keys.token_key(settings, chosen.secrets)

    # the embedded adapters only for the ports no production backend serves
    db = await Database(settings.database_path).open()
    if chosen.store is None:
        chosen.store = await SqliteIncidentStore(db=db, clock=clock).open()
    store = _wrap(overrides.store, chosen.store)
    if chosen.audit is None:
        audit_key = await signing_keys.audit_key(settings, chosen.secrets)
        assert audit_key is not None  # created, or ConfigurationError
        sqlite_audit = await SqliteAuditLog(db=db, clock=clock, key=audit_key).open()
        if not await sqlite_audit.key_matches():
            log.warning(
                "audit.key_mismatch",
                hint="the audit log was sealed with another key (or its chain count was "
                "tampered with); records written now will not verify together with the older "
                "ones. Check INCIDENT_RESPONSE_AUDIT_KEY and run `incident-response audit "
                "verify`.",
            )
        chosen.audit = sqlite_audit
    audit = _wrap(overrides.audit, chosen.audit)
    if chosen.queue is None:
        chosen.queue = await SqliteEventQueue(
            db=db, clock=clock, max_receives=settings.incident_response_queue_max_receives
        ).open()
    queue = _wrap(overrides.queue, chosen.queue)
    observability = build_observability(settings, queue=queue, readers=overrides.metric_readers)
    metrics = observability.metrics
    # the embedded timers fire into the queue by themselves (as EventBridge Scheduler does);
    # with EventBridge selected there is no firing loop here at all
    timers: SqliteScheduler | None = None
    if chosen.scheduler is None:
        timers = await SqliteScheduler(db=db, clock=clock, queue=queue).open()
        chosen.scheduler = timers
    scheduler = _wrap(overrides.scheduler, chosen.scheduler)
    console_chat = ConsoleChat(db, base_url=base_url, clock=clock)
    status_page = BuiltinStatusPage(
        db,
        base_url=base_url,
        clock=clock,
        page_name=settings.incident_response_status_page_name,
        logo_url=settings.incident_response_status_page_logo_url,
        home_url=settings.incident_response_status_page_home_url,
    )
    directory = _wrap(overrides.directory, chosen.directory or roster_directory)
    authority = Authority(directory=directory)
    oncall = _wrap(overrides.oncall, chosen.oncall or roster_oncall)
    slack_api: SlackWebApi | None = None
    chat: Chat = console_chat
    if settings.enabled("slack"):
        slack_api = SlackWebApi(
            token=_secret(settings.slack_bot_token), base_url=settings.slack_api_url
        )

        async def room_owner(channel_id: str) -> str | None:
            incident = await store.find_by_channel(channel_id)
            return incident.id if incident is not None else None

        slack_chat = await SlackChat(
            api=slack_api, room_owner=room_owner, rates=overrides.slack_rates, clock=clock
        ).open()
        chat = slack_chat
    chat = _wrap(overrides.chat, chat)
    issue_tracker = MarkdownIssueTracker(settings.data_dir, base_url=base_url)
    embedded_telemetry: Telemetry = EmbeddedTelemetry()
    markdown_issues: IssueTracker = issue_tracker
    builtin_page: StatusPage = status_page
    no_code_host: CodeHost = NoCodeHost()
    telemetry = _wrap(overrides.telemetry, chosen.telemetry or embedded_telemetry)
    filed_in: IssueTracker = markdown_issues
    for name, contribution in production.items():
        if contribution.issue_tracker is not None:
            filed_in = PostmortemWithCopy(
                tracker=contribution.issue_tracker,
                copies=markdown_issues,
                tracker_name=name.title(),
            )
    issues = _wrap(overrides.issue_tracker, filed_in)
    published = _wrap(overrides.status_page, chosen.status_page or builtin_page)
    llm = _wrap(overrides.llm, chosen.llm or drafter)
    code_host = _wrap(overrides.code_host, chosen.code_host or no_code_host)
    env_secrets: Secrets = EnvSecrets(settings.secret_values(), data_dir=settings.data_dir)
    secrets = _wrap(overrides.secrets, chosen.secrets or env_secrets)

    intake = AlertIntake(
        store=store,
        queue=queue,
        clock=clock,
        severity_map=settings.severity_map,
        grouping_labels=settings.grouping_labels,
    )
    verifier = WebhookVerifier(
        secrets=secrets, clock=clock, secret_name=chosen.webhook_secret_name or WEBHOOK_SECRET
    )
    opener = IncidentOpener(
        store=store,
        audit=audit,
        clock=clock,
        grouping_labels=settings.grouping_labels,
        storm_window_seconds=settings.incident_response_storm_window_seconds,
        max_new_incidents_per_minute=settings.incident_response_max_new_incidents_per_minute,
        routing=_routing(settings, roster),
    )
    subscriptions = StatusSubscriptions(
        store=SqliteSubscribers(db),
        queue=queue,
        sender=HttpWebhookSender(http),
        authority=authority,
        clock=clock,
        page={
            "name": settings.incident_response_status_page_name,
            "url": settings.incident_response_status_page_url or status_page.url,
        },
        # the queue dead-letters a message at its maximum: give up (and record it) before
        max_tries=min(
            settings.incident_response_status_webhook_max_tries,
            settings.incident_response_queue_max_receives,
        ),
        allow_private=settings.incident_response_status_webhook_allow_private,
    )
    # ticks and the pinned checklist's edit, for the gate's first-update tick and a raise
    checklist_ticks = ChecklistTicks(store=store, audit=audit, chat=chat, clock=clock)
    gate = StatusUpdateGate(
        store=store,
        audit=audit,
        status_page=published,
        llm=llm,
        clock=clock,
        authority=authority,
        components=settings.status_page_components,
        observers=(
            DraftLines(store=store, chat=chat, directory=directory, base_url=base_url),
            FirstUpdateTicks(
                store=store,
                ticks=checklist_ticks,
            ),
        ),
        chat=chat,
        on_published=subscriptions,
        metrics=metrics,
    )
    maintenance = MaintenanceDesk(
        store=SqliteMaintenances(db), gate=gate, audit=audit, authority=authority, clock=clock
    )
    nudges = NudgeScheduler(
        store=store,
        audit=audit,
        chat=chat,
        scheduler=scheduler,
        oncall=oncall,
        clock=clock,
        interval_seconds=settings.incident_response_nudge_interval_seconds,
        metrics=metrics,
    )
    sla = SlaMonitor(
        store=store, audit=audit, chat=chat, scheduler=scheduler, oncall=oncall, clock=clock
    )
    checklists = DEFAULT_CHECKLISTS  # the same templates for assembly and a raised severity
    assembler = WarRoomAssembler(
        store=store,
        audit=audit,
        chat=chat,
        directory=directory,
        oncall=oncall,
        telemetry=telemetry,
        scheduler=scheduler,
        clock=clock,
        nudges=nudges,
        sla=sla,
        checklists=checklists,
        retry=overrides.assembly_retry,
        step_deadline=StepDeadline(
            seconds=settings.incident_response_assembly_step_deadline_seconds
        ),
        sleep=overrides.assembly_sleep,
        # paced Slack calls may queue behind rate-limit tokens in a storm: give them room
        call_timeout_seconds=overrides.assembly_call_timeout_seconds
        or (180.0 if slack_api is not None else 10.0),
        status_page_url=settings.incident_response_status_page_url
        or status_page_address(chosen.status_page, builtin_url=status_page.url),
        code_host=code_host,
        acknowledge_alert_groups=bool(settings.incident_response_oncall_acknowledge),
        metrics=metrics,
    )
    announcements_channel = settings.incident_response_announcements_channel
    if announcements_channel is None and slack_api is None:
        announcements = await console_chat.create_channel(
            name=roster.announcements_channel, incident_id=""
        )
        announcements_channel = announcements.id
    writer = PostmortemWriter(llm=llm, audit=audit)
    resolver = Resolver(
        store=store,
        audit=audit,
        queue=queue,
        chat=chat,
        code_host=code_host,
        issues=issues,
        writer=writer,
        gate=gate,
        nudges=nudges,
        sla=sla,
        clock=clock,
        announcements_channel=announcements_channel,
        metrics=metrics,
    )
    status_notes = StatusUpdateNotes(llm=llm, nudges=nudges, audit=audit)
    declarations = Declarations(
        store=store,
        audit=audit,
        queue=queue,
        directory=directory,
        authority=authority,
        clock=clock,
    )
    commands = CommandRegistry(
        services=CommandServices(
            store=store,
            audit=audit,
            chat=chat,
            directory=directory,
            authority=authority,
            gate=gate,
            reminders=nudges,
            resolver=resolver,
            clock=clock,
            status_notes=status_notes,
            declarations=declarations,
            splitter=AlertSplitter(
                store=store,
                audit=audit,
                clock=clock,
                grouping_labels=settings.grouping_labels,
                assembler=assembler,
            ),
            escalation=SeverityEscalation(
                store=store,
                audit=audit,
                chat=chat,
                directory=directory,
                oncall=oncall,
                clock=clock,
            ),
            maintenance=maintenance,
            checklist_on_raise=ChecklistOnRaise(
                audit=audit,
                ticks=checklist_ticks,
                clock=clock,
                templates=checklists,
            ),
        )
    )
    handlers: list[EventHandler] = [
        AlertReceived(
            opener=opener, assembler=assembler, storm_room=StormRoom(store=store, chat=chat)
        ),
        AlertResolved(opener=opener, resolver=resolver),
        StatusUpdateNudge(nudges=nudges),
        SlaCheck(sla=sla),
        IncidentResolution(resolver=resolver),
        IncidentDeclared(store=store, assembler=assembler),
        StatusUpdatePublished(subscriptions=subscriptions),
        StatusWebhookDelivery(subscriptions=subscriptions),
    ]
    if slack_api is not None:
        handlers.append(
            SlackInteraction(
                commands=commands,
                gate=gate,
                store=store,
                audit=audit,
                directory=directory,
                chat=slack_chat,
                surface=slack_chat,
                clock=clock,
                reaction_emoji=settings.incident_response_slack_timeline_emoji,
                status_notes=status_notes,
                declarations=declarations,
            )
        )
    events = EventRegistry(handlers)
    slack: SlackRuntime | None = None
    if slack_api is not None:
        front = SlackFront(
            queue=queue,
            store=store,
            chat=slack_chat,
            reaction_emoji=settings.incident_response_slack_timeline_emoji,
        )
        app = build_app(
            front=front,
            web_client=slack_api.web_client,
            signing_secret=_secret(settings.slack_signing_secret),
        )
        socket_mode = (
            SocketMode(app, app_token=_secret(settings.slack_app_token))
            if settings.slack_app_token is not None
            else None
        )
        slack = SlackRuntime(api=slack_api, chat=slack_chat, app=app, socket_mode=socket_mode)
    upkeep = Upkeep(
        clock=clock,
        jobs=upkeep_jobs(
            gate=gate,
            assembler=assembler,
            intake=intake,
            resolver=resolver,
            declarations=declarations,
        ),
    )
    upkeep.jobs.append(
        Periodic(timedelta(seconds=QUEUE_SAMPLE_SECONDS), observability.sample_queue)
    )
    # personal tokens and console sessions: revocation state the CLI's process writes too
    if chosen.credentials is None:
        chosen.credentials = await SqliteCredentials(db=db, clock=clock).open()
    credentials = _wrap(overrides.credentials, chosen.credentials)
    if timers is not None:
        timers.start()  # last: a build that failed earlier leaves no loop running
    return Container(
        settings=settings,
        clock=clock,
        base_url=base_url,
        db=db,
        roster=roster,
        store=store,
        audit=audit,
        queue=queue,
        scheduler=scheduler,
        chat=chat,
        console_chat=console_chat,
        directory=directory,
        authority=authority,
        oncall=oncall,
        status_page=status_page,
        issue_tracker=issue_tracker,
        llm=llm,
        code_host=code_host,
        telemetry=telemetry,
        secrets=secrets,
        intake=intake,
        verifier=verifier,
        opener=opener,
        assembler=assembler,
        gate=gate,
        nudges=nudges,
        sla=sla,
        resolver=resolver,
        # drafts on request (agents, the API): written like the resolver's, filed nowhere
        postmortem_drafts=PostmortemDrafts(
            store=store, writer=writer, code_host=code_host, files=issue_tracker, clock=clock
        ),
        commands=commands,
        events=events,
        upkeep=upkeep,
        processor=Processor(
            queue=queue,
            registry=events,
            tick=upkeep.tick,
            concurrency=settings.incident_response_processor_concurrency,
            visibility_timeout=settings.incident_response_queue_visibility_timeout_seconds,
        ),
        token_key=token_key,
        credentials=credentials,
        http=http,
        production=production,
        draft_announcer=DraftAnnouncer(store=store, chat=chat),
        declarations=declarations,
        webhook_secret_file=webhook_secret_file,
        slack=slack,
        closers=[timers.aclose] if timers is not None else [],
        backends=_backends(production),
        subscriptions=subscriptions,
        maintenance=maintenance,
        observability=observability,
    )


async def issue_token(
    settings: Settings,
    email: str,
    *,
    rotate: bool = False,
    lifetime: timedelta | None = None,
    clock: Clock | None = None,
) -> str:
    """A personal API token for someone in the roster (LookupError if they are not in it),
    at their current token generation; `rotate` first ends every token issued before. Signed
    with the key `serve` uses (signing_keys: a setting, Secrets Manager, or the data dir)."""
    clock = clock or SystemClock()
    person_email = await _roster_email(settings, email)
    async with _cli_integrations(settings, clock, ("secrets-manager",)) as found:
        key = await signing_keys.token_key(settings, found.secrets)
    async with _credentials(settings, clock) as credentials:
        if rotate:
            generations = await credentials.rotate_tokens(person_email)
        else:
            generations = await credentials.generations(person_email)
    return issue(
        person_email, key, generation=generations.tokens, issued_at=clock.now(), lifetime=lifetime
    )


async def revoke_tokens(settings: Settings, email: str) -> str:
    """End every token and console session of someone in the roster (LookupError if not);
    returns their e-mail as the roster spells it."""
    person_email = await _roster_email(settings, email)
    async with _credentials(settings, SystemClock()) as credentials:
        await credentials.revoke(person_email)
    return person_email


async def _roster_email(settings: Settings, email: str) -> str:
    roster = prepare_data_dir(settings)
    person = await RosterDirectory(roster).person(email)
    if person is None:
        raise LookupError(f"{email} is not in the roster {settings.roster_path}")
    return person.email


@asynccontextmanager
async def _cli_integrations(
    settings: Settings, clock: Clock, names: tuple[str, ...], *, audit_key: AuditKey | None = None
) -> AsyncIterator[integrations.Contribution]:
    """The adapters of those of `names` that are enabled, for a CLI command (no serve, no
    SQLite), merged by port; none enabled gives an empty Contribution."""
    http = OutboundHttp(default_timeout=settings.incident_response_http_call_timeout_seconds)
    roster = Roster(settings.roster_path)
    wiring = integrations.Wiring(
        settings=settings,
        http=http,
        clock=clock,
        directory=RosterDirectory(roster),
        oncall=RosterOnCall(roster),
        drafter=BuiltinDrafter(clock=clock),
        audit_key=audit_key,
    )
    try:
        built = await integrations.contributions(wiring, only=names)
        try:
            yield _chosen(built)
        finally:
            for contribution in built.values():
                for close in contribution.closers:
                    await close()
    finally:
        await http.aclose()


@asynccontextmanager
async def _credentials(settings: Settings, clock: Clock) -> AsyncIterator[Credentials]:
    """The Credentials `serve` uses with these settings, from this (CLI) process: DynamoDB's
    when it is selected, else the data dir's SQLite."""
    if settings.enabled("dynamodb"):
        unused_key = AuditKey(random_secrets.token_bytes(32))  # credentials write no audit
        async with _cli_integrations(
            settings, clock, ("dynamodb",), audit_key=unused_key
        ) as contribution:
            assert contribution.credentials is not None  # the DynamoDB factory builds them
            yield contribution.credentials
        return
    db = await Database(settings.database_path).open()
    try:
        yield await SqliteCredentials(db=db, clock=clock).open()
    finally:
        await db.close()


async def verify_audit(settings: Settings, incident_id: str | None = None) -> ChainReport:
    """Verify the audit log with the key `serve` uses, cross-checked with the stored incidents.
    Without any key nothing verifies: every chain is reported, and so is the missing key.
    With DynamoDB selected, its tables are verified (and the data dir's SQLite is not read)."""
    clock = SystemClock()
    async with _cli_integrations(settings, clock, ("secrets-manager",)) as found:
        key = await signing_keys.audit_key(settings, found.secrets, create=False)
    used_key = key or AuditKey(random_secrets.token_bytes(32))
    if settings.enabled("dynamodb"):
        async with _cli_integrations(
            settings, clock, ("dynamodb",), audit_key=used_key
        ) as contribution:
            assert contribution.store is not None
            assert contribution.audit is not None
            report = await verify_audit_trail(
                store=contribution.store,
                audit=contribution.audit,
                not_incidents={OUTSIDE_INCIDENTS, NOT_OPENED},
                incident_id=incident_id,
            )
    else:
        if not settings.database_path.exists():
            return ChainReport()
        db = await Database(settings.database_path).open()
        try:
            audit = await SqliteAuditLog(db=db, clock=clock, key=used_key).open()
            store = await SqliteIncidentStore(db=db, clock=clock).open()
            report = await verify_audit_trail(
                store=store,
                audit=audit,
                not_incidents={OUTSIDE_INCIDENTS, NOT_OPENED},
                incident_id=incident_id,
            )
        finally:
            await db.close()
    if key is None and not report.ok:
        where = (
            "INCIDENT_RESPONSE_AUDIT_KEY is unset and no audit-key secret was found"
            if signing_keys.shared_state(settings)
            else "INCIDENT_RESPONSE_AUDIT_KEY is unset and "
            f"{settings.data_dir / AUDIT_KEY_FILE} does not exist"
        )
        report.breaks.insert(0, ChainBreak(ALL_CHAINS, 0, f"no audit key: {where}"))
    return report
