"""Alert-to-assembled benchmark on the embedded default, through a real `serve` process.

Fires Grafana OnCall alerts for distinct services (so none groups into another's incident) and
reads, from the API, how long each took from the webhook's receipt to an assembled war room
(channel, responders invited, context posted, checklist pinned, nudges scheduled).

Usage: .venv/bin/python bench/assembly.py [--incidents 200] [--mode sequential|burst]
Prints the figures and writes bench/reports/assembly-<mode>.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env

from bench.common import summary, write_report


def seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def post(client: httpx.Client, i: int) -> None:
    body = oncall_payload(
        group=f"IASM{i:05d}",
        title=f"HighErrorRate svc{i}",
        labels={"alertname": "HighErrorRate", "service": f"svc{i}", "severity": "critical"},
    )
    response = client.post("/webhooks/grafana-oncall", content=json.dumps(body))
    response.raise_for_status()


def assembled(
    client: httpx.Client, token: str, count: int, timeout: float, *, newest: int = 500
) -> list[dict[str, Any]]:
    """Wait until `count` incidents are assembled, reading only the `newest` ones each time (so
    the benchmark's own polling does not load the server it measures)."""
    deadline = time.monotonic() + timeout
    done: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        items = client.get(
            "/api/incidents", params={"limit": newest}, headers={"Authorization": f"Bearer {token}"}
        ).json()["incidents"]
        done = [i for i in items if i["assembled_at"]]
        if len(done) >= min(count, newest):
            return done
        time.sleep(0.05)
    raise TimeoutError(f"only {len(done)} of {count} incidents assembled in {timeout} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=200)
    parser.add_argument("--mode", choices=("sequential", "burst"), default="sequential")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ir-bench-") as tmp:
        data = Path(tmp)
        env = clean_env(data, INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE="100000")
        with (
            ServeProcess(data, env=env) as server,
            httpx.Client(
                base_url=server.base,
                headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
                timeout=30,
            ) as client,
        ):
            token = server.token("alice@example.com")
            started = time.perf_counter()
            for i in range(args.incidents):
                post(client, i)
                if args.mode == "sequential":
                    assembled(client, token, i + 1, timeout=30, newest=1)
            items = assembled(client, token, args.incidents, timeout=300)
            wall = time.perf_counter() - started
            log = server.log()
    errors = sum('"level": "error"' in line for line in log.splitlines())
    tracebacks = log.count("Traceback (most recent call last)")
    contended = sum('"event": "event.contended"' in line for line in log.splitlines())

    latencies = [(seconds(i["assembled_at"]) - seconds(i["alerts"][0]["at"])) * 1000 for i in items]
    stats = summary(latencies)
    print(
        f"alert-to-assembled ({args.mode}, {len(items)} incidents): p50 {stats['p50_ms']} ms, "
        f"p90 {stats['p90_ms']} ms, p99 {stats['p99_ms']} ms, max {stats['max_ms']} ms; "
        f"wall {wall:.1f} s; log: {errors} errors, {tracebacks} tracebacks, "
        f"{contended} contended (warnings)"
    )
    markdown = (
        f"# Alert-to-assembled benchmark ({args.mode})\n\n"
        "From the webhook's receipt (intake) to the incident's `assembled_at`: channel created, "
        "responders resolved and invited, context posted, checklist posted and pinned, nudge and "
        "SLA timers scheduled. Embedded default (SQLite, console chat, roster), one `serve` "
        "process, loopback. "
        + (
            "Alerts are sent one at a time, each after the previous room is assembled.\n\n"
            if args.mode == "sequential"
            else "All alerts are sent at once (a storm of distinct services).\n\n"
        )
        + f"Command: `.venv/bin/python bench/assembly.py --incidents {args.incidents} "
        f"--mode {args.mode}`\n\n"
        "| figure | value |\n|---|---|\n"
        f"| incidents | {len(items)} |\n| p50 | {stats['p50_ms']} ms |\n"
        f"| p90 | {stats['p90_ms']} ms |\n| p99 | {stats['p99_ms']} ms |\n"
        f"| max | {stats['max_ms']} ms |\n| wall time | {wall:.1f} s |\n"
        f"| ERROR lines in the server's log | {errors} |\n"
        f"| tracebacks in the server's log | {tracebacks} |\n"
        f"| lost compare-and-set races, retried (WARNING `event.contended`) | {contended} |\n"
    )
    figures = {
        "mode": args.mode,
        "latency": stats,
        "log": {"errors": errors, "tracebacks": tracebacks, "contended": contended},
    }
    path = write_report(f"assembly-{args.mode}", figures, markdown)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
