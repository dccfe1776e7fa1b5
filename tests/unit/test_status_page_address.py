"""Which status page a war room bookmarks: the one customers read."""

from __future__ import annotations

import json
from pathlib import Path

from incident_response.bootstrap import build, status_page_address
from incident_response.config import load_settings
from tests.support.payloads import oncall_payload


class HostedPage:
    async def public_url(self) -> str | None:
        return "https://status.acme.test"


def test_the_built_in_page_when_it_publishes() -> None:
    assert status_page_address(None, builtin_url="http://t/status") == "http://t/status"


async def test_a_hosted_page_is_asked_for_its_own_address() -> None:
    found = status_page_address(HostedPage(), builtin_url="http://t/status")  # type: ignore[arg-type]

    assert callable(found)
    assert await found() == "https://status.acme.test"


async def test_the_setting_is_what_rooms_bookmark(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
            "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32,
            "INCIDENT_RESPONSE_STATUS_PAGE_URL": "https://status.example.com",
        }
    )
    container = await build(settings, base_url="http://t")
    try:
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        await container.processor.stop()
        [incident] = await container.store.recent()
        assert incident.channel is not None
        marks = await container.console_chat.bookmarks(incident.channel.id)
    finally:
        await container.aclose()

    assert {b.title: b.url for b in marks}["Status page"] == "https://status.example.com"
