"""Twenty rooms at once while Slack answers a fifth of all calls with HTTP 500 (the fake Slack
injects them itself, on a seeded share of its calls): every room is fully staffed with its
checklist pinned, and nobody sees anything twice (one brief, one checklist, one pin)."""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from pathlib import Path

from incident_response.adapters.slack import RateTable
from incident_response.domain.incident import Incident
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import PEOPLE, TIME_SCALE
from tests.integration.slack.world import build_slack_world
from tests.support.payloads import oncall_payload

ROOMS = 20
STAFF = {p["id"] for p in PEOPLE}
ROSTER = (
    "people:\n"
    + "".join(
        f"  - {{name: {p['name']}, email: {p['email']}"
        + ("" if p["id"] in ("U0BOB", "U0ERIN") else f", chat_id: {p['id']}")
        + "}\n"
        for p in PEOPLE
    )
    + f"teams:\n  payments: [{', '.join(p['email'] for p in PEOPLE)}]\n"
    + "services:\n"
    + "".join(f"  svc{i}: payments\n" for i in range(ROOMS))
    + "rotations:\n  payments: {primary: alice@example.com, secondary: bob@example.com}\n"
)


def body(i: int) -> bytes:
    labels = {"alertname": "HighErrorRate", "service": f"svc{i}", "severity": "critical"}
    return json.dumps(
        oncall_payload(group=f"IFAULT{i:03d}", title=f"HighErrorRate svc{i}", labels=labels)
    ).encode()


def block_key(message: object) -> str:
    blocks = getattr(message, "blocks", None) or [{}]
    return str(blocks[0].get("block_id", ""))


async def test_twenty_rooms_under_a_fifth_of_calls_failing_are_all_staffed_and_pinned(
    tmp_path: Path,
) -> None:
    (tmp_path / "roster.yaml").write_text(ROSTER)
    async with FakeSlack(users=PEOPLE, time_scale=TIME_SCALE, fault_seed=7) as slack:
        world = await build_slack_world(
            slack=slack,
            data_dir=tmp_path,
            rates=RateTable().scaled(TIME_SCALE),
            call_timeout_seconds=60,
            processor_concurrency=ROOMS,
        )
        slack.fault_rate = 0.2  # the outage starts once the service is up
        world.processor.start()
        try:
            await asyncio.gather(
                *(world.intake.accept("grafana-oncall", body(i)) for i in range(ROOMS))
            )
            deadline = time.monotonic() + 60
            rooms: list[Incident] = []
            while len(rooms) < ROOMS:
                assert time.monotonic() < deadline, f"{len(rooms)} of {ROOMS} rooms assembled"
                await asyncio.sleep(0.05)
                rooms = [i for i in await world.store.recent() if i.assembled_at is not None]
        finally:
            await world.aclose()

        assert slack.faults >= 20, "the fake failed a fifth of the calls"
        for incident in rooms:
            assert incident.channel is not None
            room = incident.channel.id
            assert slack.channels[room].members >= STAFF, incident.id
            by_ts = {m.ts: m for m in slack.messages[room]}
            [pinned] = slack.pins[room]
            assert "checklist" in by_ts[pinned].text, incident.id
            keys = Counter(block_key(m) for m in slack.messages[room] if block_key(m))
            assert keys, incident.id
            assert max(keys.values()) == 1, keys
        assert not slack.violations, slack.violations
