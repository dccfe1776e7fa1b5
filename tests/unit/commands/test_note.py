"""`note`: a timeline note; one the drafter reads as a status update counts as one for reminders.

With the built-in drafter (its transparent heuristic) and with a scripted model behind the LLM
port, as the composition root wires them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.bootstrap import Overrides
from incident_response.domain.audit import AuditEventType
from incident_response.ports import LLM, PostmortemContext, StatusContext
from incident_response.services.nudges import NudgeOutcome
from tests.support.clock import ManualClock
from tests.unit.commands.world import World, build_world

A = AuditEventType
TOLD = "Told support and the status page: checkout is degraded, next update 09:45"
WORKING = "Rolled back deploy 42, error rate falling"
INTERVAL_MINUTES = 15


class ScriptedLLM:
    """The LLM port as a model would answer it: a fixed classification, or a failure."""

    def __init__(self, inner: LLM, *, answer: bool | Exception) -> None:
        self.inner = inner
        self.answer = answer
        self.asked: list[str] = []

    async def draft_status_update(self, context: StatusContext) -> str:
        return await self.inner.draft_status_update(context)

    async def draft_postmortem(self, context: PostmortemContext) -> str:
        return await self.inner.draft_postmortem(context)

    async def is_status_update(self, text: str) -> bool:
        self.asked.append(text)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


async def scripted_world(
    tmp_path: Path, clock: ManualClock, answer: bool | Exception
) -> tuple[World, list[ScriptedLLM]]:
    made: list[ScriptedLLM] = []

    def wrap(inner: LLM) -> LLM:
        made.append(ScriptedLLM(inner, answer=answer))
        return made[-1]

    return await build_world(tmp_path, clock, overrides=Overrides(llm=wrap)), made


@pytest.fixture
async def yes_world(clock: ManualClock, tmp_path: Path) -> AsyncIterator[tuple[World, ScriptedLLM]]:
    world, [llm] = await scripted_world(tmp_path, clock, True)
    try:
        yield world, llm
    finally:
        await world.aclose()


async def nudge_after(world: World, minutes: float) -> NudgeOutcome:
    world.clock.advance(minutes=minutes)
    return await world.nudges.nudge("inc-0001")


async def counted(world: World) -> list[str]:
    return [
        r.key for r in await world.records(A.STATUS_UPDATE_SENT) if r.data.get("via") == "war_room"
    ]


async def test_a_note_goes_on_the_timeline(world: World) -> None:
    await world.open_incident()

    reply = await world.command(f"note {WORKING}", actor="bob@example.com")

    assert reply.ok
    assert reply.text == "Noted on the timeline."
    [note] = await world.records(A.TIMELINE_NOTE_ADDED)
    assert (note.actor, note.data["text"], note.data["source"]) == (
        "bob@example.com",
        WORKING,
        "api command",
    )
    assert await counted(world) == []


async def test_a_note_that_told_customers_pushes_the_reminder_back(world: World) -> None:
    await world.open_incident()
    assert await nudge_after(world, INTERVAL_MINUTES) is NudgeOutcome.SENT
    world.clock.advance(minutes=10)  # 09:25

    reply = await world.command(f"note {TOLD}")

    assert reply.ok
    assert "counts as one for the reminders" in reply.text
    assert reply.data["status_update"] is True
    [record] = await world.records(A.STATUS_UPDATE_SENT)
    assert record.data["via"] == "war_room"
    assert record.actor == "alice@example.com"
    assert (await world.room_texts())[-1] == (
        "Counted as a status update: the reminder to update customers waits until at least "
        "09:40 UTC."
    )
    assert await world.nudges.unanswered("inc-0001") == 0
    # the 09:30 reminder is suppressed, the 09:45 one (20 min after the note) goes out
    assert await nudge_after(world, 5) is NudgeOutcome.SUPPRESSED
    assert await nudge_after(world, INTERVAL_MINUTES) is NudgeOutcome.SENT
    assert (
        "the last status update (a war-room message) was 20 min ago"
        in (await world.room_texts())[-1]
    )


async def test_a_note_that_did_not_tell_anyone_changes_no_reminder(world: World) -> None:
    await world.open_incident()
    world.clock.advance(minutes=10)
    await world.command(f"note {WORKING}")
    assert await nudge_after(world, 5) is NudgeOutcome.SENT


async def test_the_models_answer_decides(
    yes_world: tuple[World, ScriptedLLM],
) -> None:
    world, llm = yes_world
    await world.open_incident()
    world.clock.advance(minutes=5)

    reply = await world.command("note comms sent the enterprise customers an e-mail")

    assert reply.data["status_update"] is True
    assert llm.asked == ["comms sent the enterprise customers an e-mail"]
    assert await nudge_after(world, 10) is NudgeOutcome.SUPPRESSED


async def test_a_failing_drafter_keeps_the_note_and_the_reminders(
    clock: ManualClock, tmp_path: Path
) -> None:
    world, [llm] = await scripted_world(tmp_path, clock, RuntimeError("model down"))
    try:
        await world.open_incident()
        reply = await world.command(f"note {TOLD}")
        assert reply.ok
        assert reply.text == "Noted on the timeline."
        assert len(await world.records(A.TIMELINE_NOTE_ADDED)) == 1
        assert await counted(world) == []
        assert llm.asked == [TOLD]
        assert await nudge_after(world, INTERVAL_MINUTES) is NudgeOutcome.SENT
    finally:
        await world.aclose()


async def test_a_retried_note_counts_once_and_asks_once(
    yes_world: tuple[World, ScriptedLLM],
) -> None:
    world, llm = yes_world
    await world.open_incident()
    for _ in range(2):
        await world.command(f"note {TOLD}", invocation_id="slack-retry-1")
    assert len(await world.records(A.TIMELINE_NOTE_ADDED)) == 1
    assert len(await counted(world)) == 1
    assert llm.asked == [TOLD]
    assert sum("Counted as a status update" in t for t in await world.room_texts()) == 1


async def test_a_note_on_a_resolved_incident_counts_for_nothing(
    yes_world: tuple[World, ScriptedLLM],
) -> None:
    world, _ = yes_world
    await world.open_incident()
    await world.command("resolve")
    await world.drain()

    reply = await world.command(f"note {TOLD}")

    assert reply.text == "Noted on the timeline."
    assert await counted(world) == []


async def test_an_empty_or_huge_note_is_refused_and_changes_nothing(world: World) -> None:
    await world.open_incident()
    for text in ("note", "note    ", "note " + "x" * 2001):
        reply = await world.command(text)
        assert not reply.ok
    assert await world.records(A.TIMELINE_NOTE_ADDED) == []


async def test_a_silenced_room_is_not_told_but_the_update_counts(
    yes_world: tuple[World, ScriptedLLM],
) -> None:
    world, _ = yes_world
    await world.open_incident()
    await world.command("silence")
    await world.command(f"note {TOLD}")
    assert len(await counted(world)) == 1
    assert not any("Counted as a status update" in t for t in await world.room_texts())
