"""The WarRoomAssembler over the real embedded adapters: what the room looks like when it is
done, and how it degrades when a vendor fails.

`World` and `build_world` are shared with the crash, nudge and SLA tests.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.console.chat import ConsoleChat, derived_user_id
from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.roster import Roster, RosterDirectory, RosterOnCall
from incident_response.adapters.embedded.scheduler import SqliteScheduler
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.adapters.embedded.telemetry import EmbeddedTelemetry
from incident_response.domain.alert import (
    Alert,
    AlertEventKind,
    AlertSource,
    Severity,
    delivery_id,
)
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.checklist import (
    DEFAULT_CHECKLISTS,
    InvalidChecklistConfig,
    parse_checklists,
)
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import ChannelRef, Incident, IncidentStatus
from incident_response.services.nudges import NudgeScheduler
from incident_response.services.sla import SlaMonitor
from incident_response.services.war_room import (
    RetryPolicy,
    StepDeadline,
    WarRoomAssembler,
    channel_name,
)
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock

A = AuditEventType

ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: UALICE}
  - {name: Bob Okafor, email: bob@example.com, chat_id: UBOB}
  - {name: Erin Silva, email: erin@example.com}
  - {name: Carol Nguyen, email: carol@example.com, chat_id: UCAROL}
  - {name: Dan Kowalski, email: dan@example.com, chat_id: UDAN}
teams:
  payments: [alice@example.com, erin@example.com, carol@example.com, bob@example.com]
  platform: [dan@example.com]
services:
  checkout: payments
  api: platform
rotations:
  payments: {primary: alice@example.com, secondary: bob@example.com}
"""
# alice and bob are on call and in the team: each must appear once
EXPECTED_RESPONDERS = {
    "alice@example.com": "primary",
    "bob@example.com": "secondary",
    "erin@example.com": "team",
    "carol@example.com": "team",
}
EXPECTED_CHAT_IDS = {"UALICE", "UBOB", "UCAROL", derived_user_id("erin@example.com")}
STATUS_PAGE_URL = "http://localhost:8080/status"


def make_alert(
    clock: ManualClock, *, service: str = "checkout", severity: Severity = Severity.P1, n: int = 0
) -> Alert:
    now = clock.now()
    return Alert(
        source=AlertSource.GRAFANA_ONCALL,
        kind=AlertEventKind.FIRING,
        source_event="alert group created",
        alert_group_id=f"G-{service}",
        title=f"High error rate on {service}",
        labels={"service": service, "severity": severity.value.lower(), "region": "eu-west-1"},
        severity=severity,
        fired_at=now,
        received_at=now,
        links={"dashboard": f"https://grafana.example.com/d/{service}"},
        delivery_id=delivery_id("test", service, now.isoformat(), n),
    )


@dataclass
class World:
    db: Database
    clock: ManualClock
    store: Any
    audit: Any
    scheduler: Any
    chat: Any
    console: ConsoleChat
    directory: Any
    oncall: Any
    telemetry: Any
    nudges: NudgeScheduler
    sla: SlaMonitor
    assembler: WarRoomAssembler
    sleeps: list[float] = field(default_factory=list)
    opened: int = 0

    async def open_incident(
        self,
        *,
        service: str = "checkout",
        severity: Severity = Severity.P1,
        labels: dict[str, str] | None = None,
        links: dict[str, str] | None = None,
    ) -> Incident:
        """An incident from `make_alert`; `labels` and `links` replace the alert's own."""
        self.opened += 1
        alert = make_alert(self.clock, service=service, severity=severity, n=self.opened)
        changes = {"labels": labels, "links": links}
        alert = alert.model_copy(update={k: v for k, v in changes.items() if v is not None})
        incident = Incident.open_from(alert, grouping_key="", now=self.clock.now())
        return await self.store.create(incident)

    async def incident(self, incident_id: str) -> Incident:
        found = await self.store.get(incident_id)
        assert found is not None
        return found

    async def room(self, incident_id: str) -> ChannelRef:
        incident = await self.incident(incident_id)
        assert incident.channel is not None
        return incident.channel

    async def messages(self, incident_id: str) -> list[Any]:
        return await self.console.messages((await self.room(incident_id)).id)

    async def records(
        self, incident_id: str, kind: AuditEventType | None = None
    ) -> list[AuditRecord]:
        records = await self.audit.records(incident_id)
        return [r for r in records if kind is None or r.type is kind]


