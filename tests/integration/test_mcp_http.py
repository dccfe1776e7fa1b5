"""The MCP endpoint `serve` mounts at /mcp, spoken to by the MCP SDK's own streamable HTTP client
on a real Container: the tools, the same JSON as the API, drafts that wait for the IC, and the
personal token checked exactly as the API checks it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi import FastAPI
from mcp import Client
from mcp.client.streamable_http import streamable_http_client

from incident_response.domain.incident import Incident
from incident_response.domain.status_update import DraftStatus
from incident_response.services.draft_card import APPROVE
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

TOOLS = {
    "list_open_incidents",
    "get_incident",
    "get_timeline",
    "draft_status_update",
    "draft_postmortem",
}


@asynccontextmanager
async def app_running(app: FastAPI) -> AsyncIterator[None]:
    """The app's lifespan (which runs the MCP session manager), held in one task from start to
    end as uvicorn holds it: a fixture's setup and teardown run in different tasks."""
    stop = asyncio.Event()
    started = asyncio.Event()

    async def hold() -> None:
        async with app.router.lifespan_context(app):
            started.set()
            await stop.wait()

    task = asyncio.create_task(hold())
    await asyncio.wait([task, asyncio.create_task(started.wait())], return_when="FIRST_COMPLETED")
    if task.done():
        task.result()  # the lifespan failed: say how
    try:
        yield
    finally:
        stop.set()
        await task


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world, app_running(world.app):
        yield world


def http_client(world: ConsoleWorld, token: str | None) -> httpx2.AsyncClient:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx2.AsyncClient(
        transport=httpx2.ASGITransport(app=world.app),
        base_url=world.container.base_url,
        headers=headers,
    )


@asynccontextmanager
async def agent(world: ConsoleWorld, email: str) -> AsyncIterator[Client]:
    """An MCP client holding `email`'s personal token."""
    http = http_client(world, world.token(email))
    url = f"{world.container.base_url}/mcp"
    async with http, Client(streamable_http_client(url, http_client=http)) as client:
        yield client


