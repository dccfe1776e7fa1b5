"""Intake from outside, through a real server process: auth, bad bodies, idempotency, crashes."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import roster_emails
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess

pytestmark = pytest.mark.slow


def post(server: ServeProcess, body: bytes, secret: str | None = SECRET) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["Authorization"] = f"Bearer {secret}"
    return httpx.post(
        server.base + "/webhooks/grafana-oncall", content=body, headers=headers, timeout=10
    )


def incidents(server: ServeProcess, token: str) -> list[dict[str, Any]]:
    with server.client(token) as client:
        response = client.get("/api/incidents")
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["incidents"]
    return items


def wait_for_incidents(
    server: ServeProcess, token: str, group: str, timeout: float = 15
) -> list[Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [i for i in incidents(server, token) if i["alert_group_id"] == group]
        if found:
            return found
        time.sleep(0.1)
    return []


def test_health_readiness_and_openapi(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server, server.client() as client:
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.get("/readyz").status_code == 200
        spec = client.get("/openapi.json").json()
        assert "/webhooks/grafana-oncall" in spec["paths"]
        assert "/api/incidents/{incident_id}" in spec["paths"]


def test_api_refuses_requests_without_a_valid_token(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server, server.client() as client:
        assert client.get("/api/incidents").status_code == 401
        bad = client.get("/api/incidents", headers={"Authorization": "Bearer ir_bm9ib2R5.forged"})
        assert bad.status_code == 401


def test_bad_requests_store_nothing_and_ten_identical_deliveries_make_one_incident(
    tmp_path: Path,
) -> None:
    with ServeProcess(tmp_path) as server:
        token = server.token(roster_emails(tmp_path)[0])
        body = json.dumps(oncall_payload(group="IE2EDUP1")).encode()

        assert post(server, body, secret="wrong").status_code == 401
        assert post(server, body, secret=None).status_code == 401
        truncated = post(server, body[:-40])
        assert truncated.status_code == 422
        assert "JSON" in truncated.json()["error"] or "body" in truncated.json()["error"]
        time.sleep(0.5)
        assert incidents(server, token) == []

        with ThreadPoolExecutor(10) as pool:
            codes = [r.status_code for r in pool.map(lambda _: post(server, body), range(10))]
        assert all(200 <= c < 300 for c in codes), codes
        found = wait_for_incidents(server, token, "IE2EDUP1")
        time.sleep(1.0)  # give any (wrong) second incident time to appear
        assert len([i for i in incidents(server, token) if i["alert_group_id"] == "IE2EDUP1"]) == 1
        assert found[0]["severity"] == "P1"
        assert found[0]["source"] == "grafana-oncall"


def test_sigkill_between_intake_and_processing_loses_no_alert(tmp_path: Path) -> None:
    # A webhook-only process takes the alert and dies hard before any processor saw it.
    webhook = ServeProcess(tmp_path, role="webhook")
    token = webhook.token(roster_emails(tmp_path)[0])
    response = post(webhook, json.dumps(oncall_payload(group="IE2EKILL")).encode())
    assert response.status_code == 202
    assert incidents(webhook, token) == []
    webhook.kill()

    with ServeProcess(tmp_path) as server:
        found = wait_for_incidents(server, token, "IE2EKILL")
        assert len(found) == 1