def load_roster(path: Path) -> Roster:
    if not path.exists():
        path.write_text(ROSTER, encoding="utf-8")
    return Roster.load(path)


async def build_world(
    db: Database,
    clock: ManualClock,
    roster_path: Path,
    *,
    chat: Any = None,
    scheduler: Any = None,
    audit: Any = None,
    store: Any = None,
    directory: Any = None,
    oncall: Any = None,
    telemetry: Any = None,
    retry: RetryPolicy | None = None,
    step_deadline: StepDeadline | None = None,
    checklists: Any = DEFAULT_CHECKLISTS,
    escalate_after: int = 3,
    call_timeout_seconds: float = 10.0,
    status_page_url: Any = STATUS_PAGE_URL,
    code_host: Any = None,
    acknowledge_alert_groups: bool = False,
    metrics: Any = None,
) -> World:
    """The embedded adapters on `db`, optionally wrapped by a test double."""
    roster = load_roster(roster_path)
    real_store = await SqliteIncidentStore(db=db, clock=clock).open()
    real_audit = await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    real_scheduler = await SqliteScheduler(db=db, clock=clock, queue=queue).open()
    console = ConsoleChat(db, base_url="http://localhost:8080", clock=clock)
    parts: dict[str, Any] = {
        "audit": audit(real_audit) if audit else real_audit,
        "scheduler": scheduler(real_scheduler) if scheduler else real_scheduler,
        "chat": chat(console) if chat else console,
        "directory": directory(RosterDirectory(roster)) if directory else RosterDirectory(roster),
        "oncall": oncall(RosterOnCall(roster)) if oncall else RosterOnCall(roster),
        "telemetry": telemetry(EmbeddedTelemetry()) if telemetry else EmbeddedTelemetry(),
    }
    parts["store"] = store(real_store) if store else real_store
    common = {
        "store": parts["store"],
        "audit": parts["audit"],
        "chat": parts["chat"],
        "scheduler": parts["scheduler"],
        "oncall": parts["oncall"],
        "clock": clock,
    }
    nudges = NudgeScheduler(**common, escalate_after=escalate_after)
    sla = SlaMonitor(**common)
    sleeps: list[float] = []

    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    assembler = WarRoomAssembler(
        **common,
        directory=parts["directory"],
        telemetry=parts["telemetry"],
        nudges=nudges,
        sla=sla,
        checklists=checklists,
        retry=retry,
        step_deadline=step_deadline,
        sleep=sleep,
        call_timeout_seconds=call_timeout_seconds,
        status_page_url=status_page_url,
        code_host=code_host,
        acknowledge_alert_groups=acknowledge_alert_groups,
        **({"metrics": metrics} if metrics is not None else {}),
    )
    BUILT.append(assembler)
    return World(
        db=db,
        clock=clock,
        console=console,
        nudges=nudges,
        sla=sla,
        assembler=assembler,
        sleeps=sleeps,
        **parts,
    )


@pytest.fixture
async def world(db: Database, clock: ManualClock, tmp_path: Path) -> World:
    return await build_world(db, clock, tmp_path / "roster.yaml")


BUILT: list[WarRoomAssembler] = []


@pytest.fixture(autouse=True)
async def settled(db: Database) -> AsyncIterator[None]:
    """Work a test's assemblers left beside (topic, bookmarks) ends before the database closes."""
    yield
    while BUILT:
        await BUILT.pop().settle(grace_seconds=5)


