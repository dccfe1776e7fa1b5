"""Operating the service: the generated webhook secret, roles, and the alert source's resolve."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import roster_emails
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env

pytestmark = pytest.mark.slow


def test_without_a_configured_secret_one_is_generated_and_its_file_named_at_start(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path)
    del env["INCIDENT_RESPONSE_WEBHOOK_SECRET"]
    with ServeProcess(tmp_path, env=env) as server:
        secret_file = tmp_path / "webhook-secret"
        secret = secret_file.read_text().splitlines()[0]
        assert len(secret) >= 32
        deadline = time.monotonic() + 5
        while "webhooks/grafana-oncall" not in server.log() and time.monotonic() < deadline:
            time.sleep(0.05)
        log = server.log()
        assert f"{server.base}/webhooks/grafana-oncall" in log
        assert f"{server.base}/webhooks/alertmanager" in log
        assert secret not in log  # start-up output lands in log collectors
        assert f"head -1 {secret_file}" in log
        assert secret_file.stat().st_mode & 0o077 == 0
        body = json.dumps(oncall_payload(group="IGEN0001"))
        ok = httpx.post(
            server.base + "/webhooks/grafana-oncall",
            content=body,
            headers={"Authorization": f"Bearer {secret}"},
        )
        assert ok.status_code == 202
        refused = httpx.post(server.base + "/webhooks/grafana-oncall", content=body)
        assert refused.status_code == 401
    # the secret survives restarts
    with ServeProcess(tmp_path, env=env):
        assert secret_file.read_text().splitlines()[0] == secret


def test_the_processor_role_serves_probes_but_takes_no_alerts(tmp_path: Path) -> None:
    with ServeProcess(tmp_path, role="processor") as server, server.client() as client:
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200
        posted = client.post(
            "/webhooks/grafana-oncall",
            content=json.dumps(oncall_payload()),
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        assert posted.status_code == 404


def test_the_alert_source_resolving_mitigates_and_a_refire_reopens(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        api = server.client(server.token(roster_emails(tmp_path)[0]))
        hook = {"Authorization": f"Bearer {SECRET}"}

        def fire(kind: str) -> None:
            body = json.dumps(oncall_payload(kind, group="IMIT0001"))
            response = httpx.post(
                server.base + "/webhooks/grafana-oncall", content=body, headers=hook
            )
            assert response.status_code == 202
            time.sleep(0.01)  # OnCall event times are per delivery

        def incident(status: str) -> dict[str, Any]:
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:
                for item in api.get("/api/incidents").json()["incidents"]:
                    if item["alert_group_id"] == "IMIT0001" and item["status"] == status:
                        return item  # type: ignore[no-any-return]
                time.sleep(0.1)
            raise AssertionError(f"no incident reached {status}")

        fire("alert group created")
        opened = incident("assembled")
        fire("resolve")
        mitigated = incident("mitigated")
        assert mitigated["id"] == opened["id"]
        assert mitigated["mitigated_at"]
        assert "INCIDENT_MITIGATED" in {e["type"] for e in mitigated["audit"]}
        fire("alert group created")
        reopened = incident("assembled")
        assert reopened["id"] == opened["id"]
        assert "INCIDENT_REOPENED" in {e["type"] for e in reopened["audit"]}
        assert len(reopened["alerts"]) == 3
        assert re.match(r"inc-p1-\d{8}-checkout-", reopened["channel"]["name"])
