"""Alert-to-assembled through Slack: the real intake, queue, processor and WarRoomAssembler with
SlackChat, against the fake Slack (tests/fakes/slack) with a per-call latency and Slack's real
tier limits (a Slack minute is a real minute unless --time-scale says otherwise).

Runs, each on a fresh workspace and a fresh process state (empty user-id cache):
- one incident at a time: each alert is sent after the previous room is assembled;
- a burst: `--concurrent` alerts at once, for distinct services;
- with `--fault-rate R` (e.g. 0.2), both again while the fake Slack itself answers a seeded
  share R of all Web API calls with HTTP 500 `internal_error` (no effect), as in a Slack outage.
"Assembled" is the incident's `assembled_at`: channel created, responders invited, context
posted, checklist posted and pinned, reminders scheduled (or recorded degraded). Latency runs
from the intake's receipt of the alert. The floor is the chain of dependent Slack calls (create
channel -> post checklist -> pin it) times the per-call latency; everything else runs beside
that chain. After the run the work beside (topic, bookmarks) is given time to finish, then the
rooms are checked in the fake: fully staffed, checklist pinned, no keyed message twice.

Usage: .venv/bin/python bench/slack_assembly.py [--latency 0.1] [--sequential 20]
       [--concurrent 20] [--time-scale 1.0] [--fault-rate 0.2] [--fault-seed 1]
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
from incident_response.services.war_room import unfinished_steps

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
        await asyncio.sleep(0.05)  # assembled_at is stamped by the service: polling less
        # often changes no figure, and leaves the database to the service


def latency_ms(incident: Incident) -> float:
    received = min(a.at for a in incident.alerts)  # the intake's receipt
    assert incident.assembled_at is not None
    return (incident.assembled_at - received).total_seconds() * 1000


def pinned_checklist(slack: FakeSlack, room: str) -> bool:
    by_ts = {m.ts: m for m in slack.messages[room]}
    return any("checklist" in by_ts[ts].text for ts in slack.pins[room] if ts in by_ts)


def repeated_messages(slack: FakeSlack, room: str) -> int:
    """Keyed messages (brief, checklist, notices) posted more than once in the room."""
    keys = Counter(
        str((m.blocks or [{}])[0].get("block_id", "")) for m in slack.messages[room] if m.blocks
    )
    return sum(n - 1 for key, n in keys.items() if key and n > 1)


async def run(mode: str, count: int, args: argparse.Namespace, fault_rate: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="ir-slack-bench-") as tmp:
        data = Path(tmp)
        (data / "roster.yaml").write_text(roster_text())
        slack = FakeSlack(
            users=PEOPLE,
            latency=args.latency,
            time_scale=args.time_scale,
            fault_seed=args.fault_seed,
        )
        await slack.start()
        try:
            world = await build_slack_world(
                slack=slack,
                data_dir=data,
                rates=RateTable().scaled(args.time_scale),
                call_timeout_seconds=300,
                processor_concurrency=max(16, count),
            )
        except BaseException:
            await slack.stop()
            raise
        slack.fault_rate = fault_rate  # the outage starts once the service is up
        world.processor.start()
        setup_calls = len(slack.calls)
        started = time.perf_counter()
        try:
            if mode == "sequential":
                for i in range(count):
                    await world.intake.accept("grafana-oncall", alert_body(i))
                    await wait_assembled(world, i + 1, within=120)
            else:
                await asyncio.gather(
                    *(world.intake.accept("grafana-oncall", alert_body(i)) for i in range(count))
                )
            incidents = await wait_assembled(world, count, within=600)
            wall = time.perf_counter() - started
            await world.assembler.settle(grace_seconds=args.settle)  # topic and bookmarks
            settled = time.perf_counter() - started
            current = [await world.store.get(i.id) or i for i in incidents]
        finally:
            await world.aclose()
            await slack.stop()
    rooms = [i.channel.id for i in incidents if i.channel is not None]
    staffed = sum(1 for r in rooms if slack.channels[r].members >= STAFF)
    pinned = sum(1 for r in rooms if pinned_checklist(slack, r))
    unfinished = Counter(step for i in current for step in unfinished_steps(i))
    calls = slack.calls[setup_calls:]
    stats = summary([latency_ms(i) for i in incidents])
    floor_ms = DEPENDENT_CALLS * args.latency * 1000
    return {
        "mode": mode,
        "fault_rate": fault_rate,
        "incidents": len(incidents),
        "latency": stats,
        "floor_ms": round(floor_ms, 1),
        "p50_to_floor": round(stats["p50_ms"] / floor_ms, 2) if floor_ms else None,
        "fully_staffed": staffed,
        "checklist_pinned": pinned,
        "repeated_messages": sum(repeated_messages(slack, r) for r in rooms),
        "unfinished_after_settle": dict(unfinished),
        "faults_500": slack.faults,
        "rate_limited_429": slack.rate_limited,
        "unhandled_429": slack.rate_limited - world.chat.pacer.rate_limited,
        "slack_calls": dict(Counter(c.method for c in calls)),
        "wall_seconds": round(wall, 2),
        "settled_seconds": round(settled, 2),
    }


def label(r: dict[str, Any]) -> str:
    faults = f", {r['fault_rate']:.0%} HTTP 500" if r["fault_rate"] else ""
    return f"{r['mode']}{faults}"


def markdown(args: argparse.Namespace, results: list[dict[str, Any]]) -> str:
    target = {"sequential": "p50 400 ms", "concurrent": "p50 1000 ms, p90 1300 ms"}
    rows = "".join(
        f"| {label(r)} | {r['incidents']} | {r['latency']['p50_ms']} ms | "
        f"{r['latency']['p90_ms']} ms | {r['latency']['p99_ms']} ms | "
        f"{'all staffed and pinned' if r['fault_rate'] else target[r['mode']]} | "
        f"{r['floor_ms']} ms | {r['p50_to_floor']} | {r['fully_staffed']}/{r['incidents']} | "
        f"{r['checklist_pinned']}/{r['incidents']} | {r['repeated_messages']} | "
        f"{r['faults_500']} | {r['rate_limited_429']} ({r['unhandled_429']} unhandled) |\n"
        for r in results
    )
    after = "".join(
        f"- {label(r)}: assembled in {r['wall_seconds']} s, topic and bookmarks settled at "
        f"{r['settled_seconds']} s; still unfinished: "
        + (
            ", ".join(f"{k} x{n}" for k, n in sorted(r["unfinished_after_settle"].items()))
            or "none"
        )
        + "\n"
        for r in results
    )
    calls = "".join(
        f"- {label(r)}: "
        + ", ".join(f"{m} {n}" for m, n in sorted(r["slack_calls"].items()))
        + "\n"
        for r in results
    )
    faults = (
        f" --fault-rate {args.fault_rate:g} --fault-seed {args.fault_seed}"
        if args.fault_rate
        else ""
    )
    return (
        "# Alert-to-assembled through Slack\n\n"
        "From the intake's receipt of a Grafana OnCall alert to the incident's `assembled_at` "
        "(private channel created, five responders invited, context posted, checklist posted "
        "and pinned, reminders scheduled), through the real queue, processor, WarRoomAssembler "
        f"and SlackChat, against the fake Slack with {args.latency * 1000:g} ms per Web API "
        f"call and Slack's tier limits (time scale {args.time_scale:g}: 1 means real minutes). "
        "Each run starts from a fresh workspace and an empty user-id cache; two of the five "
        "responders have no chat id in the roster, so their ids are looked up by e-mail once. "
        "In the fault runs the fake Slack answers a seeded random share of all Web API calls "
        "with HTTP 500 `internal_error` and does nothing (a real local HTTP server, no "
        "monkeypatching).\n\n"
        f"Command: `.venv/bin/python bench/slack_assembly.py --latency {args.latency:g} "
        f"--sequential {args.sequential} --concurrent {args.concurrent} "
        f"--time-scale {args.time_scale:g}{faults}`\n\n"
        "| run | incidents | p50 | p90 | p99 | target | floor | p50 / floor | fully staffed "
        "| checklist pinned | repeated messages | HTTP 500s | 429s |\n"
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n"
        f"{rows}\n"
        f"The floor is the dependent chain: {DEPENDENT_CALLS} calls (conversations.create -> "
        "chat.postMessage of the checklist -> pins.add) x the per-call latency. Invites, the "
        "context post and reminders start as soon as the channel exists, beside the chain; user "
        "ids come from the roster or a per-process cache. The topic and bookmarks run beside "
        "the processor: the room is assembled, and its queue message acked, without them.\n\n"
        "Under faults a step whose call fails on an outage (HTTP 5xx, transport error, timeout) "
        "is tried again with exponential backoff and jitter until its deadline (20 s); a failed "
        "batched invite is sent again for the people not yet in. Posts are keyed and invites "
        "idempotent, so retries show nothing twice (the repeated-messages column). A room still "
        "degraded at the deadline is assembled without the step, says so, and the processor's "
        "upkeep repairs it every 30 s.\n\n"
        "In the burst, the pacer lets one minute's quota of a Tier 2 method (20 calls) go at "
        "once and queues the rest at 20 a minute, so a room past the 20th waits for its token "
        "instead of risking a 429; calls that failed with a 500 used tokens too. Start-up creates "
        "no channel: the announcements channel is configured "
        "(INCIDENT_RESPONSE_ANNOUNCEMENTS_CHANNEL), as in production.\n\n"
        "After assembly:\n" + after + "\nSlack calls per run:\n" + calls
    )


async def main_async(args: argparse.Namespace) -> list[dict[str, Any]]:
    rates = [0.0, args.fault_rate] if args.fault_rate else [0.0]
    return [
        await run(mode, count, args, rate)
        for rate in rates
        for mode, count in (("sequential", args.sequential), ("concurrent", args.concurrent))
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latency", type=float, default=0.1, help="seconds per Web API call")
    parser.add_argument("--sequential", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=20)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument(
        "--fault-rate", type=float, default=0.0, help="share of Slack calls answered HTTP 500"
    )
    parser.add_argument("--fault-seed", type=int, default=1)
    parser.add_argument(
        "--settle", type=float, default=120.0, help="seconds to let topic and bookmarks finish"
    )
    args = parser.parse_args()
    # retries under faults log a WARNING each: show errors only
    structlog.configure(wrapper_class=structlog.make_filtering_bound_logger(logging.ERROR))
    logging.getLogger("incident_response.slack.bolt").setLevel(logging.WARNING)
    results = asyncio.run(main_async(args))
    for r in results:
        s = r["latency"]
        print(
            f"{label(r)}: {r['incidents']} incidents, p50 {s['p50_ms']} ms, p90 {s['p90_ms']} ms, "
            f"p99 {s['p99_ms']} ms (floor {r['floor_ms']} ms, p50/floor {r['p50_to_floor']}), "
            f"fully staffed {r['fully_staffed']}/{r['incidents']}, checklist pinned "
            f"{r['checklist_pinned']}/{r['incidents']}, repeated messages "
            f"{r['repeated_messages']}, 500s {r['faults_500']}, 429s {r['rate_limited_429']} "
            f"({r['unhandled_429']} unhandled), unfinished {r['unfinished_after_settle']}, "
            f"wall {r['wall_seconds']} s"
        )
    figures = {
        "latency_per_call_s": args.latency,
        "time_scale": args.time_scale,
        "fault_rate": args.fault_rate,
        "fault_seed": args.fault_seed,
        "runs": results,
    }
    path = write_report("slack-assembly", figures, markdown(args, results))
    print(f"report: {path}")


if __name__ == "__main__":
    main()
