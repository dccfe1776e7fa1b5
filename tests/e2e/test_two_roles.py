"""The two-Deployment layout on one host: `serve --role webhook` and `serve --role processor` as
separate processes on one data dir, under a burst of deliveries with API readers alongside."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import roster_emails
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess

pytestmark = pytest.mark.slow

DELIVERIES = 300
BATCH = 20
SERVICES = 30


def deliver(base: str, n: int) -> int:
    body = oncall_payload(
        group=f"IROLE{n:04d}",
        title=f"Latency svc{n % SERVICES}",
        labels={"alertname": "Latency", "service": f"svc-{n % SERVICES}", "severity": "critical"},
    )
    try:
        response = httpx.post(
            base + "/webhooks/grafana-oncall",
            content=json.dumps(body).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
            timeout=10,
        )
    except httpx.HTTPError:
        return -1
    return response.status_code


def attached_groups(client: httpx.Client) -> set[str]:
    """The OnCall alert group ids of every delivery that is part of an incident."""
    listed = client.get("/api/incidents", params={"limit": 500})
    assert listed.status_code == 200, listed.text
    groups: set[str] = set()
    for item in listed.json()["incidents"]:
        detail = client.get(f"/api/incidents/{item['id']}")
        assert detail.status_code == 200, detail.text
        groups |= {a["alert_group_key"].rsplit(":", 1)[-1] for a in detail.json()["alerts"]}
    return groups


def test_both_roles_on_one_data_dir_accept_every_delivery_and_lose_none(tmp_path: Path) -> None:
    # started together, as two pods on a fresh volume would be: both open the new file at once
    with ThreadPoolExecutor(2) as pool:
        webhook_start = pool.submit(ServeProcess, tmp_path, role="webhook")
        processor_start = pool.submit(ServeProcess, tmp_path, role="processor")
        webhook, processor = webhook_start.result(), processor_start.result()
    with webhook, processor:
        token = webhook.token(roster_emails(tmp_path)[0])
        stop = threading.Event()
        read_codes: list[int] = []

        def read_loop() -> None:
            with webhook.client(token) as client:
                while not stop.is_set():
                    try:
                        read_codes.append(client.get("/api/incidents").status_code)
                    except httpx.HTTPError:
                        read_codes.append(-1)

        readers = [threading.Thread(target=read_loop) for _ in range(2)]
        for reader in readers:
            reader.start()
        codes: list[int] = []
        try:
            with ThreadPoolExecutor(BATCH) as pool:
                for first in range(0, DELIVERIES, BATCH):
                    codes += pool.map(
                        lambda n: deliver(webhook.base, n), range(first, first + BATCH)
                    )
        finally:
            stop.set()
            for reader in readers:
                reader.join()

        assert {code: codes.count(code) for code in set(codes)} == {202: DELIVERIES}
        assert read_codes
        assert set(read_codes) == {200}
        wanted = {f"IROLE{n:04d}" for n in range(DELIVERIES)}
        deadline = time.monotonic() + 60
        with webhook.client(token) as client:
            while (missing := wanted - attached_groups(client)) and time.monotonic() < deadline:
                time.sleep(0.5)
        assert not missing, f"{len(missing)} deliveries never became part of an incident"

    for role, server in (("webhook", webhook), ("processor", processor)):
        text = server.log_path.read_text()
        assert "database is locked" not in text, f"{role} log: {text.count('database is locked')}"
        assert "Task exception was never retrieved" not in text, role
    verify = webhook.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr
