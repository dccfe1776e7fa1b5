"""Alert text is untrusted: whatever markup an alert's title, labels or annotations carry reaches
Slack as text (no @channel, no ping, no disguised link), in the room's blocks and in the
notification text, while the mentions the service makes itself still notify people."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapters.slack import RateTable
from incident_response.domain.incident import Incident, IncidentStatus
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import PEOPLE, TIME_SCALE
from tests.integration.slack.test_lifecycle_through_slack import ROSTER, eventually
from tests.integration.slack.world import SlackWorld, build_slack_world
from tests.support.payloads import oncall_payload

HOSTILE = "<!channel> <!here> <!everyone> <@U0CAROL> <https://evil.example/login|Runbook>"


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(users=PEOPLE, time_scale=TIME_SCALE) as fake:
        yield fake
    assert not fake.violations, fake.violations


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    (tmp_path / "roster.yaml").write_text(ROSTER)
    built = await build_slack_world(
        slack=slack, data_dir=tmp_path, rates=RateTable().scaled(TIME_SCALE)
    )
    built.processor.start()
    yield built
    await built.aclose()


async def test_markup_in_an_alert_reaches_the_room_as_text(
    world: SlackWorld, slack: FakeSlack
) -> None:
    body = oncall_payload(
        group="IHOSTILE1",
        title=f"Checkout down {HOSTILE}",
        labels={"alertname": "HighErrorRate", "service": "checkout", "team": HOSTILE},
    )
    body["alert_payload"]["annotations"] = {"summary": HOSTILE, "description": HOSTILE}
    await world.intake.accept("grafana-oncall", json.dumps(body).encode())

    async def assembled() -> Incident | None:
        found = await world.store.recent(statuses=[IncidentStatus.ASSEMBLED])
        return found[0] if found else None

    incident = await eventually(assembled)
    assert incident.channel is not None
    posted = slack.calls_to("chat.postMessage")
    assert posted
    sent: list[str] = []
    for call in posted:
        sent.append(str(call.params.get("text", "")))
        blocks = call.params.get("blocks") or []
        if isinstance(blocks, str):
            blocks = json.loads(blocks)
        sent.extend(str(b.get("text", {}).get("text", "")) for b in blocks if b.get("text"))
    hostile = [text for text in sent if "evil.example" in text or "channel" in text]
    assert hostile, "the alert's text should be in the room"
    for text in hostile:
        assert "<!" not in text, text[:300]  # no @channel, @here, @everyone
        assert "<https://evil" not in text, text[:300]  # no disguised link
        assert "<@U0CAROL>" not in text, text[:300]  # nobody pinged by an alert
    assert any("&lt;!channel&gt;" in text for text in hostile)
