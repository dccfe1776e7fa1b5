"""The fake Slack itself: it must refuse what Slack refuses, limit what Slack limits, and speak
Socket Mode and signed HTTP the way slack_sdk and slack_bolt expect, or tests built on it lie."""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import time
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs

import aiohttp
import httpx
import pytest
from aiohttp import web
from hypothesis import given, settings
from hypothesis import strategies as st
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncAck, AsyncApp, AsyncRespond
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from tests.fakes.slack import AckTimeout, FakeSlack
from tests.fakes.slack.limits import RateLimits
from tests.fakes.slack.state import Channel

ANN = "U0000ANN01"
BOB = "U0000BOB01"
USERS = [
    {"id": ANN, "email": "ann@example.test", "name": "ann"},
    {"id": BOB, "email": "bob@example.test", "name": "bob"},
]
SECRET = "8f742231b10e8888abcd99yyyzzz85a5"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=USERS, tiers=False) as fake:
        yield fake


@pytest.fixture
def client(slack: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)


@pytest.fixture
def room(slack: FakeSlack) -> Channel:
    return slack.add_channel("inc-0001-db", members=[ANN])


async def error_of(call: Any) -> str:
    with pytest.raises(SlackApiError) as raised:
        await call
    return str(raised.value.response["error"])


# -- the Web API, through a real client ---------------------------------------------------------


