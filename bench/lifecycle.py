"""The incident lifecycle through a real `serve` process on the embedded default: how long the
IC's approval takes to reach the public status page, and how long a resolution takes to leave a
postmortem filed (the original's promise: within two minutes).

Each run fires a Grafana OnCall alert for its own service, waits for the war room, has the
incident's IC make a draft and Approve & Publish it, then resolve the incident, all over the HTTP
API as a person would. Timings are taken by this client: from sending the approval to its answer
(the publish is synchronous), and from sending `resolve` to the API showing the incident resolved
with a postmortem link.

Usage: .venv/bin/python bench/lifecycle.py [--runs 10]
Prints the figures and writes bench/reports/lifecycle.{md,json}.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env

from bench.common import summary, write_report


def wait_for(client: httpx.Client, path: str, done: Any, timeout: float) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        body: dict[str, Any] = client.get(path).json()
        if done(body):
            return body
        time.sleep(0.02)
    raise TimeoutError(f"{path} did not reach the expected state in {timeout} s")


def one_run(server: ServeProcess, tokens: dict[str, str], i: int) -> tuple[float, float]:
    alert = oncall_payload(
        group=f"ILIFE{i:04d}",
        title=f"HighErrorRate lifecycle{i}",
        labels={"alertname": "HighErrorRate", "service": f"lifecycle{i}", "severity": "critical"},
    )
    hook = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}
    httpx.post(
        server.base + "/webhooks/grafana-oncall", content=json.dumps(alert), headers=hook
    ).raise_for_status()
    with server.client(next(iter(tokens.values()))) as reader:
        listing = wait_for(
            reader,
            "/api/incidents?limit=5",
            lambda b: any(
                x["alert_group_id"] == f"ILIFE{i:04d}" and x["assembled_at"] for x in b["incidents"]
            ),
            timeout=30,
        )
    incident = next(x for x in listing["incidents"] if x["alert_group_id"] == f"ILIFE{i:04d}")
    ic = incident["ic"]["email"] if isinstance(incident["ic"], dict) else incident["ic"]
    with server.client(tokens[ic]) as client:
        base = f"/api/incidents/{incident['id']}"
        draft = client.post(f"{base}/drafts")
        draft.raise_for_status()
        started = time.perf_counter()
        approved = client.post(
            f"{base}/drafts/{draft.json()['id']}/approve", json={"version": draft.json()["version"]}
        )
        publish_ms = (time.perf_counter() - started) * 1000
        approved.raise_for_status()
        started = time.perf_counter()
        client.post(f"{base}/commands", json={"text": "resolve"}).raise_for_status()
        wait_for(
            client,
            base,
            lambda b: b["status"] == "resolved" and (b.get("postmortem") or {}).get("url"),
            timeout=120,
        )
        postmortem_ms = (time.perf_counter() - started) * 1000
    return publish_ms, postmortem_ms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    publish, postmortem = [], []
    with tempfile.TemporaryDirectory(prefix="ir-bench-lifecycle-") as tmp:
        data = Path(tmp)
        with ServeProcess(data, env=clean_env(data)) as server:
            roster = yaml.safe_load((data / "roster.yaml").read_text())
            tokens = {p["email"]: server.token(p["email"]) for p in roster["people"]}
            for i in range(args.runs):
                p, m = one_run(server, tokens, i)
                publish.append(p)
                postmortem.append(m)
    pub, pm = summary(publish), summary(postmortem)
    print(
        f"approve-to-published ({args.runs} runs): p50 {pub['p50_ms']} ms, p99 {pub['p99_ms']} ms; "
        f"resolve-to-postmortem: p50 {pm['p50_ms']} ms, p99 {pm['p99_ms']} ms, "
        f"max {pm['max_ms']} ms (target: 120 s)"
    )
    markdown = (
        "# Incident lifecycle benchmark\n\n"
        "Through one `serve` process on the embedded default (SQLite, built-in status page, "
        "Markdown postmortems, built-in drafter), over the HTTP API on loopback. Each run: alert "
        "-> war room -> the IC drafts and approves an update -> `resolve` -> postmortem filed. "
        "Approve-to-published is the approval request's round trip (the gate publishes before "
        "answering); resolve-to-postmortem runs from sending `resolve` until the API shows the "
        "incident resolved with its postmortem link.\n\n"
        f"Command: `.venv/bin/python bench/lifecycle.py --runs {args.runs}`\n\n"
        "| figure | p50 | p90 | p99 | max |\n|---|---|---|---|---|\n"
        f"| approve-to-published | {pub['p50_ms']} ms | {pub['p90_ms']} ms | {pub['p99_ms']} ms "
        f"| {pub['max_ms']} ms |\n"
        f"| resolve-to-postmortem | {pm['p50_ms']} ms | {pm['p90_ms']} ms | {pm['p99_ms']} ms "
        f"| {pm['max_ms']} ms |\n"
    )
    figures = {"runs": args.runs, "approve_to_published": pub, "resolve_to_postmortem": pm}
    print(f"report: {write_report('lifecycle', figures, markdown)}")


if __name__ == "__main__":
    main()
