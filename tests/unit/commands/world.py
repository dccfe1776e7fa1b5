"""The application as the composition root builds it (`bootstrap.build`) on a temporary data
dir with the manual clock, and helpers for the command and resolver tests. Nothing faked."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from incident_response.adapters.console.chat import ConsoleChat
from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.postmortems import MarkdownIssueTracker
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.roster import RosterDirectory, RosterOnCall
from incident_response.adapters.embedded.scheduler import SqliteScheduler
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.bootstrap import Container, Overrides, build
from incident_response.commands.context import CommandContext, CommandReply, CommandServices
from incident_response.commands.registry import CommandRegistry
from incident_response.config import load_settings
from incident_response.domain.alert import AlertEventKind, AlertSource, Severity
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord
from incident_response.domain.checklist import checklist_for
from incident_response.domain.incident import (
    AttachedAlert,
    ChannelRef,
    Incident,
    IncidentStatus,
    Responder,
)
from incident_response.events.incident_resolution import IncidentResolution
from incident_response.events.registry import EventRegistry
from incident_response.ports import LLM, Chat, CodeHost, IncidentStore, IssueTracker
from incident_response.services.nudges import NudgeScheduler
from incident_response.services.postmortem import PostmortemWriter
from incident_response.services.resolver import DraftMaker, Resolver
from incident_response.services.sla import SlaMonitor
from incident_response.services.status_update_gate import StatusUpdateGate
from tests.support.clock import ManualClock

BASE_URL = "http://incident-response.test"

ROSTER = """\
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: UALICE1}
  - {name: Bob Okafor, email: bob@example.com, chat_id: UBOB2}
  - {name: Carol Nguyen, email: carol@example.com}
  - {name: Dan Kowalski, email: dan@example.com}
  - {name: Erin Silva, email: erin@example.com}
  - {name: Erin Brown, email: erin.brown@example.com}
teams:
  payments: [alice@example.com, bob@example.com]
services:
  checkout: payments
rotations:
  payments: {primary: alice@example.com, secondary: bob@example.com}