async def test_a_war_room_built_through_slack_sdk_is_recorded(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    created = await client.conversations_create(name="inc-0042-payments", is_private=True)
    channel_id = created["channel"]["id"]
    await client.conversations_invite(channel=channel_id, users=[ANN, BOB])
    await client.conversations_setTopic(channel=channel_id, topic="SEV1 payments: IC ann")
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*Checklist*"}}]
    posted = await client.chat_postMessage(
        channel=channel_id,
        text="Checklist",
        blocks=blocks,
        metadata={"event_type": "checklist", "event_payload": {"incident": "42"}},
    )
    await client.pins_add(channel=channel_id, timestamp=posted["ts"])
    await client.bookmarks_add(
        channel_id=channel_id, title="Runbook", type="link", link="https://runbooks.test/db"
    )

    channel = slack.channels[channel_id]
    assert (channel.name, channel.is_private, channel.topic.value) == (
        "inc-0042-payments",
        True,
        "SEV1 payments: IC ann",
    )
    assert channel.members == {slack.workspace.bot_user_id, ANN, BOB}
    [message] = slack.messages[channel_id]
    assert (message.ts, message.blocks, message.metadata) == (
        posted["ts"],
        blocks,
        {"event_type": "checklist", "event_payload": {"incident": "42"}},
    )
    assert slack.pins[channel_id] == [posted["ts"]]
    assert [(b.title, b.link) for b in slack.bookmarks[channel_id]] == [
        ("Runbook", "https://runbooks.test/db")
    ]
    assert [c.method for c in slack.calls] == [
        "conversations.create",
        "conversations.invite",
        "conversations.setTopic",
        "chat.postMessage",
        "pins.add",
        "bookmarks.add",
    ]
    assert slack.violations == []


async def test_requests_without_or_with_a_wrong_token_are_refused(slack: FakeSlack) -> None:
    assert await error_of(AsyncWebClient(base_url=slack.api_url).auth_test()) == "not_authed"
    wrong = AsyncWebClient(token="xoxb-someone-else", base_url=slack.api_url)
    assert await error_of(wrong.conversations_create(name="inc-1")) == "invalid_auth"
    app_level = AsyncWebClient(token=slack.app_token, base_url=slack.api_url)
    assert await error_of(app_level.conversations_create(name="inc-1")) == "not_allowed_token_type"
    bot = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    assert (
        await error_of(bot.apps_connections_open(app_token=slack.bot_token))
        == "not_allowed_token_type"
    )
    assert slack.channels == {}


@pytest.mark.parametrize(
    ("name", "error"),
    [
        ("", "invalid_name_required"),
        ("Inc-1", "invalid_name_specials"),
        ("inc 1", "invalid_name_specials"),
        ("inc#1", "invalid_name_specials"),
        ("a" * 81, "invalid_name_maxlength"),
        ("--", "invalid_name_punctuation"),
    ],
)
async def test_channel_names_break_slack_rules(
    slack: FakeSlack, client: AsyncWebClient, name: str, error: str
) -> None:
    assert await error_of(client.conversations_create(name=name)) == error
    assert slack.channels == {}


names = st.text(alphabet="abcxyz019-_ A#É", max_size=90)


@settings(max_examples=60, deadline=None)
@given(names=st.lists(names, min_size=1, max_size=4))
def test_a_name_is_accepted_exactly_when_it_follows_the_rules_and_is_free(names: list[str]) -> None:
    """Through the threaded server and a synchronous client, as a sync test would use it."""
    with FakeSlack.in_thread(tiers=False) as slack, httpx.Client(base_url=slack.api_url) as http:
        accepted: set[str] = set()
        for name in names:
            answer = http.post(
                "conversations.create",
                data={"name": name},
                headers={"Authorization": f"Bearer {slack.bot_token}"},
            ).json()
            valid = (
                0 < len(name) <= 80
                and set(name) <= set("abcxyz019-_")
                and any(c.isalnum() for c in name)
            )
            assert answer["ok"] == (valid and name not in accepted), (name, answer)
            if answer["ok"]:
                accepted.add(name)
            elif valid:
                assert answer["error"] == "name_taken"
        assert {c.name for c in slack.channels.values()} == accepted


async def test_two_concurrent_creates_of_one_name_collide_under_latency() -> None:
    async with FakeSlack(latency=0.2, tiers=False) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        started = time.monotonic()
        results = await asyncio.gather(
            client.conversations_create(name="inc-0007-api", is_private=True),
            client.conversations_create(name="inc-0007-api", is_private=True),
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
    errors = [r.response["error"] for r in results if isinstance(r, SlackApiError)]
    assert errors == ["name_taken"]
    assert [c.name for c in slack.channels.values()] == ["inc-0007-api"]
    assert 0.2 <= elapsed < 0.35, "both calls were in flight at once, each taking the latency"


async def test_invites_are_all_or_nothing_and_name_the_bad_user(
    slack: FakeSlack, client: AsyncWebClient, room: Channel
) -> None:
    assert (
        await error_of(client.conversations_invite(channel=room.id, users=[BOB, "U0NOBODY"]))
        == "user_not_found"
    )
    assert (
        await error_of(client.conversations_invite(channel=room.id, users=[BOB, ANN]))
        == "already_in_channel"
    )
    assert room.members == {slack.workspace.bot_user_id, ANN}
    forced = await client.conversations_invite(channel=room.id, users=[BOB, ANN], force=True)
    assert forced["errors"] == [{"user": ANN, "ok": False, "error": "already_in_channel"}]
    assert room.members == {slack.workspace.bot_user_id, ANN, BOB}


async def test_an_archived_or_foreign_channel_refuses_posts(
    slack: FakeSlack, client: AsyncWebClient, room: Channel
) -> None:
    foreign = slack.add_channel("someone-elses", creator=ANN)
    assert (
        await error_of(client.chat_postMessage(channel=foreign.id, text="hi"))
        == "channel_not_found"
    )
    public = slack.add_channel("general", is_private=False, creator=ANN)
    assert await error_of(client.chat_postMessage(channel=public.id, text="hi")) == "not_in_channel"
    await client.conversations_archive(channel=room.id)
    assert await error_of(client.conversations_archive(channel=room.id)) == "already_archived"
    assert await error_of(client.chat_postMessage(channel=room.id, text="hi")) == "is_archived"
    assert (
        await error_of(client.conversations_invite(channel=room.id, users=[BOB])) == "is_archived"
    )
    assert slack.messages[room.id] == []


async def test_pins_updates_ephemerals_and_lookups(
    slack: FakeSlack, client: AsyncWebClient, room: Channel
) -> None:
    posted = await client.chat_postMessage(channel=room.id, text="draft v1")
    await client.pins_add(channel=room.id, timestamp=posted["ts"])
    assert (
        await error_of(client.pins_add(channel=room.id, timestamp=posted["ts"])) == "already_pinned"
    )
    assert (
        await error_of(client.pins_add(channel=room.id, timestamp="1.000001"))
        == "message_not_found"
    )
    await client.chat_update(channel=room.id, ts=posted["ts"], text="draft v2")
    await client.chat_postEphemeral(channel=room.id, user=ANN, text="only you can see this")
    assert (
        await error_of(client.chat_postEphemeral(channel=room.id, user=BOB, text="x"))
        == "user_not_in_channel"
    )
    found = await client.users_lookupByEmail(email="Bob@Example.test")
    assert (
        await error_of(client.users_lookupByEmail(email="nobody@example.test")) == "users_not_found"
    )
    assert [(m.text, m.edits) for m in slack.messages[room.id]] == [("draft v2", 1)]
    assert [(e.user, e.text) for e in slack.ephemerals[room.id]] == [(ANN, "only you can see this")]
    assert found["user"]["id"] == BOB


async def test_private_channels_list_in_pages_and_only_when_the_bot_is_in_them(
    slack: FakeSlack, client: AsyncWebClient
) -> None:
    mine = [
        (await client.conversations_create(name=f"inc-{n}", is_private=True))["channel"]["id"]
        for n in range(5)
    ]
    slack.add_channel("not-mine", creator=ANN)
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = await client.conversations_list(
            types="private_channel", limit=2, cursor=cursor or None
        )
        seen += [c["id"] for c in page["channels"]]
        pages += 1
        cursor = page["response_metadata"]["next_cursor"]
        if not cursor:
            break
    assert (seen, pages) == (mine, 3)
    assert await error_of(client.conversations_list(cursor="bm90LWEtY3Vyc29y")) == "invalid_cursor"


# -- the published contract -----------------------------------------------------------------------


async def test_a_parameter_the_method_does_not_have_is_a_recorded_violation(
    slack: FakeSlack,
) -> None:
    client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
    assert (
        await error_of(client.api_call("conversations.create", params={"nmae": "inc-1"}))
        == "invalid_arguments"
    )
    assert [(v.method, v.problems) for v in slack.violations] == [
        ("conversations.create", ["unknown parameter 'nmae'"])
    ]
    assert slack.channels == {}


async def test_missing_required_wrongly_typed_and_list_valued_parameters_are_violations(
    slack: FakeSlack, client: AsyncWebClient, room: Channel
) -> None:
    assert (
        await error_of(client.api_call("chat.postMessage", json={"text": "x"}))
        == "invalid_arguments"
    )
    assert (
        await error_of(client.api_call("conversations.list", params={"limit": "ten"}))
        == "invalid_arguments"
    )
    assert (
        await error_of(
            client.api_call("conversations.invite", json={"channel": room.id, "users": [BOB]})
        )
        == "invalid_arguments"
    )
    assert [v.problems for v in slack.violations] == [
        ["missing required parameter 'channel'"],
        ["'limit' should be integer, got 'ten'"],
        ["'users' should be string, got ['U0000BOB01']"],
    ]
    assert room.members == {slack.workspace.bot_user_id, ANN}


async def test_hand_written_contracts_cover_methods_missing_from_the_2021_spec(
    slack: FakeSlack, client: AsyncWebClient, room: Channel
) -> None:
    assert await error_of(
        client.api_call("bookmarks.add", params={"channel_id": room.id, "type": "link"})
    ) == ("invalid_arguments")
    assert slack.violations[-1].problems == ["missing required parameter 'title'"]
    bad_blocks = [{"type": "header", "text": {"type": "mrkdwn", "text": "Approve"}}]
    assert (
        await error_of(client.chat_postMessage(channel=room.id, text="x", blocks=bad_blocks))
        == "invalid_blocks"
    )
    assert slack.violations[-1].problems == ["blocks[0]: text type must be one of ('plain_text',)"]
    assert slack.bookmarks[room.id] == []
    assert slack.messages[room.id] == []


async def test_views_open_needs_a_fresh_unused_trigger_and_a_valid_view(
    slack: FakeSlack, client: AsyncWebClient, room: Channel
) -> None:
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Reject draft"}, "blocks": []}
    trigger = slack.slash_command_payload(text="reject", user_id=ANN, channel_id=room.id)[
        "trigger_id"
    ]
    too_long = {**view, "title": {"type": "plain_text", "text": "A title far too long for a modal"}}
    assert (
        await error_of(client.views_open(trigger_id=trigger, view=too_long)) == "invalid_arguments"
    )
    await client.views_open(trigger_id=trigger, view=view)
    assert (
        await error_of(client.views_open(trigger_id=trigger, view=view)) == "exchanged_trigger_id"
    )
    assert (
        await error_of(client.views_open(trigger_id="123.456.abc", view=view))
        == "invalid_trigger_id"
    )
    assert [v.user for v in slack.views] == [ANN]
    slack.trigger_ttl = 0.0
    stale = slack.slash_command_payload(text="reject", user_id=ANN, channel_id=room.id)[
        "trigger_id"
    ]
    assert await error_of(client.views_open(trigger_id=stale, view=view)) == "expired_trigger_id"


# -- rate limits ---------------------------------------------------------------------------------


async def test_a_tier_2_method_answers_429_with_retry_after_once_the_window_is_spent() -> None:
    async with (
        FakeSlack(tiers=True, time_scale=0.5) as slack,
        httpx.AsyncClient(base_url=slack.api_url) as http,
    ):
        headers = {"Authorization": f"Bearer {slack.bot_token}"}
        rule = slack.limits.rule_for("conversations.create")
        assert rule is not None
        assert rule.per_window == 20

        async def create(n: int) -> httpx.Response:
            return await http.post(
                "conversations.create", data={"name": f"inc-{n}"}, headers=headers
            )

        answers = [await create(n) for n in range(rule.capacity)]
        refused = await create(rule.capacity)
        precise = float(refused.headers["X-Fake-Slack-Retry-After"])
        await asyncio.sleep(precise)
        after_waiting = await create(rule.capacity + 1)
    assert all(a.json()["ok"] for a in answers)
    assert (refused.status_code, refused.json()) == (429, {"ok": False, "error": "ratelimited"})
    assert refused.headers["Retry-After"] == str(math.ceil(precise))
    assert precise == pytest.approx(rule.window / rule.per_window, rel=0.2)
    assert after_waiting.json()["ok"]
    assert slack.rate_limited == 1
    assert len(slack.channels) == rule.capacity + 1


async def test_a_seeded_share_of_calls_is_answered_500_without_effect() -> None:
    """Fault injection for vendor-outage tests: the same seed fails the same calls."""

    async def run(seed: int) -> list[int]:
        async with (
            FakeSlack(tiers=False, fault_rate=0.2, fault_seed=seed) as slack,
            httpx.AsyncClient(base_url=slack.api_url) as http,
        ):
            headers = {"Authorization": f"Bearer {slack.bot_token}"}
            answers = [
                await http.post("conversations.create", data={"name": f"r-{n}"}, headers=headers)
                for n in range(200)
            ]
            failed = [a for a in answers if a.status_code == 500]
            assert {a.json()["error"] for a in failed} == {"internal_error"}
            assert len(slack.channels) == 200 - len(failed) == 200 - slack.faults
            return [a.status_code for a in answers]

    first, again, other = await run(7), await run(7), await run(8)
    assert first == again
    assert first != other
    assert 20 <= first.count(500) <= 60
    with pytest.raises(ValueError, match="share"):
        FakeSlack(fault_rate=1.0)


def test_retry_after_is_the_time_until_the_next_call_fits_the_window() -> None:
    now = [1000.0]
    limits = RateLimits(clock=lambda: now[0])
    rule = limits.rule_for("pins.add")
    assert rule is not None
    assert all(limits.acquire("pins.add").allowed for _ in range(rule.capacity))
    refused = limits.acquire("pins.add")
    assert (refused.allowed, refused.retry_after, refused.retry_after_header) == (False, 3.0, "3")
    now[0] += 2.9
    assert not limits.acquire("pins.add").allowed
    now[0] += 0.1
    assert limits.acquire("pins.add").allowed
    assert limits.acquire("users.info").allowed, "each method has its own budget"


@settings(max_examples=50, deadline=None)
@given(
    tier_method=st.sampled_from(["conversations.create", "conversations.invite", "views.open"]),
    gaps=st.lists(st.floats(min_value=0.0, max_value=2.0), min_size=1, max_size=400),
    scale=st.sampled_from([0.01, 0.1, 1.0]),
)
def test_no_window_ever_admits_more_than_one_window_plus_the_burst(
    tier_method: str, gaps: list[float], scale: float
) -> None:
    now = [0.0]
    limits = RateLimits(clock=lambda: now[0], time_scale=scale)
    rule = limits.rule_for(tier_method)
    assert rule is not None
    admitted: list[float] = []
    for gap in gaps:
        now[0] += gap * scale
        if limits.acquire(tier_method).allowed:
            admitted.append(now[0])
    for start in admitted:
        in_window = sum(1 for t in admitted if start <= t < start + rule.window)
        assert in_window <= rule.capacity + rule.per_window


async def test_post_message_is_paced_per_channel() -> None:
    async with FakeSlack(tiers=True) as slack:
        client = AsyncWebClient(token=slack.bot_token, base_url=slack.api_url)
        first, second = slack.add_channel("inc-a"), slack.add_channel("inc-b")
        burst = slack.limits.channel_rule().capacity
        for n in range(burst):
            await client.chat_postMessage(channel=first.id, text=f"update {n}")
        with pytest.raises(SlackApiError) as raised:
            await client.chat_postMessage(channel=first.id, text="one too many")
        await client.chat_postMessage(channel=second.id, text="another room is not slowed")
    assert (raised.value.response.status_code, raised.value.response.headers["Retry-After"]) == (
        429,
        "1",
    )
    assert (len(slack.messages[first.id]), len(slack.messages[second.id])) == (burst, 1)


async def test_latency_is_paid_per_call_and_nagle_adds_nothing() -> None:
    async with FakeSlack(tiers=False) as fast, httpx.AsyncClient(base_url=fast.api_url) as http:
        headers = {"Authorization": f"Bearer {fast.bot_token}"}
        timings = []
        for _ in range(40):
            started = time.monotonic()
            await http.post("auth.test", headers=headers)
            timings.append(time.monotonic() - started)
    async with (
        FakeSlack(latency=0.1, tiers=False) as slow,
        httpx.AsyncClient(base_url=slow.api_url) as http,
    ):
        started = time.monotonic()
        await http.post("auth.test", headers={"Authorization": f"Bearer {slow.bot_token}"})
        slow_call = time.monotonic() - started
    assert statistics.median(timings) < 0.02, (
        "a keep-alive round trip must not wait on delayed ACKs"
    )
    assert 0.1 <= slow_call < 0.15


# -- Socket Mode -----------------------------------------------------------------------------------


async def test_socket_mode_says_hello_delivers_envelopes_and_times_acks(
    slack: FakeSlack, room: Channel
) -> None:
    opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(
        app_token=slack.app_token
    )
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(opened["url"]) as socket:
            hello = await socket.receive_json()
            delivering = asyncio.create_task(
                slack.send_slash_command(text="status", user_id=ANN, channel_id=room.id)
            )
            envelope = await socket.receive_json()
            await socket.send_json(
                {"envelope_id": envelope["envelope_id"], "payload": {"text": "On it"}}
            )
            ack = await delivering
        reused = await session.get(opened["url"].replace("ws://", "http://"))
    assert (hello["type"], hello["connection_info"]["app_id"]) == ("hello", slack.workspace.app_id)
    assert (envelope["type"], envelope["accepts_response_payload"]) == ("slash_commands", True)
    assert (
        envelope["payload"]["command"],
        envelope["payload"]["text"],
        envelope["payload"]["user_id"],
    ) == (
        "/incident-response",
        "status",
        ANN,
    )
    assert ack.latency < 3
    assert ack.payload == {"text": "On it"}
    assert [(e.user, e.text, e.via) for e in slack.ephemerals[room.id]] == [(ANN, "On it", "ack")]
    assert reused.status == 401, "a Socket Mode ticket is good for one connection"


async def test_an_envelope_nobody_acknowledges_fails_the_test() -> None:
    async with FakeSlack(users=USERS, ack_timeout=0.2) as slack:
        opened = await AsyncWebClient(base_url=slack.api_url).apps_connections_open(
            app_token=slack.app_token
        )
        async with aiohttp.ClientSession() as session, session.ws_connect(opened["url"]) as socket:
            await socket.receive_json()
            with pytest.raises(AckTimeout):
                await slack.send_event({"type": "app_mention", "user": ANN, "text": "hi"})
    assert slack.acks == []


async def test_a_bolt_app_handles_a_command_a_modal_and_a_button_over_socket_mode(
    slack: FakeSlack, room: Channel
) -> None:
    app = AsyncApp(client=AsyncWebClient(token=slack.bot_token, base_url=slack.api_url))
    modal = {
        "type": "modal",
        "callback_id": "reject",
        "title": {"type": "plain_text", "text": "Reject draft"},
        "submit": {"type": "plain_text", "text": "Reject"},
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": {"type": "plain_text", "text": "Why?"},
                "element": {"type": "plain_text_input", "action_id": "text"},
            }
        ],
    }
    button = {
        "type": "button",
        "action_id": "approve",
        "value": "draft-1:v2",
        "text": {"type": "plain_text", "text": "Approve & Publish"},
        "confirm": {
            "title": {"type": "plain_text", "text": "Publish?"},
            "text": {"type": "plain_text", "text": "Customers will see it."},
            "confirm": {"type": "plain_text", "text": "Publish"},
            "deny": {"type": "plain_text", "text": "Cancel"},
        },
    }

    @app.command("/incident-response")
    async def on_command(ack: AsyncAck, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack("Opening the form")
        await client.views_open(trigger_id=body["trigger_id"], view=modal)

    @app.view("reject")
    async def on_submit(ack: AsyncAck, view: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        reason = view["state"]["values"]["reason"]["text"]["value"]
        await client.chat_postMessage(
            channel=room.id,
            text=f"Rejected: {reason}",
            blocks=[{"type": "actions", "block_id": "decide", "elements": [button]}],
        )

    @app.action("approve")
    async def on_approve(ack: AsyncAck, body: dict[str, Any], respond: AsyncRespond) -> None:
        await ack()
        await respond(text=f"Published {body['actions'][0]['value']}")

    handler = AsyncSocketModeHandler(app, slack.app_token)
    await handler.connect_async()  # type: ignore[no-untyped-call]
    try:
        await slack.wait_for_socket_client()
        command_ack = await slack.send_slash_command(text="reject", user_id=ANN, channel_id=room.id)
        await slack.wait_for(lambda: slack.views)
        await slack.send_view_submission(
            user_id=ANN, callback_id="reject", values={"reason": {"text": "typo"}}
        )
        await slack.wait_for(lambda: slack.messages[room.id])
        with pytest.raises(LookupError):
            slack.block_action_payload(user_id=ANN, channel_id=room.id, action_id="no-such-button")
        await slack.send_block_action(user_id=ANN, channel_id=room.id, action_id="approve")
        await slack.wait_for(lambda: len(slack.ephemerals[room.id]) == 2)
    finally:
        await handler.close_async()  # type: ignore[no-untyped-call]
    assert command_ack.payload == {"text": "Opening the form"}
    assert [m.text for m in slack.messages[room.id]] == ["Rejected: typo"]
    assert [(e.text, e.via) for e in slack.ephemerals[room.id]] == [
        ("Opening the form", "ack"),
        ("Published draft-1:v2", "response_url"),
    ]
    assert [a.latency < 3 for a in slack.acks] == [True, True, True]
    assert slack.violations == []


# -- HTTP mode ---------------------------------------------------------------------------------------


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[tuple[bool, str, bytes]]]]:
    """A stand-in app endpoint that checks signatures with slack_sdk's own verifier."""
    verifier = SignatureVerifier(SECRET)
    received: list[tuple[bool, str, bytes]] = []

    async def endpoint(request: web.Request) -> web.Response:
        body = await request.read()
        valid = verifier.is_valid(
            body=body,
            timestamp=request.headers["X-Slack-Request-Timestamp"],
            signature=request.headers["X-Slack-Signature"],
        )
        received.append((valid, request.content_type, body))
        return web.Response(status=200 if valid else 401)

    app = web.Application()
    app.router.add_post("/slack/events", endpoint)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/slack/events", received
    finally:
        await runner.cleanup()


