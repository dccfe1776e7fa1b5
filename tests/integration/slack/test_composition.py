"""The composition root with Slack configured: `build()` wires SlackChat, the Bolt app and Socket
Mode from the settings alone, and an alert becomes a staffed Slack room driven by a slash command."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from incident_response.adapter_plan import adapter_plan
from incident_response.adapters.slack.chat import SlackChat
from incident_response.bootstrap import build
from incident_response.config import load_settings
from incident_response.domain.incident import Incident, IncidentStatus
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import PEOPLE
from tests.support.payloads import oncall_payload

T = TypeVar("T")


async def eventually(check: Callable[[], Awaitable[T | None]], within: float = 10) -> T:
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        if value := await check():
            return value
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


async def test_slack_settings_alone_put_the_war_room_in_slack(tmp_path: Path) -> None:
    async with FakeSlack(users=PEOPLE, tiers=False) as slack:
        settings = load_settings(
            {
                "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
                "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32,
                "SLACK_BOT_TOKEN": slack.bot_token,
                "SLACK_SIGNING_SECRET": "signing-secret",
                "SLACK_APP_TOKEN": slack.app_token,
                "SLACK_API_URL": slack.api_url,
            }
        )
        chat_choice = next(c for c in adapter_plan(settings) if c.port == "Chat")
        assert chat_choice.adapter == "slack"
        container = await build(settings, base_url="http://incident-response.test")
        try:
            assert isinstance(container.chat, SlackChat)
            assert "SLACK_INTERACTION" in container.events.event_types  # the adapter's handler
            assert container.slack is not None
            assert container.slack.socket_mode is not None
            await container.slack.socket_mode.start()
            container.processor.start()

            body = json.dumps(oncall_payload(group="ISLACK01")).encode()
            await container.intake.accept("grafana-oncall", body)

            async def assembled() -> Incident | None:
                found = await container.store.find_by_alert_group("grafana-oncall:ISLACK01")
                return found if found and found.status is IncidentStatus.ASSEMBLED else None

            incident = await eventually(assembled)
            assert incident.channel is not None
            channel_id = incident.channel.id
            room = slack.channels[channel_id]
            assert room.is_private
            staffed = {
                u["id"] for u in PEOPLE if u["email"] in {r.email for r in incident.responders}
            }
            assert staffed <= room.members
            assert slack.pins[channel_id]  # the checklist

            ic_user = next(u["id"] for u in PEOPLE if u["email"] == incident.ic)
            ack = await slack.send_slash_command(
                text="status", user_id=ic_user, channel_id=channel_id
            )
            assert ack.latency < 3

            async def drafted() -> bool | None:
                current = await container.store.get(incident.id)
                return bool(current and current.drafts) or None

            await eventually(drafted)
            assert not slack.violations, slack.violations
        finally:
            await (
                container.slack.socket_mode.stop()
            ) if container.slack and container.slack.socket_mode else None
            await container.processor.stop()
            await container.aclose()