announcements_channel: incidents
"""


@dataclass
class World:
    container: Container
    clock: ManualClock
    db: Database
    data_dir: Path
    store: SqliteIncidentStore
    audit: SqliteAuditLog
    queue: SqliteEventQueue
    scheduler: SqliteScheduler
    chat: ConsoleChat
    directory: RosterDirectory
    oncall: RosterOnCall
    status_page: BuiltinStatusPage
    issues: MarkdownIssueTracker
    llm: LLM
    code_host: CodeHost
    gate: StatusUpdateGate
    nudges: NudgeScheduler
    sla: SlaMonitor
    announcements: ChannelRef
    resolver: Resolver
    services: CommandServices
    registry: CommandRegistry
    events: EventRegistry

    def resolver_with(
        self,
        *,
        store: IncidentStore | None = None,
        chat: Chat | None = None,
        issues: IssueTracker | None = None,
        llm: LLM | None = None,
        gate: DraftMaker | None = None,
        code_host: CodeHost | None = None,
        announcements_channel: str | None = "",
    ) -> Resolver:
        """A Resolver on this world's ports, with some of them swapped for a test double."""
        return Resolver(
            store=store or self.store,
            audit=self.audit,
            queue=self.queue,
            chat=chat or self.chat,
            code_host=code_host or self.code_host,
            issues=issues or self.issues,
            writer=PostmortemWriter(llm=llm or self.llm, audit=self.audit),
            gate=gate or self.gate,
            nudges=self.nudges,
            sla=self.sla,
            clock=self.clock,
            announcements_channel=(
                self.announcements.id if announcements_channel == "" else announcements_channel
            ),
        )

    async def aclose(self) -> None:
        await self.container.aclose()

    async def open_incident(
        self,
        *,
        incident_id: str = "inc-0001",
        ic: str | None = "alice@example.com",
        severity: Severity = Severity.P2,
        room: bool = True,
        responders: tuple[str, ...] = ("bob@example.com",),
    ) -> Incident:
        """An assembled incident with a war room, a checklist and reminders, opened now.

        Its responders are the IC (primary, alice by default) and `responders` (bob, the
        secondary on call); everyone else in the roster is an outsider to it."""
        now = self.clock.now()
        incident = await self.store.create(
            Incident(
                id=incident_id,
                severity=severity,
                title="Checkout error rate above 5%",
                source=AlertSource.ALERTMANAGER,
                alert_group_id=f"group-{incident_id}",
                alert_group_key=f"alertmanager:group-{incident_id}",
                service="checkout",
                created_at=now,
                updated_at=now,
                alerts=(
                    AttachedAlert(
                        alert_group_key=f"alertmanager:group-{incident_id}",
                        delivery_id=f"delivery-{incident_id}",
                        title="Checkout error rate above 5%",
                        kind=AlertEventKind.FIRING,
                        at=now,
                    ),
                ),
            )
        )
        await self.record(incident_id, AuditEventType.INCIDENT_OPENED, "opened")
        channel = None
        if room:
            channel = await self.chat.create_channel(
                name=f"inc-{incident_id.removeprefix('inc-')}", incident_id=incident_id
            )
            await self.record(incident_id, AuditEventType.WAR_ROOM_CREATED, "room")
        people: list[Responder] = []
        roles = [(ic, "primary")] if ic is not None else []
        for email, role in [*roles, *((r, "secondary") for r in responders if r != ic)]:
            person = await self.directory.person(email)
            assert person is not None
            chat_id = await self.chat.user_id_for(person) or ""
            people.append(Responder(email=email, name=person.name, chat_id=chat_id, role=role))
            if channel is not None:
                await self.chat.invite(channel.id, [chat_id])
        incident = await self.store.save(
            incident.update(
                channel=channel,
                ic=ic,
                responders=tuple(people),
                checklist=checklist_for(severity),
            )
            .transition(IncidentStatus.ASSEMBLING, at=now)
            .transition(IncidentStatus.ASSEMBLED, at=now)
        )
        await self.nudges.schedule(incident)
        await self.sla.schedule(incident)
        return incident

    async def record(self, incident_id: str, type_: AuditEventType, key: str) -> AuditRecord:
        return await self.audit.append(
            AuditEvent(incident_id=incident_id, type=type_, key=key, at=self.clock.now())
        )

    async def incident(self, incident_id: str = "inc-0001") -> Incident:
        found = await self.store.get(incident_id)
        assert found is not None
        return found

    async def context(
        self,
        *,
        actor: str = "alice@example.com",
        incident_id: str | None = "inc-0001",
        channel_id: str | None = None,
        invocation_id: str = "",
    ) -> CommandContext:
        person = await self.directory.person(actor)
        assert person is not None
        return CommandContext(
            actor=person,
            surface="api",
            incident_id=incident_id,
            channel_id=channel_id,
            invocation_id=invocation_id,
        )

    async def command(
        self,
        text: str,
        *,
        actor: str = "alice@example.com",
        incident_id: str | None = "inc-0001",
        channel_id: str | None = None,
        invocation_id: str = "",
    ) -> CommandReply:
        context = await self.context(
            actor=actor, incident_id=incident_id, channel_id=channel_id, invocation_id=invocation_id
        )
        return await self.registry.handle(text, context)

    async def records(
        self, type_: AuditEventType, incident_id: str = "inc-0001"
    ) -> list[AuditRecord]:
        return await self.audit.find(incident_id, type_)

    async def room_texts(self, incident_id: str = "inc-0001") -> list[str]:
        incident = await self.incident(incident_id)
        assert incident.channel is not None
        return [m.text for m in await self.chat.messages(incident.channel.id)]

    async def drain(self, *, resolver: Resolver | None = None) -> int:
        """Deliver queued messages to the handlers until the queue is empty, acking each."""
        events = (
            self.events
            if resolver is None
            else EventRegistry([IncidentResolution(resolver=resolver)])
        )
        handled = 0
        while deliveries := await self.queue.receive(max_messages=10):
            for delivery in deliveries:
                await events.dispatch(delivery.body)
                await self.queue.ack(delivery)
                handled += 1
        return handled


def write_roster(data_dir: Path) -> None:
    """Before build: the composition root keeps a roster.yaml it finds (it writes a sample only
    when there is none)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / "roster.yaml").write_text(ROSTER, encoding="utf-8")


async def build_world(
    data_dir: Path, clock: ManualClock, *, overrides: Overrides | None = None
) -> World:
    """`bootstrap.build` on `data_dir` (this module's roster written first); close with aclose."""
    write_roster(data_dir)
    settings = load_settings({"INCIDENT_RESPONSE_DATA_DIR": str(data_dir)})
    app = await build(settings, base_url=BASE_URL, clock=clock, overrides=overrides)
    announcements = await app.console_chat.create_channel(
        name=app.roster.announcements_channel, incident_id=""
    )
    return World(
        container=app,
        clock=clock,
        db=app.db,
        data_dir=data_dir,
        store=app.store,
        audit=app.audit,
        queue=app.queue,
        scheduler=app.scheduler,
        chat=app.console_chat,
        directory=app.directory,
        oncall=app.oncall,
        status_page=app.status_page,
        issues=app.issue_tracker,
        llm=app.llm,
        code_host=app.code_host,
        gate=app.gate,
        nudges=app.nudges,
        sla=app.sla,
        announcements=announcements,
        resolver=app.resolver,
        services=CommandServices(
            store=app.store,
            audit=app.audit,
            chat=app.chat,
            directory=app.directory,
            authority=app.authority,
            gate=app.gate,
            reminders=app.nudges,
            resolver=app.resolver,
            clock=clock,
        ),
        registry=app.commands,
        events=app.events,
    )
