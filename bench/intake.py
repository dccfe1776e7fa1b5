"""Intake benchmark: webhook throughput and latency against a real `serve --role webhook` process.

Usage: .venv/bin/python bench/intake.py [--requests 2000] [--concurrency 1 32]
Prints the figures and writes bench/reports/intake.{md,json}.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess

from bench.common import summary, write_report


async def fire(
    base: str, bodies: list[bytes], concurrency: int
) -> tuple[list[float], float, list[int]]:
    latencies: list[float] = []
    codes: list[int] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    headers = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)

    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=30
    ) as client:

        async def worker() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                started = time.perf_counter()
                response = await client.post("/webhooks/grafana-oncall", content=body)
                latencies.append((time.perf_counter() - started) * 1000)
                codes.append(response.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return latencies, elapsed, codes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 32])
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    for concurrency in args.concurrency:
        bodies = [
            json.dumps(
                oncall_payload(
                    group=f"IB{concurrency}-{i:05d}",
                    labels={"service": f"svc{i}", "alertname": "Bench"},
                )
            ).encode()
            for i in range(args.requests)
        ]
        with (
            tempfile.TemporaryDirectory(prefix="ir-bench-") as tmp,
            ServeProcess(Path(tmp), role="webhook") as server,
        ):
            asyncio.run(fire(server.base, bodies[:50], 4))  # warm-up: connections, SQLite pages
            latencies, elapsed, codes = asyncio.run(fire(server.base, bodies[50:], concurrency))
        ok = sum(1 for c in codes if 200 <= c < 300)
        stats = summary(latencies)
        throughput = len(latencies) / elapsed
        rows.append(
            {
                "requests": len(latencies),
                "concurrency": concurrency,
                "accepted": ok,
                "throughput_rps": round(throughput, 1),
                "latency": stats,
            }
        )
        print(
            f"intake: {len(latencies)} alerts, concurrency {concurrency}: "
            f"{throughput:.0f} req/s, p50 {stats['p50_ms']} ms, p99 {stats['p99_ms']} ms, "
            f"{ok}/{len(codes)} accepted"
        )
    table = "".join(
        f"| {r['concurrency']} | {r['requests']} | {r['accepted']} | {r['throughput_rps']} req/s "
        f"| {r['latency']['p50_ms']} ms | {r['latency']['p90_ms']} ms "
        f"| {r['latency']['p99_ms']} ms |\n"
        for r in rows
    )
    markdown = (
        "# Intake benchmark\n\n"
        "`POST /webhooks/grafana-oncall` against `incident-response serve --role webhook` on the "
        "embedded default (SQLite), bearer auth, distinct alert groups, one process; the load "
        "generator runs on the same 2-core machine over loopback. Each accepted alert is parsed, "
        "recorded and enqueued durably before the 202.\n\n"
        f"Command: `.venv/bin/python bench/intake.py --requests {args.requests} --concurrency "
        f"{' '.join(str(c) for c in args.concurrency)}`\n\n"
        "| concurrency | requests | accepted | throughput | p50 | p90 | p99 |\n"
        "|---|---|---|---|---|---|---|\n" + table
    )
    path = write_report("intake", {"runs": rows}, markdown)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
