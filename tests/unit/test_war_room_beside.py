"""The war room's work beside the processor, as the composition root wires it: a room whose
bookmarks wait for Slack's limits does not hold a processor slot, and the processor's upkeep
repairs a room left degraded, also in a restarted process. The API says what is still missing."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

from incident_response.bootstrap import Container, Overrides, build
from incident_response.config import load_settings
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.ports import Chat
from incident_response.services.war_room import Step
from incident_response.web.views import incident_json
from tests.support.clock import ManualClock
from tests.support.payloads import oncall_payload


class Wrapped:
    def __init__(self, inner: Chat) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)


async def no_wait(seconds: float) -> None:
    return None


async def start(
    tmp_path: Path, chat: type[Wrapped] | None, clock: ManualClock, **env: str
) -> Container:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
            "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32,
            **env,
        }
    )
    return await build(
        settings,
        base_url="http://incident-response.test",
        clock=clock,
        overrides=Overrides(chat=chat, assembly_sleep=no_wait),  # type: ignore[arg-type]
    )


async def alert(container: Container, n: int, service: str) -> None:
    body = oncall_payload(
        group=f"G{n}",
        title=f"Errors {n} on {service}",
        labels={"alertname": f"Errors{n}", "service": service, "severity": "critical"},
    )
    await container.intake.accept("grafana-oncall", json.dumps(body).encode())


async def assembled(container: Container, count: int, within: float = 10) -> list[Incident]:
    deadline = time.monotonic() + within
    while True:
        found = await container.store.recent(statuses=[IncidentStatus.ASSEMBLED])
        if len(found) >= count:
            return found
        assert time.monotonic() < deadline, f"{len(found)} of {count} rooms assembled"
        await asyncio.sleep(0.02)


async def test_a_room_waiting_for_its_bookmarks_does_not_hold_the_next_alert(
    tmp_path: Path,
) -> None:
    release = asyncio.Event()

    class SlowBookmarks(Wrapped):
        async def add_bookmark(self, channel_id: str, *, title: str, url: str) -> None:
            await release.wait()  # queued behind Slack's tier-2 limit
            await self.inner.add_bookmark(channel_id, title=title, url=url)

    container = await start(
        tmp_path, SlowBookmarks, ManualClock(), INCIDENT_RESPONSE_PROCESSOR_CONCURRENCY="1"
    )
    try:
        container.processor.start()
        await alert(container, 1, "checkout")
        await assembled(container, 1)
        await alert(container, 2, "api")

        rooms = await assembled(container, 2)  # the one slot was free for the second alert

        assert all(Step.TOPIC_AND_BOOKMARKS not in r.assembly_steps for r in rooms)
        release.set()
        await container.assembler.settle()
        for room in await container.store.recent():
            assert room.assembly_steps[Step.TOPIC_AND_BOOKMARKS]["ok"] is True
    finally:
        release.set()
        await container.processor.stop()
        await container.aclose()


class PinOutage(Wrapped):
    async def pin(self, channel_id: str, message_id: str) -> None:
        raise ConnectionError("chat: HTTP 503")


async def test_the_upkeep_repairs_a_degraded_room_after_a_restart(tmp_path: Path) -> None:
    clock = ManualClock()
    first = await start(
        tmp_path, PinOutage, clock, INCIDENT_RESPONSE_ASSEMBLY_STEP_DEADLINE_SECONDS="2"
    )
    try:
        first.processor.start()
        await alert(first, 1, "checkout")
        [degraded] = await assembled(first, 1)
        await first.processor.stop()
        await first.assembler.settle()
        degraded = await first.store.get(degraded.id) or degraded
        shown = incident_json(degraded, timeline=[], people={}, reminder=None)
        assert shown["unfinished_steps"] == ["pin_checklist"]
    finally:
        await first.aclose()

    second = await start(tmp_path, None, clock)  # restarted; the chat works again
    try:
        await second.upkeep.tick()
        await second.assembler.settle()

        repaired = await second.store.get(degraded.id)
        assert repaired is not None
        assert repaired.channel is not None
        assert repaired.assembly_steps[Step.PIN_CHECKLIST]["ok"] is True
        shown = incident_json(repaired, timeline=[], people={}, reminder=None)
        assert shown["unfinished_steps"] == []
        messages = await second.console_chat.messages(repaired.channel.id)
        [checklist] = [m for m in messages if m.key == f"{repaired.id}:checklist"]
        assert await second.console_chat.pins(repaired.channel.id) == [checklist.id]
    finally:
        await second.aclose()
