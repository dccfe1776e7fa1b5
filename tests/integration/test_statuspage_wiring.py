"""With its settings present the service publishes to Statuspage: the composition root builds
the adapter from the integrations registry and the gate's approvals reach the (fake) page."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.adapter_plan import adapter_plan
from incident_response.adapters.statuspage.statuspage_io import StatuspageIo
from incident_response.bootstrap import build
from incident_response.config import load_settings
from tests.fakes.statuspage import FakeStatuspage
from tests.support.payloads import oncall_payload
from tests.support.statuspage import statuspage_settings


@pytest.fixture
async def fake() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as server:
        server.rate_limited_at()
        yield server
        assert server.violations == []


async def test_an_approved_update_reaches_statuspage_through_the_service(
    tmp_path: Path, fake: FakeStatuspage
) -> None:
    env = {
        "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
        "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32,
        **statuspage_settings(fake),
    }
    settings = load_settings(env)
    plan = {c.port: c.adapter for c in adapter_plan(settings)}
    assert plan["StatusPage"] == "statuspage"
    container = await build(settings, base_url="http://t")
    try:
        assert isinstance(container.production["statuspage"].status_page, StatuspageIo)
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        await container.processor.stop()
        [incident] = await container.store.recent()
        ic = incident.ic or ""
        draft = await container.gate.create_draft(incident.id, actor=ic)
        outcome = await container.gate.approve_and_publish(
            incident.id, draft.id, version=draft.version, actor=ic
        )
    finally:
        await container.aclose()
    [page_incident] = fake.incidents.values()
    assert outcome.published_now
    assert fake.bodies(page_incident["id"]) == [draft.body]
    assert page_incident["name"] == draft.title
    assert [c["name"] for c in page_incident["components"]] == list(draft.component_names)
    assert outcome.status_page is not None
    assert outcome.status_page.url == page_incident["shortlink"]


async def test_war_rooms_bookmark_the_statuspage_customers_read_not_the_built_in_page(
    tmp_path: Path, fake: FakeStatuspage
) -> None:
    env = {
        "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
        "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32,
        **statuspage_settings(fake),
    }
    container = await build(load_settings(env), base_url="http://t")
    try:
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        await container.processor.stop()
        await container.assembler.settle(grace_seconds=10)
        [incident] = await container.store.recent()
        assert incident.channel is not None
        bookmarks = await container.console_chat.bookmarks(incident.channel.id)
    finally:
        await container.aclose()
    links = {b.title: b.url for b in bookmarks}
    assert links["Status page"] == "https://status.acme.test"
    assert container.status_page.url not in links.values()
