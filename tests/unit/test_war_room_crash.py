"""Kill the assembler right after each step's effect, before it is recorded, then resume.

The crash is a BaseException, like a killed process: nothing in the assembler may catch it. The
resumed run uses fresh adapters on a freshly opened database file, as a restarted process would.
Whatever step was cut short, the room must end up exactly as an uninterrupted run leaves it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.incident import ChannelRef, Incident, IncidentStatus
from incident_response.domain.messages import Schedule
from tests.support.clock import ManualClock
from tests.unit.test_war_room import (
    EXPECTED_CHAT_IDS,
    EXPECTED_RESPONDERS,
    STATUS_PAGE_URL,
    Wrapper,
    build_world,
)

A = AuditEventType


class Crash(BaseException):
    """The process died."""


class CrashOnce:
    """Decides, per call, whether this is the moment to die (only the first time it matches)."""

    def __init__(self, matches: Callable[[str, Any], bool]) -> None:
        self.matches = matches
        self.fired = False

    def after(self, call: str, arg: Any) -> None:
        if not self.fired and self.matches(call, arg):
            self.fired = True
            raise Crash(call)


class CrashingChat(Wrapper):
    def __init__(self, inner: Any, crash: CrashOnce) -> None:
        super().__init__(inner)
        self.crash = crash

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        ref: ChannelRef = await self.inner.create_channel(name=name, incident_id=incident_id)
        self.crash.after("create_channel", name)
        return ref

    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
        result: InviteResult = await self.inner.invite(channel_id, user_ids)
        self.crash.after("invite", user_ids)
        return result

    async def post(self, channel_id: str, message: ChatMessage) -> str:
        message_id: str = await self.inner.post(channel_id, message)
        self.crash.after("post", message.key)
        return message_id

    async def pin(self, channel_id: str, message_id: str) -> None:
        await self.inner.pin(channel_id, message_id)
        self.crash.after("pin", message_id)

    async def set_topic(self, channel_id: str, topic: str) -> None:
        await self.inner.set_topic(channel_id, topic)
        self.crash.after("set_topic", topic)

    async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None:
        await self.inner.add_bookmark(channel_id, title=title, url=url)
        self.crash.after("add_bookmark", title)


class CrashingScheduler(Wrapper):
    def __init__(self, inner: Any, crash: CrashOnce) -> None:
        super().__init__(inner)
        self.crash = crash

    async def put(self, schedule: Schedule) -> None:
        await self.inner.put(schedule)
        self.crash.after("put", schedule.name)


class CrashingAudit(Wrapper):
    """For steps whose only effects are our own: die after the audit write, before the record."""

    def __init__(self, inner: Any, crash: CrashOnce) -> None:
        super().__init__(inner)
        self.crash = crash

    async def append(self, event: AuditEvent) -> AuditRecord:
        record: AuditRecord = await self.inner.append(event)
        self.crash.after("append", event.key)
        return record


class CrashingStore(Wrapper):
    """Die right after the save that records a step: everything the step did must be kept."""

    def __init__(self, inner: Any, crash: CrashOnce) -> None:
        super().__init__(inner)
        self.crash = crash

    async def save(self, incident: Incident) -> Incident:
        saved: Incident = await self.inner.save(incident)
        for step in incident.assembly_steps:
            self.crash.after("save", step)
        return saved


def key_ends(suffix: str) -> Callable[[str, Any], bool]:
    return lambda call, arg: call == "post" and str(arg).endswith(suffix)


CRASH_POINTS: dict[str, tuple[str, Callable[[str, Any], bool]]] = {
    "start": ("audit", lambda call, key: key == "start"),
    "create_channel (vendor)": ("chat", lambda call, _: call == "create_channel"),
    "create_channel (audited)": ("audit", lambda call, key: key == "create_channel"),
    "resolve_responders": ("audit", lambda call, key: key == "resolve_responders"),
    "ic_assigned": ("audit", lambda call, key: key == "resolve_responders:ic"),
    "context_snapshot": ("audit", lambda call, key: key == "context_snapshot"),
    "invite_responders": ("chat", lambda call, _: call == "invite"),
    "one responder invited": ("audit", lambda call, key: str(key).startswith("invite_responders:")),
    "post_context": ("chat", key_ends(":context")),
    "post_checklist": ("chat", key_ends(":checklist")),
    "pin_checklist": ("chat", lambda call, _: call == "pin"),
    "schedule nudges": ("scheduler", lambda call, name: str(name).startswith("nudge.")),
    "schedule sla": ("scheduler", lambda call, name: str(name).startswith("sla.")),
    "schedule_reminders": ("audit", lambda call, key: key == "schedule_reminders"),
    "set_topic": ("chat", lambda call, _: call == "set_topic"),
    "first bookmark": ("chat", lambda call, title: call == "add_bookmark"),
    "last bookmark": ("chat", lambda call, title: title == "Status page"),
    "topic_and_bookmarks": ("audit", lambda call, key: key == "topic_and_bookmarks"),
    "assembled": ("audit", lambda call, key: key == "assembled"),
    "create_channel (recorded)": ("store", lambda call, step: step == "create_channel"),
    "post_context (recorded)": ("store", lambda call, step: step == "post_context"),
    "pin_checklist (recorded)": ("store", lambda call, step: step == "pin_checklist"),
    "assembled (recorded)": ("store", lambda call, step: step == "assembled"),
    "topic_and_bookmarks (recorded)": ("store", lambda call, step: step == "topic_and_bookmarks"),
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
async def test_a_crash_after_any_step_resumes_to_the_same_room(
    point: str, tmp_path: Path, clock: ManualClock
) -> None:
    where, matches = CRASH_POINTS[point]
    crash = CrashOnce(matches)
    wrap: dict[str, Any] = {
        "chat": (lambda inner: CrashingChat(inner, crash)) if where == "chat" else None,
        "scheduler": (lambda inner: CrashingScheduler(inner, crash))
        if where == "scheduler"
        else None,
        "audit": (lambda inner: CrashingAudit(inner, crash)) if where == "audit" else None,
        "store": (lambda inner: CrashingStore(inner, crash)) if where == "store" else None,
    }
    path = tmp_path / "ir.sqlite3"
    roster = tmp_path / "roster.yaml"
    first_db = await Database(path).open()
    try:
        first = await build_world(first_db, clock, roster, **wrap)
        incident = await first.open_incident()

        async def run() -> None:
            await first.assembler.assemble(incident.id)
            await first.assembler.settle()  # the topic and bookmarks go on beside

        with pytest.raises(Crash):
            await run()
        assert crash.fired
    finally:
        await first.assembler.settle(grace_seconds=0)  # the process is gone: so is its work
        await first_db.close()

    clock.advance(seconds=2)
    db = await Database(path).open()
    try:
        w = await build_world(db, clock, roster)
        await w.assembler.assemble(incident.id)
        await w.assembler.settle()
        done = await w.incident(incident.id)

        assert done.status is IncidentStatus.ASSEMBLED
        assert done.assembled_at is not None
        assert done.ic == "alice@example.com"
        assert {r.email: r.role for r in done.responders} == EXPECTED_RESPONDERS
        channels = await w.console.channels(incident_id=incident.id)
        assert len(channels) == 1
        assert done.channel == channels[0].ref
        room = channels[0].id
        members = await w.console.members(room)
        assert sorted(members) == sorted(EXPECTED_CHAT_IDS)
        messages = await w.console.messages(room)
        assert Counter(m.key for m in messages) == {
            f"{incident.id}:context": 1,
            f"{incident.id}:checklist": 1,
        }
        checklist = next(m for m in messages if m.key == f"{incident.id}:checklist")
        assert await w.console.pins(room) == [checklist.id]
        assert len(done.checklist) > 0
        assert await w.scheduler.get(f"nudge.{incident.id}") is not None
        assert channels[0].topic == "P1 · checkout · IC: Alice Martin · status: investigating"
        assert [(b.title, b.url) for b in await w.console.bookmarks(room)] == [
            ("Dashboard", "https://grafana.example.com/d/checkout"),
            ("Status page", STATUS_PAGE_URL),
        ]
        assert done.assembly_steps["topic_and_bookmarks"]["ok"] is True
        assert len(await w.scheduler.schedules(f"sla.{incident.id}.")) == 2

        records = await w.records(incident.id)
        assert (await w.audit.verify(incident.id)).ok
        kinds = Counter(r.type for r in records)
        for once in (
            A.WAR_ROOM_CREATED,
            A.IC_ASSIGNED,
            A.CHECKLIST_PINNED,
            A.CONTEXT_SNAPSHOT_ATTACHED,
            A.WAR_ROOM_ASSEMBLED,
        ):
            assert kinds[once] == 1, once
        invited = Counter(r.data["email"] for r in records if r.type is A.RESPONDER_INVITED)
        assert invited == dict.fromkeys(EXPECTED_RESPONDERS, 1)
        assert kinds[A.ASSEMBLY_FAILED] == 0

        again = await w.assembler.assemble(incident.id)
        await w.assembler.settle()
        assert again == done
        assert await w.records(incident.id) == records
    finally:
        await db.close()