# -- test doubles: a real adapter, wrapped, failing on a chosen call ---------------------------


class Wrapper:
    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


class CountingChat(Wrapper):
    def __init__(self, inner: Any) -> None:
        super().__init__(inner)
        self.invites: list[list[str]] = []
        self.pinned = asyncio.Event()

    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
        self.invites.append(list(user_ids))
        result: InviteResult = await self.inner.invite(channel_id, user_ids)
        return result

    async def pin(self, channel_id: str, message_id: str) -> None:
        await self.inner.pin(channel_id, message_id)
        self.pinned.set()


class ChannelOutage(Wrapper):
    """Slack refuses `create_channel` for the first `failures` calls."""

    def __init__(self, inner: Any, failures: int = 10**6) -> None:
        super().__init__(inner)
        self.failures = failures
        self.calls = 0

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        self.calls += 1
        if self.calls <= self.failures:
            raise ConnectionError("slack: service_unavailable")
        ref: ChannelRef = await self.inner.create_channel(name=name, incident_id=incident_id)
        return ref


class InviteOutage(Wrapper):
    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
        raise ConnectionError("slack: ratelimited")


class DirectoryOutage(Wrapper):
    async def team_for_service(self, service: str) -> str | None:
        raise TimeoutError("workos: no answer")


class OnCallOutage(Wrapper):
    async def shift(self, service: str, *, at: Any, alert_group_id: Any = None) -> Any:
        raise ConnectionError("grafana oncall: 503")


class TelemetryOutage(Wrapper):
    async def snapshot(self, incident: Incident, *, at: Any) -> Any:
        raise ConnectionError("grafana cloud: 502 bad gateway")


# -- the happy path ------------------------------------------------------------------------------