async def call(client: Client, tool: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(tool, arguments)
    assert not result.is_error, result.content
    assert isinstance(result.structured_content, dict)
    return result.structured_content


async def refusal(client: Client, tool: str, **arguments: Any) -> str:
    result = await client.call_tool(tool, arguments)
    assert result.is_error, result.structured_content
    text = " ".join(getattr(block, "text", "") for block in result.content)
    assert "Traceback" not in text
    return text


async def api(world: ConsoleWorld, path: str, email: str) -> Any:
    client = world.browser().client
    got = await client.get(path, headers={"Authorization": f"Bearer {world.token(email)}"})
    assert got.status_code == 200, got.text
    return got.json()


async def outsider_of(world: ConsoleWorld, incident: Incident) -> str:
    inside = {r.email for r in incident.responders} | {incident.ic}
    people = await world.container.directory.people()
    return next(p.email for p in people if p.email not in inside)


# -- the tools --------------------------------------------------------------------------------


async def test_the_tools_read_and_draft_and_none_approves_or_publishes(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    async with agent(world, incident.ic or "") as client:
        tools = {t.name: t for t in (await client.list_tools()).tools}
    assert set(tools) == TOOLS
    assert not any(word in name for name in tools for word in ("approve", "publish", "reject"))
    drafting = tools["draft_status_update"].description or ""
    assert "NOT published" in drafting
    assert "Only the incident commander (or an approver) can approve and publish" in drafting
    assert "Files nothing" in (tools["draft_postmortem"].description or "")


async def test_read_tools_answer_the_same_json_as_the_api(world: ConsoleWorld) -> None:
    incident = await world.alert()
    other = await world.alert(title="HighLatency payments", service="payments")
    reader = await outsider_of(world, incident)  # anyone in the roster may read
    async with agent(world, reader) as client:
        listed = await call(client, "list_open_incidents")
        one = await call(client, "get_incident", incident_id=incident.id)
        timeline = await call(client, "get_timeline", incident_id=incident.id)

    rest = await api(world, f"/api/incidents/{incident.id}", reader)
    assert one == rest
    assert timeline == {"incident_id": incident.id, "timeline": rest["timeline"]}
    assert [i["id"] for i in listed["incidents"]] == [other.id, incident.id]
    assert listed["incidents"][1] == rest


async def test_an_agents_draft_waits_for_the_ic_who_approves_it_through_the_api(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = incident.ic or ""
    text = "We are investigating elevated checkout errors."
    async with agent(world, ic) as client:
        answered = await call(client, "draft_status_update", incident_id=incident.id, body=text)
    draft = answered["draft"]
    assert answered["published"] is False
    assert (draft["body"], draft["status"], draft["created_by"]) == (text, "draft", ic)

    stored = await world.container.store.get(incident.id)
    assert stored is not None
    assert [(d.id, d.status) for d in stored.drafts] == [(draft["id"], DraftStatus.DRAFT)]
    assert (await world.container.status_page.summary())["incidents"] == []
    records = await world.container.audit.records(incident.id)
    drafted = [r for r in records if r.type.value.startswith("STATUSPAGE_DRAFT")]
    assert [(r.type.value, r.actor, r.data.get("via")) for r in drafted] == [
        ("STATUSPAGE_DRAFT_CREATED", ic, "mcp"),
        ("STATUSPAGE_DRAFT_REVISED", ic, "mcp"),
    ]
    # the IC sees it where they work: the card, with Approve & Publish, in the war room
    assert await approve_buttons(world, stored) == [f"{draft['id']}:{draft['version']}"]

    client = world.browser().client
    approved = await client.post(
        f"/api/incidents/{incident.id}/drafts/{draft['id']}/approve",
        json={"version": draft["version"]},
        headers={"Authorization": f"Bearer {world.token(ic)}"},
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published"
    public = await world.container.status_page.summary()
    assert text in str(public["incidents"])


async def test_an_outsider_may_not_draft_and_nothing_changes(world: ConsoleWorld) -> None:
    incident = await world.alert()
    outsider = await outsider_of(world, incident)
    async with agent(world, outsider) as client:
        said = await refusal(client, "draft_status_update", incident_id=incident.id)
    assert f"{outsider} may not draft or edit a status update" in said
    stored = await world.container.store.get(incident.id)
    assert stored is not None
    assert stored.drafts == ()


async def test_hostile_arguments_get_clear_errors_and_change_nothing(world: ConsoleWorld) -> None:
    incident = await world.alert()
    async with agent(world, incident.ic or "") as client:
        too_long = await refusal(
            client, "draft_status_update", incident_id=incident.id, body="x" * 5001
        )
        empty = await refusal(client, "draft_status_update", incident_id=incident.id, body=" ")
        path = await refusal(client, "get_incident", incident_id="../../api/postmortems")
        unknown = await refusal(client, "get_timeline", incident_id="inc-0000000000")
        huge = await refusal(client, "list_open_incidents", limit=10_000)
        missing = await refusal(client, "draft_postmortem")
    assert "the text has 5001 characters; the limit is 5000" in too_long
    assert "the text is empty" in empty
    assert "incident_id" in path
    assert "pattern" in path
    assert "no incident inc-0000000000" in unknown
    assert "limit" in huge
    assert "incident_id" in missing
    stored = await world.container.store.get(incident.id)
    assert stored is not None
    assert stored.drafts == ()


async def test_a_postmortem_draft_is_written_and_filed_nowhere(world: ConsoleWorld) -> None:
    incident = await world.alert()
    async with agent(world, incident.ic or "") as client:
        drafted = await call(client, "draft_postmortem", incident_id=incident.id)
    assert drafted["source"] == "draft"
    assert drafted["filed"] is None
    assert incident.title in drafted["markdown"]
    stored = await world.container.store.get(incident.id)
    assert stored is not None
    assert stored.postmortem is None
    assert await world.container.issue_tracker.list() == []


# -- the token --------------------------------------------------------------------------------


async def test_no_token_a_bad_one_or_a_revoked_one_is_refused_401(world: ConsoleWorld) -> None:
    incident = await world.alert()
    ic = incident.ic or ""
    token = world.token(ic)
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}

    async def post(token: str | None) -> httpx2.Response:
        async with http_client(world, token) as http:
            return await http.post("/mcp", json=initialize, headers=accept)

    assert (await post(token)).status_code == 200
    for refused in (None, "ir_forged.token"):
        answer = await post(refused)
        assert answer.status_code == 401
        assert answer.headers["www-authenticate"] == "Bearer"
        assert "incident-response token EMAIL" in answer.json()["error"]

    async with http_client(world, token) as http:
        assert (await http.get("/mcp", headers=accept)).status_code == 405  # no idle streams

    await world.container.credentials.revoke(ic)
    revoked = await post(token)
    assert revoked.status_code == 401
    assert revoked.json()["error"].startswith("token revoked")


async def test_once_resolved_the_postmortem_tool_answers_the_filed_one(world: ConsoleWorld) -> None:
    incident = await world.alert()
    ic = incident.ic or ""
    resolved = await world.browser().client.post(
        f"/api/incidents/{incident.id}/commands",
        json={"text": "resolve"},
        headers={"Authorization": f"Bearer {world.token(ic)}"},
    )
    assert resolved.status_code == 200, resolved.text
    await world.process()
    stored = await world.container.store.get(incident.id)
    assert stored is not None
    assert stored.postmortem is not None
    async with agent(world, ic) as client:
        drafted = await call(client, "draft_postmortem", incident_id=incident.id)
        listed = await call(client, "list_open_incidents")
    assert drafted["source"] == "filed"
    assert drafted["filed"] == stored.postmortem.model_dump()
    assert drafted["markdown"] == await world.container.issue_tracker.read(stored.postmortem.id)
    assert listed["incidents"] == []


# -- the REST side the stdio server uses ------------------------------------------------------


async def test_the_api_serves_the_postmortem_draft_for_a_token(world: ConsoleWorld) -> None:
    incident = await world.alert()
    client = world.browser().client
    reader = {"Authorization": f"Bearer {world.token(await outsider_of(world, incident))}"}
    drafted = await client.get(f"/api/incidents/{incident.id}/postmortem-draft", headers=reader)
    unknown = await client.get("/api/incidents/inc-0000000000/postmortem-draft", headers=reader)
    anonymous = await client.get(f"/api/incidents/{incident.id}/postmortem-draft")
    assert drafted.status_code == 200
    assert (drafted.json()["incident_id"], drafted.json()["source"]) == (incident.id, "draft")
    assert (unknown.status_code, unknown.json()) == (404, {"error": "no incident inc-0000000000"})
    assert anonymous.status_code == 401


async def test_the_api_notes_only_the_surfaces_it_knows_in_a_drafts_audit(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = {"Authorization": f"Bearer {world.token(incident.ic or '')}"}
    client = world.browser().client
    path = f"/api/incidents/{incident.id}/drafts"
    first = await client.post(path, headers={**ic, "Incident-Response-Via": "mcp"})
    edited = await client.post(
        f"{path}/{first.json()['id']}/edit",
        json={"body": "We are looking into it.", "version": 1},
        headers={**ic, "Incident-Response-Via": "anything <b>else</b>"},
    )
    assert edited.status_code == 200, edited.text
    records = await world.container.audit.records(incident.id)
    vias = [r.data.get("via") for r in records if r.type.value.startswith("STATUSPAGE_DRAFT")]
    assert vias == ["mcp", None]
    # each version made over the API is shown in the war room, where the IC approves
    draft_id = first.json()["id"]
    assert await approve_buttons(world, incident) == [f"{draft_id}:1", f"{draft_id}:2"]


async def approve_buttons(world: ConsoleWorld, incident: Incident) -> list[str]:
    assert incident.channel is not None
    messages = await world.container.console_chat.messages(incident.channel.id)
    return [b.value for m in messages for b in m.buttons if b.action == APPROVE]