async def test_signed_http_delivery_passes_slacks_verifier_and_forgeries_do_not(
    slack: FakeSlack, room: Channel, receiver: tuple[str, list[tuple[bool, str, bytes]]]
) -> None:
    url, received = receiver
    command = slack.slash_command_payload(text="declare", user_id=ANN, channel_id=room.id)
    good = await slack.deliver_http(url, "slash_commands", command, SECRET)
    forged = await slack.deliver_http(
        url, "slash_commands", command, SECRET, corrupt_signature=True
    )
    stale = await slack.deliver_http(url, "slash_commands", command, SECRET, stale=True)
    wrong_secret = await slack.deliver_http(url, "slash_commands", command, "not-the-secret")
    replayed = await slack.replay(good)
    assert [good.status, forged.status, stale.status, wrong_secret.status] == [200, 401, 401, 401]
    assert (replayed.body, replayed.headers) == (good.body, good.headers)
    assert {k: v[0] for k, v in parse_qs(received[0][2].decode()).items()} == command


async def test_interactions_and_events_are_encoded_as_slack_sends_them(
    slack: FakeSlack,
    client: AsyncWebClient,
    room: Channel,
    receiver: tuple[str, list[tuple[bool, str, bytes]]],
) -> None:
    url, received = receiver
    status_option = {"text": {"type": "plain_text", "text": "Update status"}, "value": "status"}
    checklist: list[dict[str, Any]] = [
        {
            "type": "actions",
            "block_id": "checklist",
            "elements": [
                {
                    "type": "checkboxes",
                    "action_id": "check",
                    "options": [
                        {"text": {"type": "plain_text", "text": "Page DBA"}, "value": "page-dba"},
                        status_option,
                    ],
                }
            ],
        }
    ]
    posted = await client.chat_postMessage(channel=room.id, text="Checklist", blocks=checklist)
    click = slack.block_action_payload(
        user_id=ANN, channel_id=room.id, action_id="check", value=["status"]
    )
    await slack.deliver_http(url, "interactive", click, SECRET)
    event = slack.pin_as_user(channel_id=room.id, ts=posted["ts"], user_id=ANN)
    await slack.deliver_http(url, "events_api", slack.event_payload(event), SECRET)
    (ok_click, click_type, click_body), (ok_event, event_type, event_body) = received
    sent_click = json.loads(parse_qs(click_body.decode())["payload"][0])
    sent_event = json.loads(event_body)
    assert (ok_click, click_type, ok_event, event_type) == (
        True,
        "application/x-www-form-urlencoded",
        True,
        "application/json",
    )
    assert sent_click["actions"][0]["selected_options"] == [status_option]
    assert sent_click["container"]["message_ts"] == posted["ts"]
    assert (
        sent_event["type"],
        sent_event["event"]["type"],
        sent_event["event"]["item"]["message"]["ts"],
    ) == (
        "event_callback",
        "pin_added",
        posted["ts"],
    )
    assert slack.pins[room.id] == [posted["ts"]]


async def test_a_response_url_records_replies_and_is_spent_after_five_uses(
    slack: FakeSlack, room: Channel
) -> None:
    url = slack.slash_command_payload(text="status", user_id=ANN, channel_id=room.id)[
        "response_url"
    ]
    async with httpx.AsyncClient() as http:
        answers = [
            (await http.post(url, json={"text": f"reply {n}"})).status_code for n in range(6)
        ]
        await http.post(url.replace("/R", "/X"), json={"text": "unknown"})
    assert answers == [200] * 5 + [404]
    assert [e.text for e in slack.ephemerals[room.id]] == [f"reply {n}" for n in range(5)]
    assert [r.body["text"] for r in slack.responses] == [f"reply {n}" for n in range(5)]
