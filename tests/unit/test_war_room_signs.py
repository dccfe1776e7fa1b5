"""The war room's topic and bookmarks: set beside the assembly once the channel exists, never
holding the room back, degrading on failure, and resumed without a second bookmark."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.adapters.embedded.db import Database
from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.context import PublicStatus
from incident_response.domain.incident import (
    Incident,
    IncidentRole,
    IncidentStatus,
    Responder,
)
from incident_response.services.war_room import Step, needs_assembly
from incident_response.services.war_room_messages import (
    TOPIC_MAX,
    RoomBookmark,
    room_bookmarks,
    room_topic,
)
from tests.support.clock import ManualClock
from tests.unit.test_war_room import STATUS_PAGE_URL, World, Wrapper, build_world
from tests.unit.test_war_room import settled as settled  # the fixture, for this module too

A = AuditEventType
DASHBOARD = "https://grafana.example.com/d/checkout"
RUNBOOK = "https://runbooks.example.com/checkout"
ONCALL = "https://oncall.example.com/alert-groups/G-checkout"


@pytest.fixture
async def world(db: Database, clock: ManualClock, tmp_path: Path) -> World:
    return await build_world(db, clock, tmp_path / "roster.yaml")


async def topic_and_bookmarks(w: World, incident_id: str) -> tuple[str, list[tuple[str, str]]]:
    room = await w.room(incident_id)
    channel = await w.console.channel(room.id)
    assert channel is not None
    return channel.topic, [(b.title, b.url) for b in await w.console.bookmarks(room.id)]


async def test_the_room_gets_a_topic_and_bookmarks(world: World) -> None:
    incident = await world.open_incident(
        labels={"service": "checkout", "severity": "p1", "Runbook-URL": RUNBOOK},
        links={"grafana": DASHBOARD, "web": ONCALL, "generator": "https://prom.example.com/g"},
    )

    await world.assembler.assemble(incident.id)
    await world.assembler.settle()

    done = await world.incident(incident.id)
    topic, bookmarks = await topic_and_bookmarks(world, incident.id)
    assert topic == "P1 · checkout · IC: Alice Martin · status: investigating"
    assert bookmarks == [
        ("Runbook", RUNBOOK),
        ("Dashboard", DASHBOARD),
        ("Alert group", ONCALL),
        ("Status page", STATUS_PAGE_URL),
    ]
    step = done.assembly_steps[Step.TOPIC_AND_BOOKMARKS]
    assert step["ok"] is True
    assert step["bookmarks"] == [url for _, url in bookmarks]
    recorded = [
        r
        for r in await world.records(incident.id, A.ASSEMBLY_STEP_COMPLETED)
        if r.key == Step.TOPIC_AND_BOOKMARKS
    ]
    assert len(recorded) == 1


async def test_without_a_status_page_only_the_alerts_links_are_bookmarked(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w = await build_world(db, clock, tmp_path / "r.yaml", status_page_url=None)
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)
    await w.assembler.settle()

    _, bookmarks = await topic_and_bookmarks(w, incident.id)
    assert bookmarks == [("Dashboard", DASHBOARD)]


async def test_a_hosted_status_page_is_bookmarked_at_the_address_it_gives(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    async def statuspage_address() -> str | None:
        return "https://status.acme.test"

    w = await build_world(db, clock, tmp_path / "r.yaml", status_page_url=statuspage_address)
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)
    await w.assembler.settle()

    _, bookmarks = await topic_and_bookmarks(w, incident.id)
    assert bookmarks == [("Dashboard", DASHBOARD), ("Status page", "https://status.acme.test")]


async def test_a_hosted_status_page_that_cannot_say_where_it_is_gets_no_bookmark(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    async def statuspage_down() -> str | None:
        raise ConnectionError("statuspage: 503")

    w = await build_world(db, clock, tmp_path / "r.yaml", status_page_url=statuspage_down)
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)
    await w.assembler.settle()

    done = await w.incident(incident.id)
    _, bookmarks = await topic_and_bookmarks(w, incident.id)
    assert done.status is IncidentStatus.ASSEMBLED
    assert bookmarks == [("Dashboard", DASHBOARD)]
    assert done.assembly_steps[Step.TOPIC_AND_BOOKMARKS]["ok"] is True


class SignsOutage(Wrapper):
    async def set_topic(self, channel_id: str, topic: str) -> None:
        raise ConnectionError("slack: ratelimited")

    async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None:
        if title == "Dashboard":
            raise ConnectionError("slack: invalid_link")
        await self.inner.add_bookmark(channel_id, title=title, url=url)


async def test_a_topic_or_bookmark_failure_degrades_and_is_told_to_the_room(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    w = await build_world(db, clock, tmp_path / "r.yaml", chat=SignsOutage)
    incident = await w.open_incident()

    await w.assembler.assemble(incident.id)
    await w.assembler.settle()

    done = await w.incident(incident.id)
    assert done.status is IncidentStatus.ASSEMBLED
    step = done.assembly_steps[Step.TOPIC_AND_BOOKMARKS]
    assert step["ok"] is False
    assert "ratelimited" in step["error"]
    assert "invalid_link" in step["error"]
    _, bookmarks = await topic_and_bookmarks(w, incident.id)
    assert bookmarks == [("Status page", STATUS_PAGE_URL)]
    notices = [m for m in await w.messages(incident.id) if ":degraded:" in (m.key or "")]
    assert [m.key for m in notices] == [f"{incident.id}:degraded:topic_and_bookmarks"]
    assert "topic or bookmarks" in notices[0].text
    [assembled] = await w.records(incident.id, A.WAR_ROOM_ASSEMBLED)
    assert assembled.data["degraded"] == []


async def test_the_room_is_assembled_while_bookmarks_still_wait_their_turn(
    db: Database, clock: ManualClock, tmp_path: Path
) -> None:
    """In a storm bookmarks queue behind Slack's tier-2 limit: neither the room nor the caller
    (the processor, whose slot the next alert needs) may wait for them."""
    release = asyncio.Event()

    class SlowBookmarks(Wrapper):
        async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None:
            await release.wait()
            await self.inner.add_bookmark(channel_id, title=title, url=url)

    w = await build_world(db, clock, tmp_path / "r.yaml", chat=SlowBookmarks)
    incident = await w.open_incident()

    async with asyncio.timeout(5):
        assembled = await w.assembler.assemble(incident.id)

    assert assembled.status is IncidentStatus.ASSEMBLED
    midway = await w.incident(incident.id)
    assert Step.TOPIC_AND_BOOKMARKS not in midway.assembly_steps
    assert needs_assembly(midway)
    release.set()
    await w.assembler.settle()
    done = await w.incident(incident.id)
    assert done.assembly_steps[Step.TOPIC_AND_BOOKMARKS]["ok"] is True
    assert not needs_assembly(done)
    _, bookmarks = await topic_and_bookmarks(w, incident.id)
    assert [title for title, _ in bookmarks] == ["Dashboard", "Status page"]


async def test_an_assembled_room_missing_its_bookmarks_gets_them_once(world: World) -> None:
    incident = await world.open_incident()
    done = await world.assembler.assemble(incident.id)
    without = {k: v for k, v in done.assembly_steps.items() if k != Step.TOPIC_AND_BOOKMARKS}
    cut_short = await world.store.save(done.update(assembly_steps=without))
    assert needs_assembly(cut_short)

    await world.assembler.assemble(incident.id)
    await world.assembler.settle()

    again = await world.incident(incident.id)
    assert Step.TOPIC_AND_BOOKMARKS in again.assembly_steps
    assert again.status is IncidentStatus.ASSEMBLED
    _, bookmarks = await topic_and_bookmarks(world, incident.id)
    assert bookmarks == [("Dashboard", DASHBOARD), ("Status page", STATUS_PAGE_URL)]
    assert not needs_assembly(await world.incident(incident.id))


async def test_a_resolved_incident_needs_no_more_assembly(world: World) -> None:
    incident = await world.open_incident()
    done = await world.assembler.assemble(incident.id)
    without = {k: v for k, v in done.assembly_steps.items() if k != Step.TOPIC_AND_BOOKMARKS}
    resolved = done.update(assembly_steps=without).transition(
        IncidentStatus.RESOLVED, at=world.clock.now()
    )

    assert not needs_assembly(resolved)


# -- the topic and the bookmarks as pure functions of the incident --------------------------


def incident_with(
    *,
    service: str = "checkout",
    ic: str | None = "bob@example.com",
    responders: tuple[Responder, ...] = (),
    labels: dict[str, str] | None = None,
    links: dict[str, str] | None = None,
    status: IncidentStatus = IncidentStatus.ASSEMBLED,
) -> Incident:
    now = datetime(2026, 11, 26, 9, 30, tzinfo=UTC)
    return Incident(
        id="inc-abc123",
        severity=Severity.P2,
        title="Checkout errors",
        source=AlertSource.GRAFANA_ONCALL,
        alert_group_id="G1",
        alert_group_key="grafana-oncall:G1",
        service=service,
        status=status,
        created_at=now,
        updated_at=now,
        ic=ic,
        responders=responders,
        labels=labels or {},
        links=links or {},
    )


def test_the_topic_names_the_ic_by_name_and_follows_the_public_status() -> None:
    bob = Responder(email="Bob@Example.com", name="Bob Okafor", chat_id="UBOB", role="ic")

    assert room_topic(incident_with(responders=(bob,))) == (
        "P2 · checkout · IC: Bob Okafor · status: investigating"
    )
    assert room_topic(incident_with(status=IncidentStatus.MITIGATED)).endswith(
        "IC: bob@example.com · status: monitoring"
    )
    assert "IC: nobody yet" in room_topic(incident_with(ic=None))


def test_a_drills_topic_says_it_is_a_drill_first() -> None:
    bob = Responder(email="bob@example.com", name="Bob Okafor", role="ic")
    drill = incident_with(responders=(bob,), labels={"service": "checkout", "drill": "true"})

    assert room_topic(drill) == (
        "DRILL: nothing is published · P2 · checkout · IC: Bob Okafor · status: investigating"
    )


def test_the_topic_follows_the_stage_and_names_the_role_holders() -> None:
    bob = Responder(email="bob@example.com", name="Bob Okafor", role="ic")
    ann = Responder(email="ann@example.com", name="Ann Lee", role="comms")
    incident = incident_with(responders=(bob, ann)).update(
        stage=PublicStatus.IDENTIFIED,
        roles={IncidentRole.OPS: "ops@example.com", IncidentRole.COMMS: "ann@example.com"},
    )

    assert room_topic(incident) == (
        "P2 · checkout · IC: Bob Okafor · status: identified · comms: Ann Lee · "
        "ops: ops@example.com"
    )
    # mitigated means at least monitoring, whatever stage was set before
    assert room_topic(incident.update(status=IncidentStatus.MITIGATED)).startswith(
        "P2 · checkout · IC: Bob Okafor · status: monitoring"
    )


@given(
    service=st.text(min_size=1, max_size=400),
    name=st.text(max_size=400),
)
def test_the_topic_always_fits_slack_and_keeps_severity_and_status(service: str, name: str) -> None:
    ic = Responder(email="ic@example.com", name=name, role="ic")
    topic = room_topic(incident_with(service=service, ic="ic@example.com", responders=(ic,)))

    assert len(topic) <= TOPIC_MAX
    assert topic.startswith("P2 · ")
    assert topic.endswith(" · status: investigating")


def test_bookmarks_take_the_first_web_url_of_each_kind_links_before_labels() -> None:
    incident = incident_with(
        links={"dashboard": "not a url", "Dashboard_URL": DASHBOARD, "runbook": RUNBOOK},
        labels={"runbook_url": "https://other.example.com/rb", "grafana": "ftp://x"},
    )

    assert room_bookmarks(incident, None) == [
        RoomBookmark("Runbook", RUNBOOK),
        RoomBookmark("Dashboard", DASHBOARD),
    ]


def test_a_url_is_bookmarked_once_and_bad_urls_never() -> None:
    incident = incident_with(
        links={"runbook": DASHBOARD, "dashboard": DASHBOARD, "web": "https://[::1/broken"},
        labels={"alertmanager": "http:// spaced.example.com"},
    )

    assert room_bookmarks(incident, "javascript:alert(1)") == [RoomBookmark("Runbook", DASHBOARD)]
    assert room_bookmarks(incident_with(), STATUS_PAGE_URL) == [
        RoomBookmark("Status page", STATUS_PAGE_URL)
    ]
