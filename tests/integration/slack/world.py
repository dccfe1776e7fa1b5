"""The whole service wired as the composition root wires it, with Slack (the fake) as the chat
and the Slack front end: what the end-to-end, storm and benchmark runs drive.

It mirrors `bootstrap.build` with SlackChat in place of the console, because the Slack choice is
the lead's to add there; see the Slack adapter's report for that wiring.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from slack_bolt.async_app import AsyncApp

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.codehost import NoCodeHost
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.postmortems import MarkdownIssueTracker
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.roster import Roster, RosterDirectory, RosterOnCall
from incident_response.adapters.embedded.scheduler import SqliteScheduler
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.adapters.embedded.telemetry import EmbeddedTelemetry
from incident_response.adapters.slack import (
    RateTable,
    ReplayGuard,
    SlackChat,
    SlackFront,
    SlackWebApi,
    build_app,
)
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.commands.context import CommandServices
from incident_response.commands.registry import CommandRegistry
from incident_response.domain.clock import Clock, SystemClock
from incident_response.events.alert_received import AlertReceived
from incident_response.events.alert_resolved import AlertResolved
from incident_response.events.incident_resolution import IncidentResolution
from incident_response.events.registry import EventRegistry
from incident_response.events.sla_check import SlaCheck
from incident_response.events.slack_interaction import SlackInteraction
from incident_response.events.status_update_nudge import StatusUpdateNudge
from incident_response.intake.service import AlertIntake
from incident_response.processor import Processor
from incident_response.services.incident_opener import IncidentOpener
from incident_response.services.nudges import NudgeScheduler
from incident_response.services.postmortem import PostmortemWriter
from incident_response.services.resolver import Resolver
from incident_response.services.sla import SlaMonitor
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.services.war_room import WarRoomAssembler
from tests.fakes.slack import FakeSlack

SIGNING_SECRET = "fake-signing-secret-for-tests"
BASE_URL = "http://incident-response.test"


async def owner_of(store: SqliteIncidentStore, channel_id: str) -> str | None:
    incident = await store.find_by_channel(channel_id)
    return incident.id if incident else None


@dataclass
class SlackWorld:
    slack: FakeSlack
    db: Database
    api: SlackWebApi
    chat: SlackChat
    store: SqliteIncidentStore
    audit: SqliteAuditLog
    queue: SqliteEventQueue
    status_page: BuiltinStatusPage
    directory: RosterDirectory
    intake: AlertIntake
    opener: IncidentOpener
    assembler: WarRoomAssembler
    gate: StatusUpdateGate
    commands: CommandRegistry
    processor: Processor
    front: SlackFront
    app: AsyncApp
    announcements: str = ""

    async def aclose(self) -> None:
        await self.processor.stop(grace_seconds=5)
        await self.chat.aclose()
        await self.api.aclose()


async def build_slack_world(
    *,
    slack: FakeSlack,
    db: Database,
    data_dir: Path,
    roster: Roster,
    rates: RateTable,
    clock: Clock | None = None,
    call_timeout_seconds: float = 10.0,
    reaction_emoji: str = "pushpin",
    processor_concurrency: int = 16,
) -> SlackWorld:
    clock = clock or SystemClock()
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    audit = await SqliteAuditLog(db=db, clock=clock).open()
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    scheduler = await SqliteScheduler(db=db, clock=clock).open()
    api = SlackWebApi(token=slack.bot_token, base_url=slack.api_url)

    async def room_owner(channel_id: str) -> str | None:
        return await owner_of(store, channel_id)

    chat = await SlackChat(api=api, room_owner=room_owner, rates=rates, clock=clock).open()
    directory, oncall = RosterDirectory(roster), RosterOnCall(roster)
    llm = BuiltinDrafter(clock=clock)
    status_page = BuiltinStatusPage(db, base_url=BASE_URL, clock=clock)
    intake = AlertIntake(store=store, queue=queue, clock=clock)
    opener = IncidentOpener(
        store=store, audit=audit, clock=clock, max_new_incidents_per_minute=100_000
    )
    gate = StatusUpdateGate(
        store=store,
        audit=audit,
        status_page=status_page,
        llm=llm,
        clock=clock,
        approvers=frozenset(a.lower() for a in roster.approvers),
    )
    common = {"store": store, "audit": audit, "chat": chat, "scheduler": scheduler}
    nudges = NudgeScheduler(**common, oncall=oncall, clock=clock)
    sla = SlaMonitor(**common, oncall=oncall, clock=clock)
    assembler = WarRoomAssembler(
        **common,
        directory=directory,
        oncall=oncall,
        telemetry=EmbeddedTelemetry(),
        clock=clock,
        nudges=nudges,
        sla=sla,
        call_timeout_seconds=call_timeout_seconds,
        status_page_url=status_page.url,
    )
    announcements = await chat.create_channel(name=roster.announcements_channel, incident_id="")
    resolver = Resolver(
        store=store,
        audit=audit,
        queue=queue,
        chat=chat,
        code_host=NoCodeHost(),
        issues=MarkdownIssueTracker(data_dir, base_url=BASE_URL),
        writer=PostmortemWriter(llm=llm, audit=audit),
        gate=gate,
        nudges=nudges,
        sla=sla,
        clock=clock,
        announcements_channel=announcements.id,
    )
    commands = CommandRegistry(
        services=CommandServices(
            store=store,
            audit=audit,
            chat=chat,
            directory=directory,
            gate=gate,
            reminders=nudges,
            resolver=resolver,
            clock=clock,
        )
    )
    events = EventRegistry(
        [
            AlertReceived(opener=opener, assembler=assembler),
            AlertResolved(opener=opener, resolver=resolver),
            StatusUpdateNudge(nudges=nudges),
            SlaCheck(sla=sla),
            IncidentResolution(resolver=resolver),
            SlackInteraction(
                commands=commands,
                gate=gate,
                store=store,
                audit=audit,
                directory=directory,
                chat=chat,
                surface=chat,
                clock=clock,
                reaction_emoji=reaction_emoji,
            ),
        ]
    )
    processor = Processor(
        queue=queue,
        registry=events,
        concurrency=processor_concurrency,
        poll_seconds=0.05,
        retry_base_delay=0.1,
    )
    front = SlackFront(queue=queue, store=store, chat=chat, reaction_emoji=reaction_emoji)
    app = build_app(
        front=front,
        web_client=api.web_client,
        signing_secret=SIGNING_SECRET,
        replay_guard=ReplayGuard(),
    )
    return SlackWorld(
        slack=slack,
        db=db,
        api=api,
        chat=chat,
        store=store,
        audit=audit,
        queue=queue,
        status_page=status_page,
        directory=directory,
        intake=intake,
        opener=opener,
        assembler=assembler,
        gate=gate,
        commands=commands,
        processor=processor,
        front=front,
        app=app,
        announcements=announcements.id,
    )