async def test_assembles_a_staffed_briefed_room(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    counting: list[CountingChat] = []

    def chat(inner: Any) -> CountingChat:
        counting.append(CountingChat(inner))
        return counting[0]

    w = await build_world(db, clock, tmp_path / "roster.yaml", chat=chat)
    incident = await w.open_incident()
    clock.advance(seconds=4)

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert done.assembled_at == clock.now()
    channels = await w.console.channels(incident_id=incident.id)
    assert [c.ref for c in channels] == [done.channel]
    assert done.channel is not None
    assert done.channel.name == channel_name(incident)
    assert done.ic == "alice@example.com"
    assert {r.email: r.role for r in done.responders} == EXPECTED_RESPONDERS
    assert [len(batch) for batch in counting[0].invites] == [4]
    assert set(await w.console.members(done.channel.id)) == EXPECTED_CHAT_IDS
    assert {r.chat_id for r in done.responders} == EXPECTED_CHAT_IDS

    messages = await w.console.messages(done.channel.id)
    by_key = {m.key: m for m in messages}
    assert set(by_key) == {f"{incident.id}:context", f"{incident.id}:checklist"}
    brief = by_key[f"{incident.id}:context"]
    shown = "\n".join([brief.text, *brief.sections])
    for fact in (
        "High error rate on checkout",
        "P1",
        "region=eu-west-1",
        "Alice Martin",
        "Erin Silva",
        "https://grafana.example.com/d/checkout",
    ):
        assert fact in shown
    assert [b.action for b in brief.buttons] == ["draft.create"]
    checklist = by_key[f"{incident.id}:checklist"]
    assert await w.console.pins(done.channel.id) == [checklist.id]
    assert [b.value for b in checklist.buttons] == [item.id for item in done.checklist]
    assert {b.action for b in checklist.buttons} == {"checklist.toggle"}
    assert [i.text for i in done.checklist] == [t.text for t in DEFAULT_CHECKLISTS[Severity.P1]]

    nudge = await w.scheduler.get(f"nudge.{incident.id}")
    assert nudge is not None
    assert nudge.enabled
    assert nudge.message.payload == {"incident_id": incident.id}
    sla = await w.scheduler.schedules(f"sla.{incident.id}.")
    assert sorted(s.message.payload["mark_minutes"] for s in sla) == [15, 30]

    assert (await w.audit.verify(incident.id)).ok
    kinds = [r.type for r in await w.records(incident.id)]
    for once in (
        A.WAR_ROOM_CREATED,
        A.IC_ASSIGNED,
        A.CONTEXT_SNAPSHOT_ATTACHED,
        A.CHECKLIST_PINNED,
        A.WAR_ROOM_ASSEMBLED,
    ):
        assert kinds.count(once) == 1, once
    assert kinds.count(A.RESPONDER_INVITED) == 4
    assembled = (await w.records(incident.id, A.WAR_ROOM_ASSEMBLED))[0]
    assert assembled.data["alert_to_assembled_seconds"] == 4
    assert assembled.data["degraded"] == []


async def test_assembling_an_assembled_incident_changes_nothing(world: World) -> None:
    incident = await world.open_incident()
    first = await world.assembler.assemble(incident.id)
    records = await world.records(incident.id)
    messages = await world.messages(incident.id)

    again = await world.assembler.assemble(incident.id)

    assert again == first
    assert await world.records(incident.id) == records
    assert await world.messages(incident.id) == messages


async def test_checklist_is_pinned_while_the_directory_is_still_answering(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """Channel -> checklist -> pin must not wait for people or telemetry."""
    chats: list[CountingChat] = []

    def chat(inner: Any) -> CountingChat:
        chats.append(CountingChat(inner))
        return chats[0]

    class SlowDirectory(Wrapper):
        async def team_for_service(self, service: str) -> str | None:
            async with asyncio.timeout(5):
                await chats[0].pinned.wait()
            found: str | None = await self.inner.team_for_service(service)
            return found

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=chat, directory=SlowDirectory)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert {r.email for r in done.responders} == set(EXPECTED_RESPONDERS)
    assert not [m for m in await w.messages(incident.id) if ":degraded:" in (m.key or "")]


async def test_checklists_follow_the_configured_template(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    templates = parse_checklists(
        {"p2": ["Page the database team", {"id": "rb", "text": "Open the runbook"}]}
    )
    w = await build_world(db, clock, tmp_path / "r.yaml", checklists=templates)
    incident = await w.open_incident(severity=Severity.P2)

    done = await w.assembler.assemble(incident.id)

    assert [(i.id, i.text) for i in done.checklist] == [
        ("page-the-database-team", "Page the database team"),
        ("rb", "Open the runbook"),
    ]
    pinned = await w.console.pins((await w.room(incident.id)).id)
    checklist = next(m for m in await w.messages(incident.id) if m.id == pinned[0])
    assert "Open the runbook" in "\n".join(checklist.sections)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ({"P9": ["x"]}, "unknown severity"),
        ({"P1": []}, "non-empty list"),
        ({"P1": ["  "]}, "text is empty"),
        ({"P1": [{"id": "a", "text": "x"}, {"id": "a", "text": "y"}]}, "repeated item ids"),
    ],
)
def test_a_bad_checklist_config_is_refused_with_the_reason(raw: Any, problem: str) -> None:
    with pytest.raises(InvalidChecklistConfig, match=problem):
        parse_checklists(raw)


# -- degraded steps --------------------------------------------------------------------------------


