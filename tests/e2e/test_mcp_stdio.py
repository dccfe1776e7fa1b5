"""`incident-response mcp --target URL` as an agent's MCP client starts it: a subprocess speaking
MCP on stdio (the SDK's own stdio client), every tool a REST call to a running `serve`; and the
running `serve`'s own `/mcp` endpoint under uvicorn."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import httpx2
import pytest
from mcp import Client, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client

from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env, executable, free_port

pytestmark = pytest.mark.slow
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def assembled_incident(server: ServeProcess, token: str, group: str) -> dict[str, Any]:
    alert = oncall_payload(group=group, title="HighErrorRate checkout")
    posted = httpx.post(
        server.base + "/webhooks/grafana-oncall",
        content=json.dumps(alert),
        headers={"Authorization": f"Bearer {SECRET}"},
    )
    assert posted.status_code == 202

    def assembled() -> dict[str, Any] | None:
        with server.client(token) as api:
            for item in api.get("/api/incidents").json()["incidents"]:
                if item["alert_group_id"] == group and item["assembled_at"]:
                    return item  # type: ignore[no-any-return]
        return None

    return wait_for(assembled)


def stdio(server: ServeProcess, *args: str, **env: str) -> StdioServerParameters:
    return StdioServerParameters(
        command=executable(),
        args=["mcp", "--target", server.base, *args],
        env={**server.env, **env},
    )


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def test_an_agent_on_stdio_reads_and_drafts_through_the_api_and_only_the_ic_publishes(
    tmp_path: Path,
) -> None:
    with ServeProcess(tmp_path) as server:
        reader_token = server.token("alice@example.com")
        incident = assembled_incident(server, reader_token, "IMCP001")
        iid, ic = incident["id"], incident["ic"]["email"]
        token_file = tmp_path / "token"
        token_file.write_text(server.token(ic) + "\n")

        async with Client(stdio(server, "--token-file", str(token_file))) as client:
            tools = {t.name for t in (await client.list_tools()).tools}
            listed = await call(client, "list_open_incidents")
            one = await call(client, "get_incident", incident_id=iid)
            timeline = await call(client, "get_timeline", incident_id=iid)
            drafted = await call(
                client, "draft_status_update", incident_id=iid, body="We are investigating."
            )
            postmortem = await call(client, "draft_postmortem", incident_id=iid)
            unknown = await client.call_tool("get_incident", {"incident_id": "inc-0000000000"})

        assert tools == {
            "list_open_incidents",
            "get_incident",
            "get_timeline",
            "draft_status_update",
            "draft_postmortem",
        }
        assert [i["id"] for i in listed["incidents"]] == [iid]
        assert one["id"] == iid
        assert timeline["timeline"] == one["timeline"]
        draft = drafted["draft"]
        assert (draft["status"], draft["created_by"]) == ("draft", ic)
        assert postmortem["source"] == "draft"
        assert "HighErrorRate checkout" in postmortem["markdown"]
        assert unknown.is_error
        assert "no incident inc-0000000000" in str(unknown.content)

        # the same tools at /mcp of the running serve, over streamable HTTP
        headers = {"Authorization": f"Bearer {reader_token}"}
        async with (
            httpx2.AsyncClient(headers=headers) as http,
            Client(streamable_http_client(f"{server.base}/mcp", http_client=http)) as remote,
        ):
            over_http = await call(remote, "get_incident", incident_id=iid)
        assert over_http["id"] == iid

        with server.client(server.token(ic)) as api:
            after = api.get(f"/api/incidents/{iid}").json()
            revised = [e for e in after["audit"] if e["type"] == "STATUSPAGE_DRAFT_REVISED"]
            assert [(e["actor"], e["data"]["via"]) for e in revised] == [(ic, "mcp")]
            assert api.get("/status/api/v2/incidents.json").json()["incidents"] == []
            approved = api.post(
                f"/api/incidents/{iid}/drafts/{draft['id']}/approve",
                json={"version": draft["version"]},
            )
            assert approved.status_code == 200, approved.text
            public = api.get("/status/api/v2/incidents.json").json()["incidents"]
        assert "We are investigating." in json.dumps(public)


def run_mcp(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [executable(), "mcp", *args],
        env=env,
        input="",
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_revoked_token_stops_the_stdio_server_with_the_reason(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        token = server.token("alice@example.com")
        assert server.cli("token", "revoke", "alice@example.com").returncode == 0
        done = run_mcp(
            "--target", server.base, env={**server.env, "INCIDENT_RESPONSE_TOKEN": token}
        )
    assert done.returncode == 1
    assert done.stdout == ""
    assert "refused the token: token revoked" in done.stderr


def test_no_token_or_a_target_that_is_no_url_is_a_usage_error(tmp_path: Path) -> None:
    env = clean_env(tmp_path)
    no_token = run_mcp("--target", "http://127.0.0.1:9", env=env)
    not_a_url = run_mcp("--target", "incidents.example.com", env=env)
    missing_file = run_mcp(
        "--target", "http://127.0.0.1:9", "--token-file", str(tmp_path / "none"), env=env
    )
    assert [d.returncode for d in (no_token, not_a_url, missing_file)] == [2, 2, 2]
    assert "set INCIDENT_RESPONSE_TOKEN or pass --token-file" in no_token.stderr
    assert "--target must be the service's http(s) URL" in not_a_url.stderr
    assert "cannot read --token-file" in missing_file.stderr


async def test_an_unreachable_service_is_a_tool_error_that_says_so(tmp_path: Path) -> None:
    target = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    params = StdioServerParameters(
        command=executable(),
        args=["mcp", "--target", target],
        env={**clean_env(tmp_path), "INCIDENT_RESPONSE_TOKEN": "ir_any.token"},
    )
    async with Client(params) as client:
        result = await client.call_tool("list_open_incidents", {})
    assert result.is_error
    assert f"the incident-response service at {target} did not answer" in str(result.content)
