"""Alert-to-assembled on the AWS backends (moto) beside the embedded default.

The method of bench/assembly.py, backend by backend: one `serve` process, Grafana OnCall alerts
for distinct services, and from the API how long each took from the webhook's receipt to an
assembled war room. The backends:
- embedded: the default (SQLite store, audit, queue and timers);
- moto: DynamoDB, SQS FIFO and EventBridge Scheduler all on one threaded `moto_server`;
- moto-serial: DynamoDB on the serial moto server (tests/support/serial_moto.py, one request
  at a time, which isolates transactions as DynamoDB does), SQS and the Scheduler on the
  threaded one (a long poll would hold a serial server for 20 s).
The AWS resources come from `incident-response aws bootstrap --env bench`, whose KEY=VALUE
stdout is the process's environment. Console chat, the built-in status page and the roster stay
embedded. moto on loopback is not AWS: the figures are moto's latencies (Python, in-memory, no
network, no replication), not DynamoDB's or SQS's; they show what the adapters add per incident
(requests, transactions, long polling), not what production will see.

Usage: .venv/bin/python bench/aws_assembly.py [--incidents 50] [--mode sequential|burst]
       [--backends embedded,moto,moto-serial]
Prints the figures and writes bench/reports/aws_assembly.{md,json} (aws_assembly-burst.* in burst
mode).
"""

from __future__ import annotations

import argparse
import contextlib
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.dynamodb import serial_moto_server
from tests.support.moto_server import MotoServer, put_secret
from tests.support.server import SECRET, ServeProcess, clean_env, executable

from bench.assembly import assembled, post, seconds
from bench.common import summary, write_report

BACKENDS = ("embedded", "moto", "moto-serial")
APPROVER = "alice@example.com"


@contextlib.contextmanager
def backend_env(backend: str, data: Path) -> Iterator[dict[str, str]]:
    """The environment of a `serve` on `backend`, with its AWS resources bootstrapped."""
    env = clean_env(data, INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE="100000")
    if backend == "embedded":
        yield env
        return
    with contextlib.ExitStack() as stack:
        threaded = stack.enter_context(MotoServer.started())
        env.update(threaded.environ())
        if backend == "moto-serial":
            serial = stack.enter_context(serial_moto_server())
            env["AWS_ENDPOINT_URL_DYNAMODB"] = serial.url
        done = subprocess.run(
            [executable(), "aws", "bootstrap", "--env", "bench"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise SystemExit(f"aws bootstrap failed: {done.stderr}")
        env.update(dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line))
        put_secret(env, env["GRAFANA_ONCALL_HMAC_SECRET_ID"], SECRET)  # the senders' secret
        yield env


def measure(backend: str, incidents: int, mode: str) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix=f"ir-bench-{backend}-") as tmp:
        data = Path(tmp)
        with (
            backend_env(backend, data) as env,
            ServeProcess(data, env=env) as server,
            httpx.Client(
                base_url=server.base,
                headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
                timeout=30,
            ) as client,
        ):
            token = server.token(APPROVER)
            started = time.perf_counter()
            for i in range(incidents):
                post(client, i)
                if mode == "sequential":
                    assembled(client, token, i + 1, timeout=60, newest=1)
            items = assembled(client, token, incidents, timeout=600)
            wall = time.perf_counter() - started
            log = server.log()
    lines = log.splitlines()
    latencies = [(seconds(i["assembled_at"]) - seconds(i["alerts"][0]["at"])) * 1000 for i in items]
    return {
        "backend": backend,
        "incidents": len(items),
        "latency": summary(latencies),
        "wall_s": round(wall, 1),
        "log": {
            "errors": sum('"level": "error"' in line for line in lines),
            "tracebacks": log.count("Traceback (most recent call last)"),
            "contended": sum('"event": "event.contended"' in line for line in lines),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--incidents", type=int, default=50)
    parser.add_argument("--mode", choices=("sequential", "burst"), default="sequential")
    parser.add_argument("--backends", default=",".join(BACKENDS))
    parser.add_argument(
        "--note", default="", help="A line on how this run was made, kept in the report."
    )
    args = parser.parse_args()
    chosen = [b.strip() for b in args.backends.split(",") if b.strip()]
    unknown = sorted(set(chosen) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")

    results = []
    for backend in chosen:
        result = measure(backend, args.incidents, args.mode)
        stats, log = result["latency"], result["log"]
        print(
            f"{backend:>12} ({args.mode}, {result['incidents']} incidents): "
            f"p50 {stats['p50_ms']} ms, p90 {stats['p90_ms']} ms, p99 {stats['p99_ms']} ms, "
            f"max {stats['max_ms']} ms; wall {result['wall_s']} s; log: {log['errors']} errors, "
            f"{log['tracebacks']} tracebacks, {log['contended']} contended",
            flush=True,
        )
        results.append(result)

    rows = "".join(
        f"| {r['backend']} | {r['incidents']} | {r['latency']['p50_ms']} | "
        f"{r['latency']['p90_ms']} | {r['latency']['p99_ms']} | {r['latency']['max_ms']} | "
        f"{r['wall_s']} | {r['log']['errors']} | {r['log']['tracebacks']} | "
        f"{r['log']['contended']} |\n"
        for r in results
    )
    markdown = (
        f"# Alert-to-assembled on the AWS backends (moto) beside the embedded default "
        f"({args.mode})\n\n"
        "**moto on loopback is not AWS.** The AWS figures are moto's latencies (an in-memory "
        "Python emulator on this machine, no network, no replication, no throttling), not "
        "DynamoDB's, SQS's or EventBridge Scheduler's. They show what the AWS adapters add per "
        "incident (more requests, transactions, long polling) against the same emulator, not what "
        "production will see; measure that with `incident-response drill` against a deployment.\n\n"
        "Method of bench/assembly.py: from the webhook's receipt (intake) to the incident's "
        "`assembled_at` (channel created, responders invited, context posted, checklist pinned, "
        "nudge and SLA timers scheduled), one `serve` process, console chat and roster. "
        + (
            "Alerts are sent one at a time, each after the previous room is assembled.\n\n"
            if args.mode == "sequential"
            else "All alerts are sent at once (a storm of distinct services).\n\n"
        )
        + "Backends: *embedded* is the default (SQLite store, audit, queue, timers); *moto* is "
        "DynamoDB, SQS FIFO and EventBridge Scheduler on one threaded `moto_server`; "
        "*moto-serial* puts DynamoDB on a moto server answering one request at a time "
        "(tests/support/serial_moto.py, which isolates transactions as DynamoDB does) and SQS "
        "and the Scheduler on the threaded one. Resources from "
        "`incident-response aws bootstrap --env bench`.\n\n"
        f"Command: `.venv/bin/python bench/aws_assembly.py --incidents {args.incidents} "
        f"--mode {args.mode} --backends {','.join(chosen)}`\n\n"
        + (f"Note: {args.note}\n\n" if args.note else "")
        + "| backend | incidents | p50 ms | p90 ms | p99 ms | max ms | wall s | ERROR lines | "
        "tracebacks | contended (retried) |\n|---|---|---|---|---|---|---|---|---|---|\n" + rows
    )
    name = "aws_assembly" if args.mode == "sequential" else f"aws_assembly-{args.mode}"
    figures = {"mode": args.mode, "note": args.note, "results": results}
    path = write_report(name, figures, markdown)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
