"""Intake benchmark: webhook throughput and latency against a real `serve --role webhook` process.

Usage: .venv/bin/python bench/intake.py [--requests 2000] [--concurrency 32]
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
    parser.add_argument("--concurrency", type=int, default=32)
    args = parser.parse_args()

    bodies = [
        json.dumps(
            oncall_payload(
                group=f"IBENCH{i:05d}", labels={"service": f"svc{i}", "alertname": "Bench"}
            )
        ).encode()
        for i in range(args.requests)
    ]
    with (
        tempfile.TemporaryDirectory(prefix="ir-bench-") as tmp,
        ServeProcess(Path(tmp), role="webhook") as server,
    ):
        asyncio.run(fire(server.base, bodies[:50], 4))  # warm-up: connections, SQLite pages
        latencies, elapsed, codes = asyncio.run(fire(server.base, bodies[50:], args.concurrency))
    ok = sum(1 for c in codes if 200 <= c < 300)
    stats = summary(latencies)
    throughput = len(latencies) / elapsed
    figures = {
        "requests": len(latencies),
        "concurrency": args.concurrency,
        "accepted": ok,
        "throughput_rps": round(throughput, 1),
        "latency": stats,
    }
    print(
        f"intake: {len(latencies)} alerts, concurrency {args.concurrency}: "
        f"{throughput:.0f} req/s, p50 {stats['p50_ms']} ms, p99 {stats['p99_ms']} ms, "
        f"{ok}/{len(codes)} accepted"
    )
    markdown = (
        "# Intake benchmark\n\n"
        "`POST /webhooks/grafana-oncall` against `incident-response serve --role webhook` on the "
        "embedded default (SQLite), bearer auth, distinct alert groups, one process, loopback.\n\n"
        "Command: `.venv/bin/python bench/intake.py "
        f"--requests {args.requests} --concurrency {args.concurrency}`\n\n"
        "| figure | value |\n|---|---|\n"
        f"| requests | {len(latencies)} |\n| accepted (2xx) | {ok} |\n"
        f"| throughput | {throughput:.0f} req/s |\n| p50 | {stats['p50_ms']} ms |\n"
        f"| p90 | {stats['p90_ms']} ms |\n| p99 | {stats['p99_ms']} ms |\n| max | {stats['max_ms']} ms |\n"
    )
    path = write_report("intake", figures, markdown)
    print(f"report: {path}")


if __name__ == "__main__":
    main()
