"""HTTP mode: Slack's signed requests on /slack/commands, /slack/interactivity and /slack/events,
dispatched in-process. Forged, stale and replayed requests are refused and change nothing; an
acked request is in the queue before the ack, so a restart right after it loses nothing."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from incident_response.adapters.slack import RateTable, slack_router
from incident_response.domain.audit import AuditEventType
from incident_response.domain.chat import ChatButton, ChatMessage
from tests.fakes.slack import FakeSlack
from tests.fakes.slack.signing import encode, signed_headers
from tests.integration.slack.conftest import PEOPLE, TIME_SCALE
from tests.integration.slack.world import SIGNING_SECRET, SlackWorld, build_slack_world

ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: U0ALICE}
teams:
  payments: [alice@example.com]
services:
  checkout: payments
"""


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=PEOPLE, time_scale=TIME_SCALE) as fake:
        yield fake
    assert not fake.violations, fake.violations


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    roster_path = tmp_path / "roster.yaml"
    roster_path.write_text(ROSTER)
    built = await build_slack_world(
        slack=slack,
        data_dir=tmp_path,
        rates=RateTable().scaled(TIME_SCALE),
    )
    yield built
    await built.aclose()


@pytest.fixture
async def http(world: SlackWorld) -> AsyncIterator[httpx.AsyncClient]:
    app = FastAPI()
    app.include_router(slack_router(world.app))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://app.test") as client:
        yield client


def command(slack: FakeSlack, text: str = "help") -> tuple[bytes, str]:
    channel = slack.workspace.add_channel("war-room", members=["U0ALICE"])
    payload = slack.slash_command_payload(text=text, user_id="U0ALICE", channel_id=channel.id)
    return encode("slash_commands", payload)


async def post(
    http: httpx.AsyncClient,
    path: str,
    body: bytes,
    content_type: str,
    *,
    secret: str = SIGNING_SECRET,
    **how: bool,
) -> httpx.Response:
    headers = signed_headers(secret=secret, body=body, content_type=content_type, **how)
    return await http.post(path, content=body, headers=headers)


async def test_a_signed_command_is_queued_and_acked_within_three_seconds(
    slack: FakeSlack, world: SlackWorld, http: httpx.AsyncClient
) -> None:
    body, content_type = command(slack, "status")
    started = time.monotonic()
    response = await post(http, "/slack/commands", body, content_type)
    assert response.status_code == 200
    assert time.monotonic() - started < 3
    [delivery] = await world.queue.receive()
    assert delivery.body.type == "SLACK_INTERACTION"
    assert (delivery.body.payload["kind"], delivery.body.payload["text"]) == ("command", "status")


async def test_queued_work_survives_a_restart_after_the_ack(
    slack: FakeSlack, world: SlackWorld, http: httpx.AsyncClient
) -> None:
    body, content_type = command(slack, "help")
    assert (await post(http, "/slack/commands", body, content_type)).status_code == 200
    # nothing ran yet (no processor); a processor started later, as after a restart, does it
    assert not slack.responses
    world.processor.start()
    await world.processor.drain(within_seconds=10)
    [reply] = slack.responses
    # Slack reads the reply as mrkdwn: the help text's angle brackets arrive escaped
    assert "/incident-response &lt;command&gt;" in reply.body["text"]
    records = await world.audit.find("no-incident", AuditEventType.SLASH_COMMAND_RECEIVED)
    assert [r.actor for r in records] == ["alice@example.com"]


async def test_a_wrong_signature_is_refused_and_changes_nothing(
    slack: FakeSlack, world: SlackWorld, http: httpx.AsyncClient
) -> None:
    body, content_type = command(slack)
    forged = await post(http, "/slack/commands", body, content_type, corrupt_signature=True)
    other_secret = await post(http, "/slack/commands", body, content_type, secret="not-the-secret")
    assert (forged.status_code, other_secret.status_code) == (401, 401)
    assert await world.queue.depth() == 0


async def test_a_stale_timestamp_is_refused(
    slack: FakeSlack, world: SlackWorld, http: httpx.AsyncClient
) -> None:
    body, content_type = command(slack)
    response = await post(http, "/slack/commands", body, content_type, stale=True)
    assert response.status_code == 401
    assert await world.queue.depth() == 0


async def test_a_replayed_request_is_refused(
    slack: FakeSlack, world: SlackWorld, http: httpx.AsyncClient
) -> None:
    body, content_type = command(slack)
    headers = signed_headers(secret=SIGNING_SECRET, body=body, content_type=content_type)
    first = await http.post("/slack/commands", content=body, headers=headers)
    again = await http.post("/slack/commands", content=body, headers=headers)
    assert (first.status_code, again.status_code) == (200, 401)
    assert await world.queue.depth() == 1


async def test_events_and_interactions_have_their_own_urls(
    slack: FakeSlack, world: SlackWorld, http: httpx.AsyncClient
) -> None:
    channel = slack.workspace.add_channel("inc-room", members=["U0ALICE"])
    said = slack.post_as_user(channel_id=channel.id, user_id="U0ALICE", text="Rollback done")
    event = slack.event_payload(
        slack.pin_as_user(channel_id=channel.id, ts=said["ts"], user_id="U0ALICE")
    )
    body, content_type = encode("events_api", event)
    assert (await post(http, "/slack/events", body, content_type)).status_code == 200
    challenge = {"type": "url_verification", "challenge": "c-123", "token": "x"}
    body, content_type = encode("events_api", challenge)
    verified = await post(http, "/slack/events", body, content_type)
    assert verified.json() == {"challenge": "c-123"}
    rate = ChatButton(action="pulse.rate", label="5", value="5")
    await world.chat.post(channel.id, ChatMessage(text="Rate it", buttons=(rate,)))
    click = slack.block_action_payload(
        user_id="U0ALICE", channel_id=channel.id, action_id="pulse.rate"
    )
    body, content_type = encode("interactive", click)
    assert (await post(http, "/slack/interactivity", body, content_type)).status_code == 200
    queued = []
    for _ in range(2):  # one room's interactions come out one at a time, in order
        [delivery] = await world.queue.receive()
        queued.append(delivery.body.payload)
        await world.queue.ack(delivery)
    assert [(p["kind"], p["action"] or p["event"]["type"]) for p in queued] == [
        ("event", "pin_added"),
        ("action", "pulse.rate"),
    ]
