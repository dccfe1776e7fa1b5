"""`incident-response demo` against a real `serve` process, through its public interface only."""

from __future__ import annotations

import io
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from rich.console import Console

from incident_response.config import Settings
from incident_response.demo import DemoError, local_credentials, run_demo
from tests.support.server import SECRET, ServeProcess, clean_env, executable, free_port

pytestmark = pytest.mark.slow


def settings_for(data_dir: Path, secret: str = SECRET) -> Settings:
    return Settings(
        incident_response_data_dir=data_dir,
        incident_response_webhook_secret=SecretStr(secret),
    )


def quiet() -> Console:
    return Console(file=io.StringIO(), width=120)


def incidents(server: ServeProcess) -> list[dict[str, Any]]:
    with server.client(server.token("alice@example.com")) as api:
        found: list[dict[str, Any]] = api.get("/api/incidents").json()["incidents"]
        return found


def public_incidents(server: ServeProcess) -> list[dict[str, Any]]:
    with server.client() as anonymous:
        found: list[dict[str, Any]] = anonymous.get("/status/api/v2/incidents.json").json()[
            "incidents"
        ]
        return found


def test_the_demo_command_walks_an_alert_to_a_postmortem(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        done = server.cli("demo", "--url", server.base)
        assert done.returncode == 0, done.stdout + done.stderr
        [incident] = incidents(server)
        assert incident["status"] == "resolved"
        assert incident["postmortem"]["url"]
        assert incident["channel"]["archived"]
        assert {d["status"] for d in incident["drafts"]} == {"published"}
        assert all(d["approved_by"] == incident["ic"]["email"] for d in incident["drafts"])
        [public] = public_incidents(server)
        assert public["status"] == "resolved"
        assert f"{server.base}/console/incidents/{incident['id']}" in done.stdout
        assert f"{server.base}/status" in done.stdout
        assert incident["postmortem"]["url"] in done.stdout


async def test_keep_open_stops_after_publishing(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        creds = local_credentials(settings_for(tmp_path))
        result = await run_demo(
            server.base,
            webhook_secret=creds.webhook_secret,
            tokens=creds.tokens,
            viewer_email=creds.viewer_email,
            keep_open=True,
            console=quiet(),
        )
        assert result.status != "resolved"
        assert result.postmortem_url is None
        [incident] = incidents(server)
        assert incident["id"] == result.incident_id
        assert incident["resolved_at"] is None
        assert [d["status"] for d in incident["drafts"]] == ["published"]
        [public] = public_incidents(server)
        assert public["status"] != "resolved"
        assert [u["body"] for u in public["incident_updates"]] == [incident["drafts"][0]["body"]]


async def test_a_second_demo_opens_its_own_war_room_beside_an_open_one(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        creds = local_credentials(settings_for(tmp_path))
        results = [
            await run_demo(
                server.base,
                webhook_secret=creds.webhook_secret,
                tokens=creds.tokens,
                viewer_email=creds.viewer_email,
                keep_open=True,
                console=quiet(),
            )
            for _ in range(2)
        ]
        assert results[0].incident_id != results[1].incident_id
        open_ones = [i for i in incidents(server) if i["resolved_at"] is None]
        assert len(open_ones) == 2
        assert all(len(i["alerts"]) == 1 for i in open_ones)


def test_no_server_is_a_clear_error(tmp_path: Path) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    done = subprocess.run(
        [executable(), "demo", "--url", nowhere],
        env=clean_env(tmp_path / "data"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert not (tmp_path / "data").exists()
    assert f"no incident-response server answers at {nowhere}" in done.stderr
    assert "make run" in done.stderr


async def test_a_wrong_webhook_secret_is_refused_and_opens_nothing(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        creds = local_credentials(settings_for(tmp_path))
        with pytest.raises(DemoError, match="refused the webhook secret"):
            await run_demo(
                server.base,
                webhook_secret="not-the-secret",
                tokens=creds.tokens,
                viewer_email=creds.viewer_email,
                keep_open=False,
                console=quiet(),
            )
        assert incidents(server) == []


def test_a_demo_run_outside_the_servers_data_dir_says_so_and_creates_nothing(
    tmp_path: Path,
) -> None:
    elsewhere = tmp_path / "elsewhere"
    with ServeProcess(tmp_path / "served") as server:
        done = subprocess.run(
            [executable(), "demo", "--url", server.base],
            env=clean_env(elsewhere),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert "is not the data dir of a running `serve`" in done.stderr
        assert not elsewhere.exists()
        assert incidents(server) == []
