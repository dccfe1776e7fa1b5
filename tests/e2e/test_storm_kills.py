"""An alert storm while the processor process is SIGKILLed and restarted several times: every
alert ends up in exactly one incident (one war room), none in two, none lost.

A `--role webhook` process takes 80 Grafana OnCall alerts (each of its own service, every tenth a
re-fire of an earlier alert group) under the default cap of 10 new incidents a minute, so most go
to the minute's alert storm incident; a `--role processor` process on the same data
dir is killed at random moments 3 to 5 times and started again. The visibility timeout is short
so the killed processor's messages come back within the test; the test still takes a little over
the cap's minute, since a redelivery deciding after that minute is what split alerts before.
"""

from __future__ import annotations

import json
import random
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_response.domain.alert import DEFAULT_SEVERITY_MAP
from incident_response.intake import grafana_oncall
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env

pytestmark = pytest.mark.slow

ALERTS = 80
LAST_BURST = 57  # seconds after the first


def storm() -> list[bytes]:
    start = datetime.now(UTC)
    bodies = []
    for n in range(ALERTS):
        if n % 10 == 9:
            group, event = f"KILLSTORM{n - 7:02}", "unresolve"
        else:
            group, event = f"KILLSTORM{n:02}", "alert group created"
        labels = {"alertname": "Down", "service": f"svc-{n - 7 if n % 10 == 9 else n}"}
        at = start + timedelta(microseconds=n)
        body = oncall_payload(event, group=group, labels=labels, at=at)
        bodies.append(json.dumps(body).encode())
    return bodies


def delivery_ids(bodies: list[bytes]) -> list[str]:
    now = datetime.now(UTC)
    return [
        alert.delivery_id
        for body in bodies
        for alert in grafana_oncall.parse(body, received_at=now, severity_map=DEFAULT_SEVERITY_MAP)
    ]


def post_burst(server: ServeProcess, bodies: list[bytes]) -> list[int]:
    """All at once, as a storm arrives: the processor then decides many alerts concurrently."""
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"}
    with (
        httpx.Client(base_url=server.base, headers=headers, timeout=10) as client,
        ThreadPoolExecutor(len(bodies) or 1) as pool,
    ):
        return list(
            pool.map(
                lambda body: client.post("/webhooks/grafana-oncall", content=body).status_code,
                bodies,
            )
        )


def snapshot(data_dir: Path) -> tuple[int, int, dict[str, list[str]]]:
    """(unprocessed deliveries, queued messages, incident id -> delivery ids), read-only."""
    path = data_dir / "incident-response.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        unprocessed = db.execute(
            "SELECT COUNT(*) FROM alert_deliveries WHERE processed_at IS NULL"
        ).fetchone()[0]
        queued = db.execute("SELECT COUNT(*) FROM queue_messages").fetchone()[0]
        docs = [json.loads(row[0]) for row in db.execute("SELECT doc FROM incidents")]
    incidents = {doc["id"]: [a["delivery_id"] for a in doc["alerts"]] for doc in docs}
    return unprocessed, queued, incidents


def test_a_processor_killed_during_a_storm_puts_every_alert_in_exactly_one_incident(
    tmp_path: Path,
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    env = clean_env(
        tmp_path,
        INCIDENT_RESPONSE_QUEUE_VISIBILITY_TIMEOUT_SECONDS="4",
        # kills can take a message several times; this test is about the opener, not the redrive
        INCIDENT_RESPONSE_QUEUE_MAX_RECEIVES="50",
    )
    bodies = storm()
    sent = delivery_ids(bodies)
    assert len(set(sent)) == ALERTS
    codes: list[int] = []
    webhook = ServeProcess(tmp_path, role="webhook", env=env)
    processor = ServeProcess(tmp_path, role="processor", env=env)
    kills = rng.randint(3, 5)
    burst = -(-ALERTS // kills)
    began = time.monotonic()
    try:
        # a burst of alerts opens the minute's incidents; the others come near its end, so the
        # killed processor's alerts are redelivered after it, when deciding again would open anew
        # instead of attaching under the cap; each burst is followed by a kill mid-processing
        schedule = [0.0] + [LAST_BURST - 1.5 * n for n in reversed(range(kills - 1))]
        for at, start in zip(schedule, range(0, ALERTS, burst), strict=True):
            time.sleep(max(0.0, began + at - time.monotonic()))
            codes += post_burst(webhook, bodies[start : start + burst])
            time.sleep(rng.uniform(0.05, 0.4))
            processor.kill()
            processor = ServeProcess(tmp_path, role="processor", env=env)
        assert codes == [202] * ALERTS

        deadline = time.monotonic() + 40
        while time.monotonic() < deadline:
            unprocessed, queued, incidents = snapshot(tmp_path)
            if unprocessed == 0 and queued == 0:
                break
            time.sleep(0.5)
    finally:
        processor.stop()
        webhook.stop()

    assert (unprocessed, queued) == (0, 0), f"seed {seed}: not all alerts were processed"
    where: dict[str, list[str]] = {d: [] for d in sent}
    for incident_id, deliveries in incidents.items():
        for delivery in deliveries:
            where.setdefault(delivery, []).append(incident_id)
    misplaced: dict[str, Any] = {d: ids for d, ids in where.items() if len(ids) != 1}
    assert misplaced == {}, f"seed {seed}, {kills} kills: {json.dumps(misplaced, indent=1)}"
    assert 10 <= len(incidents) < ALERTS
