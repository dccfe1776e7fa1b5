"""`incident-response drill` and `observe` as an operator runs them, against a real `serve`."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import SECRET, ServeProcess, executable, free_port

pytestmark = pytest.mark.slow

# erin is on the checkout team (sample roster): she may resolve a checkout drill
EMAIL = "erin@example.com"
STAGES = ("received", "incident opened", "room created", "responders", "context", "checklist")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServeProcess]:
    with ServeProcess(tmp_path_factory.mktemp("drill")) as running:
        yield running


TOKENS: dict[str, str] = {}


def token_of(server: ServeProcess) -> str:
    """One token per server (issuing one is a process start)."""
    if server.base not in TOKENS:
        TOKENS[server.base] = server.token(EMAIL)
    return TOKENS[server.base]


def run(
    server: ServeProcess, *args: str, token: str | None = None, **env: str
) -> subprocess.CompletedProcess[str]:
    environ = {**server.env, "INCIDENT_RESPONSE_TOKEN": token or token_of(server), **env}
    return subprocess.run(
        [executable(), *args], env=environ, capture_output=True, text=True, timeout=90
    )


def drill(server: ServeProcess, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return run(server, "drill", "--service", "checkout", *args, **env)


def incident_id(output: str) -> str:
    found = re.search(r"drill passed: (inc-\w+)", output) or re.search(r"(inc-\w+)", output)
    assert found is not None, output
    return found.group(1)


def test_a_drill_times_each_stage_then_resolves_and_publishes_nothing(
    server: ServeProcess,
) -> None:
    done = drill(server, "--target", server.base, "--timeout", "60")
    assert done.returncode == 0, done.stdout + done.stderr
    for stage in (*STAGES, "assembled"):
        assert re.search(rf"✓ {stage}\s+\+\d+\.\d\d s", done.stdout), (stage, done.stdout)
    assert "stage timings" in done.stdout
    iid = incident_id(done.stdout)
    assert f"/console/incidents/{iid}" in done.stdout  # the way into its war room
    with server.client(token_of(server)) as client:
        incident = client.get(f"/api/incidents/{iid}").json()
        public = client.get("/status/api/v2/incidents.json").json()
    assert incident["drill"] is True
    assert incident["labels"]["drill"] == "true"
    assert incident["status"] == "resolved"
    assert incident["assembled_at"] is not None
    assert incident["status_page"] is None
    assert public["incidents"] == []


def test_join_invites_a_person_into_the_drills_war_room(
    server: ServeProcess, tmp_path: Path
) -> None:
    # credentials from files, the alert HMAC-signed rather than sent with a bearer secret
    token_file, secret_file = tmp_path / "token", tmp_path / "secret"
    token_file.write_text(token_of(server) + "\n")
    secret_file.write_text(SECRET + "\n")
    done = drill(
        server,
        "--target",
        server.base,
        "--join",
        "dan@example.com",
        "--keep-open",
        "--hmac",
        "--token-file",
        str(token_file),
        "--webhook-secret-file",
        str(secret_file),
        INCIDENT_RESPONSE_TOKEN="",
        INCIDENT_RESPONSE_WEBHOOK_SECRET="",
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "is invited to the war room" in done.stdout
    iid = incident_id(done.stdout)
    with server.client(token_of(server)) as client:
        incident = client.get(f"/api/incidents/{iid}").json()
        assert "dan@example.com" in {r["email"] for r in incident["responders"]}
        assert incident["status"] != "resolved"  # --keep-open
        # what the live-fire playbook has the IC try: the gate refuses, nothing goes public
        reply = client.post(f"/api/incidents/{iid}/commands", json={"text": "draft"}).json()
        draft = reply["data"]["draft"]
        approve = f"/api/incidents/{iid}/drafts/{draft['id']}/approve"
        refused = client.post(approve, json={"version": draft["version"]})
        assert refused.status_code == 403
        assert "is a drill" in refused.text
        assert client.get("/status/api/v2/incidents.json").json()["incidents"] == []
        client.post(f"/api/incidents/{iid}/commands", json={"text": "resolve"})


def test_a_wrong_webhook_secret_fails_clearly(server: ServeProcess) -> None:
    done = drill(server, "--target", server.base, INCIDENT_RESPONSE_WEBHOOK_SECRET="not-it")
    assert done.returncode == 1
    assert "refused the webhook secret (HTTP 401)" in done.stderr


def test_a_wrong_token_fails_before_anything_is_fired(server: ServeProcess) -> None:
    done = run(server, "drill", "--target", server.base, token="not-a-token")
    assert done.returncode == 1
    assert "refused the API token (HTTP 401)" in done.stderr


def test_an_unreachable_target_fails_clearly(server: ServeProcess) -> None:
    target = f"http://127.0.0.1:{free_port()}"
    done = drill(server, "--target", target)
    assert done.returncode == 1
    assert f"cannot reach {target}" in done.stderr
    bad = drill(server, "--target", "incidents.example.com")
    assert bad.returncode == 2
    assert "--target must be an http(s) URL" in bad.stderr


def test_a_drill_that_never_assembles_times_out_with_where_it_stopped(tmp_path: Path) -> None:
    # the webhook role alone: the alert is accepted, but no processor opens an incident
    with ServeProcess(tmp_path, role="webhook") as webhook:
        done = drill(webhook, "--target", webhook.base, "--timeout", "2")
    assert done.returncode == 1
    assert "timed out waiting for the incident to open" in done.stderr
    assert "is the processor running?" in done.stderr
    assert "✓ received" in done.stdout


def test_observe_follows_an_incident_until_it_is_resolved(server: ServeProcess) -> None:
    opened = drill(server, "--target", server.base, "--keep-open")
    assert opened.returncode == 0, opened.stderr
    iid = incident_id(opened.stdout)
    token = token_of(server)
    watcher = subprocess.Popen(
        [executable(), "observe", iid, "--target", server.base, "--poll", "0.2", "--timeout", "60"],
        env=dict(server.env, INCIDENT_RESPONSE_TOKEN=token),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert watcher.stdout is not None
        before = ""
        while "is the incident commander" not in before:  # observe has shown the incident
            line = watcher.stdout.readline()
            assert line, before
            before += line
        with httpx.Client(base_url=server.base, timeout=10) as client:
            headers = {"Authorization": f"Bearer {token}"}
            for text in ("note drill check", "resolve"):
                client.post(f"/api/incidents/{iid}/commands", json={"text": text}, headers=headers)
        out, err = watcher.communicate(timeout=60)
        out = before + out
    finally:
        if watcher.poll() is None:
            watcher.kill()
            watcher.wait()
    assert watcher.returncode == 0, err
    assert "DRILL" in out
    assert re.search(r"status: \w+ → resolved", out), out
    assert "drill check" in out  # a timeline entry
    assert f"{iid} is resolved" in out


def test_observe_an_unknown_incident_fails_clearly(server: ServeProcess) -> None:
    done = run(server, "observe", "inc-nope", "--target", server.base)
    assert done.returncode == 1
    assert "not found" in done.stderr
