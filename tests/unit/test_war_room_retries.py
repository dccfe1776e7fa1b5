"""War-room steps under vendor faults: an outage is retried (with backoff, until the step's
deadline), a refusal is not, a room still degraded is repaired later (also by a restarted
process), and nothing the room sees happens twice. Also: once the channel exists the invites
and the brief go out at once, without waiting for the checklist's pin."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import AuditEventType
from incident_response.domain.chat import ChatMessage, InviteResult
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import IncidentStatus
from incident_response.services.war_room import (
    Step,
    StepDeadline,
    needs_repair,
    unfinished_steps,
)
from tests.support.clock import ManualClock
from tests.unit.test_war_room import EXPECTED_CHAT_IDS, World, Wrapper, build_world
from tests.unit.test_war_room import settled as settled  # the fixture, for this module too

A = AuditEventType


class Outage(ConnectionError):
    """What an adapter raises when the vendor answered 5xx or not at all."""


class FlakyChat(Wrapper):
    """Fails the first `failures[name]` calls of a method with an outage; counts every call."""

    def __init__(self, inner: Any, failures: dict[str, int]) -> None:
        super().__init__(inner)
        self.failures = dict(failures)
        self.calls: Counter[str] = Counter()
        self.invited: list[list[str]] = []

    def _fail(self, name: str) -> None:
        self.calls[name] += 1
        if self.failures.get(name, 0) > 0:
            self.failures[name] -= 1
            raise Outage(f"slack {name}: HTTP 500 internal_error")

    async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
        self.invited.append(list(user_ids))
        self._fail("invite")
        result: InviteResult = await self.inner.invite(channel_id, user_ids)
        return result

    async def post(self, channel_id: str, message: ChatMessage) -> str:
        self._fail(f"post:{(message.key or '').rsplit(':', 1)[-1]}")
        message_id: str = await self.inner.post(channel_id, message)
        return message_id

    async def pin(self, channel_id: str, message_id: str) -> None:
        self._fail("pin")
        await self.inner.pin(channel_id, message_id)


def flaky(failures: dict[str, int], made: list[FlakyChat]) -> Any:
    def wrap(inner: Any) -> FlakyChat:
        made.append(FlakyChat(inner, failures))
        return made[-1]

    return wrap


async def settle_room(w: World, incident_id: str) -> Any:
    await w.assembler.settle()
    return await w.incident(incident_id)


async def test_an_outage_is_retried_until_the_room_is_staffed_and_pinned(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    made: list[FlakyChat] = []
    failures = {"invite": 2, "post:checklist": 1, "post:context": 1, "pin": 2}
    w = await build_world(db, clock, tmp_path / "r.yaml", chat=flaky(failures, made))
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    chat = made[0]
    assert done.status is IncidentStatus.ASSEMBLED
    assert await w.records(incident.id, A.RESPONDER_INVITE_FAILED) == []
    assert sorted(await w.console.members((await w.room(incident.id)).id)) == sorted(
        EXPECTED_CHAT_IDS
    )
    messages = await w.messages(incident.id)
    assert Counter(m.key for m in messages) == {
        f"{incident.id}:context": 1,
        f"{incident.id}:checklist": 1,
    }
    checklist = next(m for m in messages if m.key == f"{incident.id}:checklist")
    assert await w.console.pins(done.channel.id if done.channel else "") == [checklist.id]
    assert chat.calls == {"invite": 3, "post:checklist": 2, "post:context": 2, "pin": 3}
    [assembled] = await w.records(incident.id, A.WAR_ROOM_ASSEMBLED)
    assert assembled.data["degraded"] == []
    assert w.sleeps, "each retry waits (backoff) first"
    assert unfinished_steps(await settle_room(w, incident.id)) == []


async def test_a_refused_person_is_not_invited_again_but_the_others_are_retried(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """The batch fails once on an outage; then Slack refuses one person for good."""

    class RefusingChat(FlakyChat):
        async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
            self.invited.append(list(user_ids))
            self._fail("invite")
            result: InviteResult = await self.inner.invite(
                channel_id, [u for u in user_ids if u != "UCAROL"]
            )
            return InviteResult(
                invited=result.invited,
                failed={
                    **result.failed,
                    **({"UCAROL": "user_disabled"} if "UCAROL" in user_ids else {}),
                },
            )

    made: list[FlakyChat] = []

    def wrap(inner: Any) -> FlakyChat:
        made.append(RefusingChat(inner, {"invite": 1}))
        return made[-1]

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=wrap)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert len(made[0].invited) == 2  # the outage once, then everyone once
    step = done.assembly_steps[Step.INVITE_RESPONDERS]
    assert step["failed"] == {"carol@example.com": "user_disabled"}
    assert step["retry"] is False
    [failed] = await w.records(incident.id, A.RESPONDER_INVITE_FAILED)
    assert failed.data["email"] == "carol@example.com"
    assert unfinished_steps(done) == ["invite_responders"]
    assert not needs_repair(await settle_room(w, incident.id))
    assert await w.assembler.resume_unfinished() == 0


async def test_a_refusal_is_not_retried(db: Database, clock: ManualClock, tmp_path: Path) -> None:
    class GonePin(FlakyChat):
        async def pin(self, channel_id: str, message_id: str) -> None:
            self.calls["pin"] += 1
            raise NotFound(f"message {message_id}: message_not_found")

    made: list[FlakyChat] = []

    def wrap(inner: Any) -> FlakyChat:
        made.append(GonePin(inner, {}))
        return made[-1]

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=wrap)
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert made[0].calls["pin"] == 1
    assert done.assembly_steps[Step.PIN_CHECKLIST]["ok"] is False
    assert done.assembly_steps[Step.PIN_CHECKLIST]["retry"] is False
    assert not needs_repair(await settle_room(w, incident.id))


async def test_a_room_still_degraded_at_the_deadline_is_repaired_later_even_after_a_restart(
    clock: ManualClock, tmp_path: Path
) -> None:
    made: list[FlakyChat] = []
    path, roster = tmp_path / "ir.sqlite3", tmp_path / "roster.yaml"
    first_db = await Database(path).open()
    try:
        w = await build_world(first_db, clock, roster, chat=flaky({"pin": 10**6}, made))
        incident = await w.open_incident()
        done = await w.assembler.assemble(incident.id)
        assert done.status is IncidentStatus.ASSEMBLED
        pinned = done.assembly_steps[Step.PIN_CHECKLIST]
        assert (pinned["ok"], pinned["retry"]) == (False, True)
        assert made[0].calls["pin"] > 2  # tried again until the deadline
        assert sum(w.sleeps) <= 20
        degraded = await settle_room(w, incident.id)
        assert unfinished_steps(degraded) == ["pin_checklist"]
        assert needs_repair(degraded)
        notice = f"{incident.id}:degraded:pin_checklist"
        assert notice in [m.key for m in await w.messages(incident.id)]
    finally:
        await first_db.close()

    db = await Database(path).open()  # a restarted process: the outage is over
    try:
        w = await build_world(db, clock, roster)

        assert await w.assembler.resume_unfinished() == 1
        repaired = await settle_room(w, incident.id)

        assert repaired.assembly_steps[Step.PIN_CHECKLIST]["ok"] is True
        assert unfinished_steps(repaired) == []
        assert not needs_repair(repaired)
        room = (await w.room(incident.id)).id
        messages = await w.console.messages(room)
        checklist = [m for m in messages if m.key == f"{incident.id}:checklist"]
        assert len(checklist) == 1
        assert await w.console.pins(room) == [checklist[0].id]
        keys = [r.key for r in await w.records(incident.id, A.CHECKLIST_PINNED)]
        assert keys == ["pin_checklist", "pin_checklist:repaired"]
        assert (await w.audit.verify(incident.id)).ok
        assert await w.assembler.resume_unfinished() == 0
    finally:
        await db.close()


async def test_invites_and_the_brief_do_not_wait_for_the_pin(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    pin_may_go, invited, briefed = asyncio.Event(), asyncio.Event(), asyncio.Event()

    class SlowPin(Wrapper):
        async def pin(self, channel_id: str, message_id: str) -> None:
            await pin_may_go.wait()
            await self.inner.pin(channel_id, message_id)

        async def invite(self, channel_id: str, user_ids: Sequence[str]) -> InviteResult:
            result: InviteResult = await self.inner.invite(channel_id, user_ids)
            invited.set()
            return result

        async def post(self, channel_id: str, message: ChatMessage) -> str:
            message_id: str = await self.inner.post(channel_id, message)
            if (message.key or "").endswith(":context"):
                briefed.set()
            return message_id

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=SlowPin)
    incident = await w.open_incident()

    assembling = asyncio.create_task(w.assembler.assemble(incident.id))
    try:
        async with asyncio.timeout(5):
            await invited.wait()
            await briefed.wait()
        assert not assembling.done()  # the room is not assembled before its checklist is pinned
    finally:
        pin_may_go.set()
    done = await assembling

    assert done.status is IncidentStatus.ASSEMBLED
    assert done.assembly_steps[Step.PIN_CHECKLIST]["ok"] is True


@pytest.mark.parametrize("seconds", [0.0, 3.0])
async def test_the_step_deadline_bounds_the_retries(
    db: Database, clock: ManualClock, tmp_path: Path, seconds: float
) -> None:
    made: list[FlakyChat] = []
    w = await build_world(
        db,
        clock,
        tmp_path / "r.yaml",
        chat=flaky({"invite": 10**6}, made),
        step_deadline=StepDeadline(seconds=seconds),
    )
    incident = await w.open_incident()

    done = await w.assembler.assemble(incident.id)

    assert sum(w.sleeps) <= seconds
    assert (made[0].calls["invite"] == 1) is (seconds == 0)
    assert done.assembly_steps[Step.INVITE_RESPONDERS]["retry"] is True
