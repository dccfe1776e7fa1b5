"""Alert-to-assembled through Slack: the real intake, queue, processor and WarRoomAssembler with
SlackChat, against the fake Slack (tests/fakes/slack) with a per-call latency and Slack's real
tier limits (a Slack minute is a real minute unless --time-scale says otherwise).

Two runs, each on a fresh workspace and a fresh process state (empty user-id cache):
- one incident at a time: each alert is sent after the previous room is assembled;
- a burst: `--concurrent` alerts at once, for distinct services.
"Assembled" is the incident's `assembled_at`: channel created, responders invited, context
posted, checklist posted and pinned, reminders scheduled. Latency runs from the intake's receipt
of the alert. The floor is the chain of dependent Slack calls (create channel -> post checklist
-> pin it) times the per-call latency; everything else runs beside that chain.

Usage: .venv/bin/python bench/slack_assembly.py [--latency 0.1] [--sequential 20]
       [--concurrent 20] [--time-scale 1.0]
Prints the figures and writes bench/reports/slack-assembly.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

import structlog

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.fakes.slack import FakeSlack
from tests.integration.slack.world import SlackWorld, build_slack_world
from tests.support.payloads import oncall_payload

from bench.common import summary, write_report
from incident_response.adapters.slack import RateTable
from incident_response.domain.incident import Incident

DEPENDENT_CALLS = 3  # conversations.create -> chat.postMessage (checklist) -> pins.add
PEOPLE = [
    {"id": "U0ALICE", "email": "alice@example.com", "name": "Alice Martin"},
    {"id": "U0BOB", "email": "bob@example.com", "name": "Bob Okafor"},
    {"id": "U0CAROL", "email": "carol@example.com", "name": "Carol Nguyen"},
    {"id": "U0DAN", "email": "dan@example.com", "name": "Dan Kowalski"},
    {"id": "U0ERIN", "email": "erin@example.com", "name": "Erin Silva"},
]
STAFF = {p["id"] for p in PEOPLE}
SERVICES = 200


def roster_text() -> str:
    team = ", ".join(p["email"] for p in PEOPLE)
    people = "".join(
        f"  - {{name: {p['name']}, email: {p['email']}"
        + ("" if p["id"] in ("U0BOB", "U0ERIN") else f", chat_id: {p['id']}")
        + "}\n"
        for p in PEOPLE
    )
    services = "".join(f"  svc{i}: payments\n" for i in range(SERVICES))
    return (
        f"people:\n{people}teams:\n  payments: [{team}]\nservices:\n{services}"
        "rotations:\n  payments: {primary: alice@example.com, secondary: bob@example.com}\n"
    )


def alert_body(i: int) -> bytes:
    body = oncall_payload(
        group=f"IBENCH{i:05d}",
        title=f"HighErrorRate svc{i}",
        labels={"alertname": "HighErrorRate", "service": f"svc{i}", "severity": "critical"},
    )
    return json.dumps(body).encode()


async def wait_assembled(world: SlackWorld, count: int, within: float) -> list[Incident]:
    deadline = time.monotonic() + within
    while True:
        incidents = await world.store.recent(limit=1000)
        done = [i for i in incidents if i.assembled_at is not None]
        if len(done) >= count:
            return done
        if time.monotonic() > deadline:
            raise TimeoutError(f"{len(done)} of {count} rooms assembled in {within} s")
        await asyncio.sleep(0.005)


def latency_ms(incident: Incident) -> float:
    received = min(a.at for a in incident.alerts)  # the intake's receipt
    assert incident.assembled_at is not None
    return (incident.assembled_at - received).total_seconds() * 1000


async def run(mode: str, count: int, args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ir-slack-bench-") as tmp:
        data = Path(tmp)
        (data / "roster.yaml").write_text(roster_text())
        slack = FakeSlack(users=PEOPLE, latency=args.latency, time_scale=args.time_scale)
        await slack.start()
        world = await build_slack_world(
            slack=slack,
            data_dir=data,
            rates=RateTable().scaled(args.time_scale),
            call_timeout_seconds=300,
            processor_concurrency=max(16, count),
        )
        world.processor.start()
        setup_calls = len(slack.calls)
        started = time.perf_counter()
        try:
            if mode == "sequential":
                for i in range(count):
                    await world.intake.accept("grafana-oncall", alert_body(i))
                    await wait_assembled(world, i + 1, within=60)
            else:
                await asyncio.gather(
                    *(world.intake.accept("grafana-oncall", alert_body(i)) for i in range(count))
                )
            incidents = await wait_assembled(world, count, within=600)
            wall = time.perf_counter() - started
        finally:
            await world.aclose()
            await slack.stop()
    rooms = [i.channel.id for i in incidents if i.channel is not None]
    staffed = sum(1 for r in rooms if slack.channels[r].members >= STAFF)
    calls = slack.calls[setup_calls:]
    stats = summary([latency_ms(i) for i in incidents])
    floor_ms = DEPENDENT_CALLS * args.latency * 1000
    return {
        "mode": mode,
        "incidents": len(incidents),
        "latency": stats,
        "floor_ms": round(floor_ms, 1),
        "p50_to_floor": round(stats["p50_ms"] / floor_ms, 2) if floor_ms else None,
        "fully_staffed": staffed,
        "rate_limited_429": slack.rate_limited,
        "unhandled_429": slack.rate_limited - world.chat.pacer.rate_limited,
        "slack_calls": dict(Counter(c.method for c in calls)),
        "wall_seconds": round(wall, 2),
    }


def markdown(args: argparse.Namespace, results: list[dict[str, Any]]) -> str:
    target = {"sequential": 500, "concurrent": 3000}
    rows = "".join(
        f"| {r['mode']} | {r['incidents']} | {r['latency']['p50_ms']} ms | "
        f"{r['latency']['p99_ms']} ms | {target[r['mode']]} ms | {r['floor_ms']} ms | "
        f"{r['p50_to_floor']} | {r['fully_staffed']}/{r['incidents']} | "
        f"{r['rate_limited_429']} ({r['unhandled_429']} unhandled) |\n"
        for r in results
    )
    calls = "".join(
        f"- {r['mode']}: "
        + ", ".join(f"{m} {n}" for m, n in sorted(r["slack_calls"].items()))
        + "\n"
        for r in results
    )
    return (
        "# Alert-to-assembled through Slack\n\n"
        "From the intake's receipt of a Grafana OnCall alert to the incident's `assembled_at` "
        "(private channel created, five responders invited, context posted, checklist posted "
        "and pinned, reminders scheduled), through the real queue, processor, WarRoomAssembler "
        f"and SlackChat, against the fake Slack with {args.latency * 1000:g} ms per Web API "
        f"call and Slack's tier limits (time scale {args.time_scale:g}: 1 means real minutes). "
        "Each run starts from a fresh workspace and an empty user-id cache; two of the five "
        "responders have no chat id in the roster, so their ids are looked up by e-mail once.\n\n"
        f"Command: `.venv/bin/python bench/slack_assembly.py --latency {args.latency:g} "
        f"--sequential {args.sequential} --concurrent {args.concurrent} "
        f"--time-scale {args.time_scale:g}`\n\n"
        "| run | incidents | p50 | p99 | p50 target | floor | p50 / floor | fully staffed "
        "| 429s |\n|---|---|---|---|---|---|---|---|---|\n"
        f"{rows}\n"
        f"The floor is the dependent chain: {DEPENDENT_CALLS} calls (conversations.create -> "
        "chat.postMessage of the checklist -> pins.add) x the per-call latency. Invites, the "
        "context post and reminders run beside the chain; user ids come from the roster or a "
        "per-process cache.\n\n"
        "In the burst, the pacer lets one minute's quota of a Tier 2 method (20 calls) go at "
        "once and queues the rest at 20 a minute, so a room past the 20th waits for its token "
        "instead of risking a 429. Start-up creates no channel: the announcements channel is "
        "configured (INCIDENT_RESPONSE_ANNOUNCEMENTS_CHANNEL), as in production.\n\n"
        "Slack calls per run:\n" + calls
    )


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    return [
        await run("sequential", args.sequential, args),
        await run("concurrent", args.concurrent, args),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per Web API call")
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--time-scale", type=float, default=1.0)
    args = parser.parse_args()
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.WARNING))
    logging.getLogger("incident_response.slack.bolt").setLevel(logging.WARNING)
    results = asyncio.run(main_async(args))
    for r in results:
        s = r["latency"]
        print(
            f"{r['mode']}: {r['incidents']} incidents, p50 {s['p50_ms']} ms, p99 {s['p99_ms']} ms "
            f"(floor {r['floor_ms']} ms, p50/floor {r['p50_to_floor']}), fully staffed "
            f"{r['fully_staffed']}/{r['incidents']}, 429s {r['rate_limited_429']} "
            f"({r['unhandled_429']} unhandled), wall {r['wall_seconds']} s"
        )
    figures = {"latency_per_call_s": args.latency, "time_scale": args.time_scale, "runs": results}
    path = write_report("slack-assembly", figures, markdown(args, results))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