async def test_directory_outage_degrades_to_the_on_call_pair(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w = await build_world(db, clock, tmp_path / "r.yaml", directory=DirectoryOutage)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert {r.email for r in done.responders} == {"alice@example.com", "bob@example.com"}
    assert done.ic == "alice@example.com"
    failed = await w.records(incident.id, A.DIRECTORY_LOOKUP_FAILED)
    assert len(failed) == 1
    assert "workos: no answer" in failed[0].data["error"]
    notices = [
        m.text
        for m in await w.messages(incident.id)
        if m.key == f"{incident.id}:degraded:resolve_responders"
    ]
    assert len(notices) == 1
    assert "Could not look up" in notices[0]
    assert "workos: no answer" in notices[0]
    assembled = (await w.records(incident.id, A.WAR_ROOM_ASSEMBLED))[0]
    assert assembled.data["degraded"] == ["resolve_responders"]


class RecordingMetrics:
    """A `Metrics` that keeps what the assembler recorded."""

    def __init__(self) -> None:
        self.assembled: list[tuple[float, str]] = []
        self.lookups_failed: list[str] = []

    def war_room_assembled(self, *, seconds: float, severity: str) -> None:
        self.assembled.append((seconds, severity))

    def directory_lookup_failed(self, *, source: str) -> None:
        self.lookups_failed.append(source)


async def test_the_room_is_timed_and_a_directory_outage_counted_once(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    metrics = RecordingMetrics()
    w = await build_world(
        db, clock, tmp_path / "r.yaml", directory=DirectoryOutage, metrics=metrics
    )
    incident = await w.open_incident()
    clock.advance(seconds=42)

    await w.assembler.assemble(incident.id)
    await w.assembler.assemble(incident.id)  # already assembled: nothing is counted again

    assert metrics.assembled == [(42.0, incident.severity.value)]
    assert metrics.lookups_failed == ["directory"]


async def test_a_wedged_directory_cannot_stall_assembly(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    class WedgedDirectory(Wrapper):
        async def team_for_service(self, service: str) -> str | None:
            await asyncio.Event().wait()
            return None

    w = await build_world(
        db, clock, tmp_path / "r.yaml", directory=WedgedDirectory, call_timeout_seconds=0.05
    )
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    [failed] = await w.records(incident.id, A.DIRECTORY_LOOKUP_FAILED)
    assert failed.data["error"] == "no answer within 0.05s"


async def test_nobody_on_call_falls_back_to_the_team_for_the_ic(world: World) -> None:
    incident = await world.open_incident(service="api")  # platform: a team, no rotation

    done = await world.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert done.ic == "dan@example.com"
    assert [(r.email, r.role) for r in done.responders] == [("dan@example.com", "team")]


async def test_no_people_at_all_still_assembles_and_says_so(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w = await build_world(
        db, clock, tmp_path / "r.yaml", directory=DirectoryOutage, oncall=OnCallOutage
    )
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert done.responders == ()
    assert done.ic is None
    assert len(await w.records(incident.id, A.DIRECTORY_LOOKUP_FAILED)) == 2
    texts = "\n".join(m.text for m in await w.messages(incident.id))
    assert "grafana oncall: 503" in texts
    assert "IC: nobody yet" in texts


async def test_telemetry_outage_degrades_the_brief(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w = await build_world(db, clock, tmp_path / "r.yaml", telemetry=TelemetryOutage)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    snapshot = [
        r
        for r in await w.records(incident.id, A.CONTEXT_SNAPSHOT_ATTACHED)
        if r.data.get("ok") is False
    ]
    assert len(snapshot) == 1
    assert "502 bad gateway" in snapshot[0].data["error"]
    by_key = {m.key: m for m in await w.messages(incident.id)}
    brief = by_key[f"{incident.id}:context"]
    assert "Telemetry snapshot unavailable" in "\n".join(brief.sections)
    assert "502 bad gateway" in by_key[f"{incident.id}:degraded:context_snapshot"].text


async def test_invite_outage_is_recorded_per_person_and_told_to_the_room(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w = await build_world(db, clock, tmp_path / "r.yaml", chat=InviteOutage)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    failed = await w.records(incident.id, A.RESPONDER_INVITE_FAILED)
    assert {r.data["email"] for r in failed} == set(EXPECTED_RESPONDERS)
    assert await w.records(incident.id, A.RESPONDER_INVITED) == []
    notice = [
        m
        for m in await w.messages(incident.id)
        if m.key == f"{incident.id}:degraded:invite_responders"
    ]
    assert len(notice) == 1
    assert "ratelimited" in notice[0].text


async def test_channel_creation_is_retried_with_backoff(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    outages: list[ChannelOutage] = []

    def chat(inner: Any) -> ChannelOutage:
        outages.append(ChannelOutage(inner, failures=2))
        return outages[0]

    w = await build_world(
        db, clock, tmp_path / "r.yaml", chat=chat, retry=RetryPolicy(attempts=3, base_delay=0.5)
    )
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assert outages[0].calls == 3
    assert w.sleeps == [0.5, 1.0]


async def test_channel_outage_fails_assembly_and_tells_the_on_call_pair(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    outages: list[ChannelOutage] = []

    def chat(inner: Any) -> ChannelOutage:
        outages.append(ChannelOutage(inner))
        return outages[0]

    w = await build_world(
        db, clock, tmp_path / "r.yaml", chat=chat, retry=RetryPolicy(attempts=4, base_delay=1)
    )
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLY_FAILED
    assert done.channel is None
    assert outages[0].calls == 4
    assert w.sleeps == [1, 2, 4]
    assert await w.console.channels(incident_id=incident.id) == []
    failed = await w.records(incident.id, A.ASSEMBLY_FAILED)
    assert len(failed) == 1
    assert "service_unavailable" in failed[0].data["error"]
    fallback = await w.records(incident.id, A.ASSEMBLY_FALLBACK_INITIATED)
    assert fallback[0].data["notified"] == ["alice@example.com", "bob@example.com"]
    for user_id in ("UALICE", "UBOB"):
        [dm] = await w.console.direct_messages(user_id)
        assert "High error rate on checkout" in dm.text
        assert "service_unavailable" in dm.text
    assert await w.console.direct_messages("UCAROL") == []
    assert (await w.audit.verify(incident.id)).ok


async def test_a_failed_assembly_can_be_retried_by_hand(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    outages: list[ChannelOutage] = []

    def chat(inner: Any) -> ChannelOutage:
        outages.append(ChannelOutage(inner, failures=3))
        return outages[0]

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=chat, retry=RetryPolicy(attempts=3))
    incident = await w.open_incident()
    failed = await w.assembler.assemble(incident.id)
    assert failed.status is IncidentStatus.ASSEMBLY_FAILED

    retried = await w.assembler.assemble(incident.id)

    assert retried.status is IncidentStatus.ASSEMBLED
    assert len(await w.console.channels(incident_id=incident.id)) == 1
    starts = [
        r.key
        for r in await w.records(incident.id, A.ASSEMBLY_STEP_COMPLETED)
        if r.data["step"] == "start"
    ]
    assert starts == ["start", "start:1"]
    assert (await w.audit.verify(incident.id)).ok


async def test_an_unknown_incident_is_a_clear_error(world: World) -> None:
    with pytest.raises(NotFound, match="inc-missing"):
        await world.assembler.assemble("inc-missing")


async def test_posting_degrades_when_chat_refuses_messages(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    class PostOutage(Wrapper):
        async def post(self, channel_id: str, message: ChatMessage) -> str:
            raise ConnectionError("slack: channel_not_found")

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=PostOutage)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert done.status is IncidentStatus.ASSEMBLED
    assembled = (await w.records(incident.id, A.WAR_ROOM_ASSEMBLED))[0]
    assert assembled.data["degraded"] == ["pin_checklist", "post_checklist", "post_context"]
    pinned = (await w.records(incident.id, A.CHECKLIST_PINNED))[0]
    assert pinned.data["ok"] is False


async def test_reminders_start_after_assembly(world: World) -> None:
    incident = await world.open_incident()
    await world.assembler.assemble(incident.id)

    nudge = await world.scheduler.get(f"nudge.{incident.id}")

    assert nudge is not None
    assert nudge.next_fire_at == world.clock.now() + timedelta(seconds=900)
    assert nudge.group_id == incident.id
