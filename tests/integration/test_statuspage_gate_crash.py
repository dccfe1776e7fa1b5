"""Crashes between Statuspage taking an approved update and the gate recording it: the gate's
recovery, in a restarted process, finds the update by the adapter's marker and records it, so
customers see each approved text exactly once. The StatusUpdateGate on the real embedded store and
audit log, the Statuspage adapter over HTTP, the fake Statuspage."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.statuspage.statuspage_io import StatuspageIo
from incident_response.domain.audit import AuditEventType
from incident_response.domain.context import PublishedUpdate, PublishRequest
from incident_response.domain.status_update import DraftStatus, StatusDraft
from incident_response.http import OutboundHttp
from incident_response.services.status_update_gate import PublishFailed
from tests.fakes.statuspage import FakeStatuspage
from tests.support.clock import ManualClock
from tests.support.statuspage import Sleeps, statuspage_io
from tests.unit.test_status_update_gate import GRACE, IC, INCIDENT_ID, RESPONDER, World, build_world


class KilledAfterTheCall:
    """The Statuspage adapter, with the process dying right after the next `crashes` publishes
    came back from Statuspage: the update is on the page, the gate never hears of it."""

    def __init__(self, real: StatuspageIo) -> None:
        self.real = real
        self.crashes = 0

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        update = await self.real.publish(request)
        if self.crashes:
            self.crashes -= 1
            raise ConnectionResetError("process killed before the gate recorded the update")
        return update

    async def find_published(self, key: str) -> PublishedUpdate | None:
        return await self.real.find_published(key)


@pytest.fixture
async def fake() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as server:
        yield server
        assert server.violations == []


@pytest.fixture
async def processes() -> AsyncIterator[list[OutboundHttp]]:
    """Each process's outbound HTTP; closed at the end."""
    made: list[OutboundHttp] = []
    yield made
    for http in made:
        await http.aclose()


@pytest.fixture
async def world(
    db: Database, clock: ManualClock, fake: FakeStatuspage, processes: list[OutboundHttp]
) -> World:
    world = await build_world(db, clock)
    world.page = KilledAfterTheCall(process(fake, processes))  # type: ignore[assignment]
    world.gate = world.new_gate()
    return world


def process(fake: FakeStatuspage, processes: list[OutboundHttp]) -> StatuspageIo:
    """The adapter of a newly started process: it remembers nothing."""
    http = OutboundHttp(sleep=Sleeps())
    processes.append(http)
    return statuspage_io(fake, http)


async def restart(world: World, fake: FakeStatuspage, processes: list[OutboundHttp]) -> None:
    """The process comes back after the gate's grace: a new adapter, a new gate."""
    world.clock.advance(seconds=GRACE.total_seconds())
    world.page = KilledAfterTheCall(process(fake, processes))  # type: ignore[assignment]
    world.gate = world.new_gate()


async def approve(world: World, text: str) -> StatusDraft:
    world.drafter.text = text
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=draft.version, actor=IC)
    return draft


async def crashed_approval(world: World, text: str) -> StatusDraft:
    world.drafter.text = text
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    with pytest.raises(PublishFailed, match="The approval stands"):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert (await world.draft(draft.id)).status is DraftStatus.APPROVED
    return draft


async def assert_recorded_once(world: World, draft: StatusDraft, fake: FakeStatuspage) -> None:
    stored = await world.draft(draft.id)
    assert stored.status is DraftStatus.PUBLISHED
    incident = await world.incident()
    assert incident.status_page is not None
    assert list(fake.incidents) == [incident.status_page.incident_id]
    published = await world.records(AuditEventType.STATUSPAGE_PUBLISHED)
    assert [r.data["key"] for r in published].count(f"{draft.id}:v1") == 1


async def test_killed_after_statuspage_created_the_incident_recovery_posts_nothing_more(
    world: World, fake: FakeStatuspage, processes: list[OutboundHttp]
) -> None:
    world.page.crashes = 1  # type: ignore[attr-defined]
    draft = await crashed_approval(world, "We are investigating errors at checkout.")
    assert fake.all_updates() == [
        (next(iter(fake.incidents)), "investigating", "We are investigating errors at checkout.")
    ]

    await restart(world, fake, processes)
    [outcome] = await world.gate.recover(INCIDENT_ID)

    assert (outcome.status, outcome.published_now) == (DraftStatus.PUBLISHED, False)
    assert len(fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")) == 1
    assert [body for _, _, body in fake.all_updates()] == [
        "We are investigating errors at checkout."
    ]
    await assert_recorded_once(world, draft, fake)
    assert await world.gate.recover(INCIDENT_ID) == []
    assert len(fake.all_updates()) == 1


async def test_a_create_whose_answer_was_lost_is_recorded_by_recovery_not_posted_again(
    world: World, fake: FakeStatuspage, processes: list[OutboundHttp]
) -> None:
    fake.lose_next_response(503)
    draft = await crashed_approval(world, "We are investigating errors at checkout.")
    assert len(fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")) == 1

    await restart(world, fake, processes)
    [outcome] = await world.gate.recover(INCIDENT_ID)

    assert not outcome.published_now
    assert len(fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")) == 1
    assert [body for _, _, body in fake.all_updates()] == [
        "We are investigating errors at checkout."
    ]
    await assert_recorded_once(world, draft, fake)


async def test_killed_after_a_later_update_went_out_recovery_adds_no_second_copy(
    world: World, fake: FakeStatuspage, processes: list[OutboundHttp]
) -> None:
    await approve(world, "We are investigating errors at checkout.")
    world.page.crashes = 1  # type: ignore[attr-defined]
    later = await crashed_approval(world, "A fix is rolling out; checkout is recovering.")

    await restart(world, fake, processes)
    [outcome] = await world.gate.recover(INCIDENT_ID)

    assert (outcome.draft_id, outcome.published_now) == (later.id, False)
    [incident_id] = fake.incidents
    assert fake.bodies(incident_id) == [
        "We are investigating errors at checkout.",
        "A fix is rolling out; checkout is recovering.",
    ]
    assert len(fake.calls_to("PATCH", f"/v1/pages/{fake.page_id}/incidents/")) == 1
    await assert_recorded_once(world, later, fake)


async def test_while_statuspage_is_down_the_approval_waits_and_recovery_posts_it_once(
    world: World, fake: FakeStatuspage, processes: list[OutboundHttp]
) -> None:
    fake.fail_next(3, status=503)  # every try of the lookup before the create
    draft = await crashed_approval(world, "We are investigating errors at checkout.")
    assert fake.incidents == {}

    await restart(world, fake, processes)
    [outcome] = await world.gate.recover(INCIDENT_ID)

    assert outcome.published_now
    assert [body for _, _, body in fake.all_updates()] == [
        "We are investigating errors at checkout."
    ]
    await assert_recorded_once(world, draft, fake)
