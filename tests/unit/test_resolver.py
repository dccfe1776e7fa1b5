"""The Resolver: resolve once however often it is asked, resume after a crash at any point,
and leave customers' resolved update as a draft for the IC."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from incident_response.domain.audit import AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.context import Change
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.messages import QueueMessage
from incident_response.domain.status_update import DraftKind, DraftStatus
from incident_response.processor import Processor
from incident_response.services.draft_card import APPROVE, EDIT, REJECT, parse_draft_value
from incident_response.services.nudges import schedule_name
from incident_response.services.resolver import (
    PULSE_ACTION,
    RESOLVE_ACTION,
    ResolutionIncomplete,
    Step,
)
from incident_response.services.sla import schedule_prefix
from tests.support.clock import ManualClock
from tests.unit.commands.world import World, build_world

A = AuditEventType
INCIDENT = "inc-0001"


@asynccontextmanager
async def fresh_world(directory: Path) -> AsyncIterator[World]:
    built = await build_world(directory, ManualClock())
    try:
        yield built
    finally:
        await built.aclose()


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    async with fresh_world(tmp_path) as built:
        yield built


class Crash(BaseException):
    """The process dying mid-step (a SIGKILL): no `except Exception` in the code catches it."""


class CrashAfter:
    """Wraps a port; the `nth` matching call of `method` takes effect, then the process dies."""

    def __init__(
        self,
        inner: Any,
        method: str,
        *,
        nth: int = 1,
        when: Callable[..., bool] = lambda *args, **kwargs: True,
    ) -> None:
        self._inner = inner
        self._method = method
        self._nth = nth
        self._when = when
        self.calls = 0

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self._inner, name)
        if name != self._method:
            return attr

        async def call_then_crash(*args: Any, **kwargs: Any) -> Any:
            result = await attr(*args, **kwargs)
            if self._when(*args, **kwargs):
                self.calls += 1
                if self.calls == self._nth:
                    raise Crash(f"crashed after {self._method} #{self.calls}")
            return result

        return call_then_crash


class Failing:
    """Wraps a port whose `method` fails the way a vendor outage does."""

    def __init__(self, inner: Any, method: str, error: Exception) -> None:
        self._inner = inner
        self._method = method
        self._error = error

    def __getattr__(self, name: str) -> Any:
        if name != self._method:
            return getattr(self._inner, name)

        async def fail(*args: Any, **kwargs: Any) -> Any:
            raise self._error

        return fail


class RecentChanges:
    """A code host with one merged change, to see changes reach the postmortem."""

    def __init__(self, change: Change) -> None:
        self.change = change
        self.asked: list[dict[str, Any]] = []

    async def recent_changes(self, **kwargs: Any) -> list[Change]:
        self.asked.append(kwargs)
        return [self.change]

    async def owners(self, *, service: str) -> list[str]:
        return []


class NoPostmortemLLM:
    async def draft_postmortem(self, context: Any) -> str:
        raise TimeoutError("model did not answer in 30 s")


async def resolve_via_queue(world: World, *, actor: str = "alice@example.com") -> None:
    reply = await world.command("resolve", actor=actor)
    assert reply.ok, reply.text
    assert await world.drain() == 1


async def assert_resolved_exactly_once(world: World) -> None:
    """What people would notice if anything had happened twice, or not at all."""
    incident = await world.incident()
    assert incident.status is IncidentStatus.RESOLVED
    assert [s for s in Step if s.value not in incident.resolution_steps] == []
    assert len(await world.issues.list()) == 1
    assert incident.postmortem is not None
    resolved_drafts = [d for d in incident.drafts if d.kind is DraftKind.RESOLVED]
    assert [d.status for d in resolved_drafts] == [DraftStatus.DRAFT]
    for event in (
        A.POSTMORTEM_CREATED,
        A.INCIDENT_RESOLVED,
        A.WAR_ROOM_ARCHIVED,
        A.STATUSPAGE_DRAFT_CREATED,
    ):
        assert len(await world.records(event)) == 1, event
    assert incident.channel is not None
    channel = await world.chat.channel(incident.channel.id)
    assert channel is not None
    assert channel.archived
    messages = await world.chat.messages(incident.channel.id)
    pulses = [m for m in messages if any(b.action == PULSE_ACTION for b in m.buttons)]
    assert len(pulses) == 1
    assert len(await world.chat.messages(world.announcements.id)) == 1
    assert [(b.title, b.url) for b in await world.chat.bookmarks(channel.id)] == [
        ("Postmortem", incident.postmortem.url)
    ]
    [card] = [m for m in messages if any(b.action == APPROVE for b in m.buttons)]
    assert card.buttons[0].value == f"{resolved_drafts[0].id}:{resolved_drafts[0].version}"
    assert (await world.status_page.incidents())["incidents"] == []
    assert (await world.audit.verify(INCIDENT)).ok


async def test_resolution_files_the_postmortem_drafts_the_update_and_archives_the_room(
    world: World,
) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None

    await resolve_via_queue(world, actor="bob@example.com")

    await assert_resolved_exactly_once(world)
    resolved = await world.incident()
    assert resolved.resolved_at == world.clock.now()
    [record] = await world.records(A.INCIDENT_RESOLVED)
    assert record.actor == "bob@example.com"
    [draft] = resolved.drafts
    assert draft.created_by == "bob@example.com"
    assert await world.scheduler.get(schedule_name(INCIDENT)) is None
    assert await world.scheduler.schedules(schedule_prefix(INCIDENT)) == []
    texts = await world.room_texts()
    assert any(t.startswith("Postmortem draft filed: ") for t in texts)
    [card, pulse] = [m for m in await world.chat.messages(incident.channel.id) if m.buttons]
    assert f"resolved status update {draft.id}" in card.text
    assert draft.body.splitlines()[0] in card.sections[0]
    assert [(b.action, b.value) for b in card.buttons] == [
        (APPROVE, f"{draft.id}:{draft.version}"),
        (EDIT, f"{draft.id}:{draft.version}"),
        (REJECT, f"{draft.id}:{draft.version}"),
    ]
    assert card.buttons[0].confirm
    assert [(b.action, b.value) for b in pulse.buttons] == [
        (PULSE_ACTION, str(n)) for n in range(1, 6)
    ]
    [announcement] = await world.chat.messages(world.announcements.id)
    assert "Resolved: P2 Checkout error rate above 5% (inc-0001)" in announcement.text
    assert resolved.postmortem is not None
    assert resolved.postmortem.url in announcement.text


async def test_postmortem_tells_the_story_with_dates_not_the_audit_log(world: World) -> None:
    await world.open_incident()
    world.clock.advance(minutes=10)
    await world.command("note rolled back checkout 1.2.3", actor="bob@example.com")
    await world.command("checklist done 2", actor="bob@example.com")
    world.clock.advance(minutes=20)

    await resolve_via_queue(world)

    incident = await world.incident()
    assert incident.postmortem is not None
    text = await world.issues.read(incident.postmortem.id)
    assert text is not None
    assert "Checkout error rate above 5%" in text
    story = text.split("## Timeline (UTC)", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in story.splitlines() if line.startswith("| 2026")]
    assert rows == [
        "| 2026-11-26 09:00:00 | system | Opened |",
        # by name: the postmortem is read beyond the war room
        "| 2026-11-26 09:10:00 | Bob Okafor | rolled back checkout 1.2.3 |",
        "| 2026-11-26 09:30:00 | Alice Martin | Resolved |",
    ]
    assert "@example.com" not in text
    for section in ("Summary", "Impact", "Contributing factors", "Lessons learned", "Follow-ups"):
        assert f"\n## {section}\n" in text


async def test_recent_changes_since_a_day_before_the_incident_reach_the_postmortem(
    world: World,
) -> None:
    await world.open_incident()
    change = Change(
        repo="shop/checkout",
        sha="0123456789abcdef",
        title="Raise the payment client timeout",
        author="dan",
        at=world.clock.now(),
    )
    code_host = RecentChanges(change)

    await world.command("resolve")
    await world.drain(resolver=world.resolver_with(code_host=code_host))

    [asked] = code_host.asked
    assert asked["service"] == "checkout"
    assert (world.clock.now() - asked["since"]).total_seconds() == 24 * 3600
    incident = await world.incident()
    assert incident.postmortem is not None
    text = await world.issues.read(incident.postmortem.id)
    assert text is not None
    assert "Raise the payment client timeout" in text


async def test_resolve_to_postmortem_time_is_measured(world: World) -> None:
    await world.open_incident()
    world.clock.advance(minutes=5)
    asked_at = world.clock.now()
    await world.command("resolve")
    world.clock.advance(seconds=42)

    await world.drain()

    [record] = await world.records(A.POSTMORTEM_CREATED)
    assert record.data["resolve_to_postmortem_seconds"] == 42.0
    incident = await world.incident()
    assert incident.resolution_steps["postmortem"]["resolve_to_postmortem_seconds"] == 42.0
    assert incident.resolved_at == asked_at  # resolved as of when resolution was asked for


async def test_resolving_twice_at_once_resolves_once(world: World) -> None:
    await world.open_incident()

    replies = await asyncio.gather(
        world.command("resolve", actor="alice@example.com"),
        world.command("resolve", actor="bob@example.com"),
    )

    assert sorted(r.ok for r in replies) == [False, True]
    loser = next(r for r in replies if not r.ok)
    assert "already being resolved" in loser.text
    assert loser.data["state"] == "already_resolving"
    assert await world.queue.depth() == 1
    processor = Processor(queue=world.queue, registry=world.events, idle_wait=0.005)
    processor.start()
    try:
        await processor.drain(within_seconds=10)
    finally:
        await processor.stop()
    assert processor.processed == 1
    assert processor.failed == 0
    await assert_resolved_exactly_once(world)


async def test_resolve_after_resolution_says_it_is_already_resolved(world: World) -> None:
    await world.open_incident()
    await resolve_via_queue(world)

    again = await world.command("resolve", actor="bob@example.com")

    assert not again.ok
    assert "already resolved" in again.text
    incident = await world.incident()
    assert incident.postmortem is not None
    assert incident.postmortem.url in again.text
    assert await world.queue.depth() == 0


def _pulse_post(channel_id: str, message: ChatMessage) -> bool:
    return bool(message.key and message.key.endswith(":pulse"))


CRASH_POINTS: dict[str, Callable[[World], dict[str, Any]]] = {
    "after filing the postmortem": lambda w: {"issues": CrashAfter(w.issues, "file_postmortem")},
    "after creating the resolved draft": lambda w: {"gate": CrashAfter(w.gate, "create_draft")},
    "after bookmarking the postmortem": lambda w: {"chat": CrashAfter(w.chat, "add_bookmark")},
    "after posting the pulse rating": lambda w: {
        "chat": CrashAfter(w.chat, "post", when=_pulse_post)
    },
    "after announcing": lambda w: {
        "chat": CrashAfter(
            w.chat, "post", when=lambda channel_id, message: channel_id == w.announcements.id
        )
    },
    "after archiving the room": lambda w: {"chat": CrashAfter(w.chat, "archive")},
}


@pytest.mark.parametrize("point", list(CRASH_POINTS))
async def test_a_crash_after_a_step_effect_resumes_without_repeating_it(
    world: World, point: str
) -> None:
    await world.open_incident()
    await world.command("resolve")
    crashing = world.resolver_with(**CRASH_POINTS[point](world))

    with pytest.raises(Crash):
        await world.drain(resolver=crashing)
    world.clock.advance(seconds=31)  # the queue's visibility timeout: the message comes back
    assert await world.drain() == 1

    await assert_resolved_exactly_once(world)


async def test_a_crash_after_any_saved_step_resumes_without_repeating_anything(
    tmp_path: Path,
) -> None:
    nth = 1
    while True:
        async with fresh_world(tmp_path / f"crash-{nth}") as world:
            await world.open_incident()
            await world.command("resolve")
            store = CrashAfter(world.store, "save", nth=nth)
            try:
                await world.drain(resolver=world.resolver_with(store=store, gate=world.gate))
            except Crash:
                world.clock.advance(seconds=31)
                assert await world.drain() == 1
                await assert_resolved_exactly_once(world)
            else:
                await assert_resolved_exactly_once(world)
                break
        nth += 1
    print(f"crashed after each of {nth - 1} saves")
    assert nth > len(Step)  # every step's record was crashed after at least once


async def test_the_resolved_draft_waits_for_the_ic_and_publishes_on_approval(
    world: World,
) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None
    await resolve_via_queue(world)
    [draft] = (await world.incident()).drafts
    assert draft.kind is DraftKind.RESOLVED
    assert (await world.status_page.incidents())["incidents"] == []
    [card] = [
        m
        for m in await world.chat.messages(incident.channel.id)
        if any(b.action == APPROVE for b in m.buttons)
    ]
    pressed = parse_draft_value(card.buttons[0].value)
    assert pressed is not None

    draft_id, version = pressed
    await world.gate.approve_and_publish(
        INCIDENT, draft_id, version=version, actor="alice@example.com"
    )

    [public] = (await world.status_page.incidents())["incidents"]
    assert public["status"] == "resolved"
    assert len(await world.records(A.STATUSPAGE_PUBLISHED)) == 1


async def test_an_unreachable_announcements_channel_degrades_and_never_blocks(
    world: World,
) -> None:
    await world.open_incident()
    await world.command("resolve")

    await world.drain(resolver=world.resolver_with(announcements_channel="C-GONE"))

    incident = await world.incident()
    assert incident.status is IncidentStatus.RESOLVED
    assert "NotFound" in incident.resolution_steps["announced"]["error"]
    assert len(await world.records(A.WAR_ROOM_ARCHIVED)) == 1
    assert any("could not be announced" in t for t in await world.room_texts())


async def test_a_room_that_cannot_be_archived_is_reported_not_raised(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None
    chat = Failing(world.chat, "archive", PermissionError("missing scope channels:manage"))

    await world.command("resolve")
    await world.drain(resolver=world.resolver_with(chat=chat))

    resolved = await world.incident()
    assert resolved.status is IncidentStatus.RESOLVED
    [failed] = await world.records(A.WAR_ROOM_ARCHIVE_FAILED)
    assert "missing scope channels:manage" in failed.data["error"]
    assert await world.records(A.WAR_ROOM_ARCHIVED) == []
    assert any("please archive it by hand" in t for t in await world.room_texts())
    channel = await world.chat.channel(incident.channel.id)
    assert channel is not None
    assert not channel.archived


async def test_a_postmortem_bookmark_failure_is_recorded_and_resolution_goes_on(
    world: World,
) -> None:
    await world.open_incident()
    chat = Failing(world.chat, "add_bookmark", ConnectionError("slack: ratelimited"))

    await world.command("resolve")
    await world.drain(resolver=world.resolver_with(chat=chat))

    incident = await world.incident()
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.postmortem is not None
    bookmark = incident.resolution_steps["postmortem"]["bookmark"]
    assert bookmark["ok"] is False
    assert "ratelimited" in bookmark["error"]
    assert len(await world.records(A.WAR_ROOM_ARCHIVED)) == 1


async def test_a_failed_llm_still_files_a_postmortem_of_the_facts(world: World) -> None:
    await world.open_incident()
    await world.command("resolve")

    await world.drain(resolver=world.resolver_with(llm=NoPostmortemLLM()))

    incident = await world.incident()
    assert incident.postmortem is not None
    text = await world.issues.read(incident.postmortem.id)
    assert text is not None
    assert "without the language model" in text
    assert "2026-11-26 09:00:00 UTC Opened (system)" in text
    [record] = await world.records(A.POSTMORTEM_CREATED)
    assert record.data["drafted_by"] == "skeleton"
    assert any("postmortem drafter failed" in t for t in await world.room_texts())


async def test_an_issue_tracker_outage_resolves_anyway_and_files_on_retry(world: World) -> None:
    await world.open_incident()
    await world.command("resolve")
    down = Failing(world.issues, "file_postmortem", ConnectionError("tracker unreachable"))

    with pytest.raises(ResolutionIncomplete, match="postmortem failed"):
        await world.resolver_with(issues=down).resolve(INCIDENT, "alice@example.com")

    incident = await world.incident()
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.postmortem is None
    assert "postmortem" not in incident.resolution_steps
    assert len(await world.records(A.WAR_ROOM_ARCHIVED)) == 1
    assert any("postmortem step failed" in t for t in await world.room_texts())

    await world.resolver.resolve(INCIDENT, "alice@example.com")

    await assert_resolved_exactly_once(world)


async def test_an_incident_without_a_room_is_resolved_too(world: World) -> None:
    await world.open_incident(room=False)

    await resolve_via_queue(world)

    incident = await world.incident()
    assert incident.status is IncidentStatus.RESOLVED
    assert incident.postmortem is not None
    assert incident.resolution_steps["archived"]["skipped"] == "no war room"
    assert incident.resolution_steps["pulse"]["skipped"] == "no war room"


async def test_ask_to_resolve_asks_the_ic_once_per_mitigation(world: World) -> None:
    incident = await world.open_incident()
    assert incident.channel is not None
    await world.store.save(incident.transition(IncidentStatus.MITIGATED, at=world.clock.now()))

    asked = await world.resolver.ask_to_resolve(INCIDENT)
    again = await world.resolver.ask_to_resolve(INCIDENT)

    assert asked
    assert again
    [question] = [m for m in await world.chat.messages(incident.channel.id) if m.buttons]
    assert question.text.startswith("Alice Martin: the alert source reports the problem is gone")
    [button] = question.buttons
    assert (button.action, button.value) == (RESOLVE_ACTION, INCIDENT)
    assert button.confirm


async def test_ask_to_resolve_does_not_ask_about_a_resolved_incident(world: World) -> None:
    await world.open_incident()
    await resolve_via_queue(world)

    assert not await world.resolver.ask_to_resolve(INCIDENT)
    assert not await world.resolver.ask_to_resolve("inc-unknown")


async def test_the_resolution_event_for_an_unknown_incident_is_dropped(world: World) -> None:
    message = QueueMessage(
        type="INCIDENT_RESOLUTION", payload={"incident_id": "inc-unknown", "actor": "x@y.z"}
    )

    await world.events.dispatch(message)

    assert await world.store.get("inc-unknown") is None
    assert await world.audit.records("inc-unknown") == []


async def test_a_resolution_queued_without_a_person_still_drafts_the_resolved_update(
    world: World,
) -> None:
    """The saga runs after the policy allowed the resolve; its own steps are not a person's
    request, so a requester who left the roster meanwhile (or none at all) blocks nothing."""
    await world.open_incident()

    await world.resolver.resolve(INCIDENT, "system")

    incident = await world.incident()
    assert incident.status is IncidentStatus.RESOLVED
    [resolved] = [d for d in incident.drafts if d.kind is DraftKind.RESOLVED]
    assert resolved.status is DraftStatus.DRAFT


async def test_a_resolution_left_unfinished_by_a_long_outage_is_queued_again_by_upkeep(
    world: World,
) -> None:
    """Linear down longer than the queue's retries: the message dead-letters, and still the
    postmortem gets filed, without anyone sending `resolve` again and without a message a
    minute in the room."""
    await world.open_incident()
    await world.command("resolve")
    down = Failing(world.issues, "file_postmortem", ConnectionError("tracker unreachable"))
    with pytest.raises(ResolutionIncomplete):
        await world.resolver_with(issues=down).resolve(INCIDENT, "alice@example.com")
    while await world.queue.depth():  # the resolution's own message is gone (dead-lettered)
        [delivery] = await world.queue.receive(max_messages=1)
        await world.queue.ack(delivery)
    every = timedelta(seconds=60)
    sent_at: list[int] = []
    for minute in range(1, 20):  # upkeep ticks for 19 minutes
        world.clock.advance(seconds=60)
        if await world.resolver.resume_unfinished(every=every):
            sent_at.append(minute)

    assert sent_at == [2, 4, 8, 16]  # once per doubling of its age, not every minute
    assert await world.drain() >= 1
    await assert_resolved_exactly_once(world)


async def test_a_finished_resolution_is_never_queued_again(world: World) -> None:
    await world.open_incident()
    await resolve_via_queue(world)
    world.clock.advance(minutes=2)

    assert await world.resolver.resume_unfinished(every=timedelta(minutes=1)) == 0


async def test_followups_are_listed_in_the_markdown_postmortem_with_their_links(
    world: World,
) -> None:
    await world.open_incident()
    await world.command("followup Alert on pool exhaustion @bob@example.com")
    await world.command("followup Write the failover runbook")

    await resolve_via_queue(world)

    incident = await world.incident()
    assert incident.postmortem is not None
    anchor = f"{incident.postmortem.url}#follow-ups"
    assert [(f.text, f.issue and f.issue.url) for f in incident.followups] == [
        ("Alert on pool exhaustion", anchor),
        ("Write the failover runbook", anchor),
    ]
    filed = await world.records(A.FOLLOWUP_FILED)
    assert [(r.data["id"], r.data["url"]) for r in filed] == [
        (f.id, anchor) for f in incident.followups
    ]
    text = await world.issues.read(incident.postmortem.id)
    assert text is not None
    followups = text.split("\n## Follow-ups\n", 1)[1].split("\n## ", 1)[0]
    assert "| Alert on pool exhaustion | Bob Okafor |" in followups
    assert "| Write the failover runbook | unassigned |" in followups


async def test_a_resolution_run_again_files_each_followup_once(world: World) -> None:
    await world.open_incident()
    await world.command("followup Alert on pool exhaustion")
    await world.command("resolve")
    crashing = world.resolver_with(
        issues=CrashAfter(world.issues, "file_followup"), gate=world.gate
    )

    with pytest.raises(Crash):
        await world.drain(resolver=crashing)
    world.clock.advance(seconds=31)
    assert await world.drain() == 1
    await world.resolver.resolve(INCIDENT, "system")

    incident = await world.incident()
    [item] = incident.followups
    assert item.issue is not None
    assert len(await world.records(A.FOLLOWUP_FILED)) == 1
    assert len(await world.records(A.POSTMORTEM_CREATED)) == 1
    await assert_resolved_exactly_once(world)


async def test_the_postmortem_waits_for_the_followups_it_links(world: World) -> None:
    await world.open_incident()
    await world.command("followup Alert on pool exhaustion")
    await world.command("resolve")
    down = Failing(world.issues, "file_followup", ConnectionError("tracker unreachable"))

    with pytest.raises(ResolutionIncomplete, match="followups failed"):
        await world.resolver_with(issues=down).resolve(INCIDENT, "alice@example.com")

    incident = await world.incident()
    assert incident.postmortem is None
    assert "postmortem" not in incident.resolution_steps
    assert incident.status is IncidentStatus.RESOLVED
    said = [t for t in await world.room_texts() if "step failed" in t]
    assert len(said) == 1
    assert "followups step failed" in said[0]
    await world.resolver.resolve(INCIDENT, "system")
    incident = await world.incident()
    assert incident.postmortem is not None
    [item] = incident.followups
    text = await world.issues.read(incident.postmortem.id)
    assert text is not None
    assert item.issue is not None
    assert "| Alert on pool exhaustion | unassigned |" in text


async def test_a_followup_after_the_followups_were_filed_is_refused(world: World) -> None:
    await world.open_incident()
    await world.command("resolve")
    incident = await world.incident()
    await world.store.save(
        incident.update(resolution_steps={**incident.resolution_steps, "followups": {}})
    )

    reply = await world.command("followup Too late for the tracker")

    assert not reply.ok
    assert "already filed" in reply.text
    assert (await world.incident()).followups == ()


class PostmortemWithoutLinks:
    """A language model that drafts a postmortem but leaves the follow-ups' links out."""

    async def draft_postmortem(self, context: Any) -> str:
        return "# Postmortem\n\n## Summary\n\nCheckout failed.\n"


async def test_a_drafted_postmortem_that_drops_a_followup_link_gets_them_listed(
    world: World,
) -> None:
    await world.open_incident()
    await world.command("followup Alert on pool exhaustion")
    await world.command("resolve")

    await world.drain(resolver=world.resolver_with(llm=PostmortemWithoutLinks()))

    incident = await world.incident()
    assert incident.postmortem is not None
    [item] = incident.followups
    assert item.issue is not None
    text = await world.issues.read(incident.postmortem.id)
    assert text is not None
    assert "Checkout failed." in text
    assert f"- Alert on pool exhaustion: [{item.issue.id}]({item.issue.url})" in text
