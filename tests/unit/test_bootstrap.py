"""The composition root: one place builds everything, and its overrides reach every service."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
import structlog

from incident_response.bootstrap import Overrides, build
from incident_response.config import load_settings
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.context import PublishedUpdate, PublishRequest
from incident_response.domain.incident import ChannelRef, IncidentStatus
from incident_response.domain.messages import Delivery, EventType
from incident_response.ports import Chat, EventQueue, StatusPage
from incident_response.services.status_update_gate import PublishFailed
from tests.support.clock import ManualClock
from tests.support.payloads import oncall_payload


class CountingStatusPage:
    """Wraps the real status page and counts publishes (what a test of crash recovery needs)."""

    def __init__(self, inner: StatusPage) -> None:
        self.inner = inner
        self.published: list[str] = []

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        self.published.append(request.key)
        return await self.inner.publish(request)

    async def find_published(self, key: str) -> PublishedUpdate | None:
        return await self.inner.find_published(key)


class ChannelRecorder:
    def __init__(self, inner: Chat) -> None:
        self.inner = inner
        self.created: list[str] = []

    def __getattr__(self, name: str) -> object:
        return getattr(self.inner, name)

    async def create_channel(self, *, name: str, incident_id: str) -> ChannelRef:
        self.created.append(name)
        return await self.inner.create_channel(name=name, incident_id=incident_id)


async def test_wrapped_adapters_are_the_ones_every_service_uses(tmp_path: Path) -> None:
    pages: list[CountingStatusPage] = []
    chats: list[ChannelRecorder] = []

    def wrap_page(inner: StatusPage) -> StatusPage:
        pages.append(CountingStatusPage(inner))
        return pages[-1]

    def wrap_chat(inner: Chat) -> Chat:
        chats.append(ChannelRecorder(inner))
        return chats[-1]  # type: ignore[return-value]

    settings = load_settings(
        {"INCIDENT_RESPONSE_DATA_DIR": str(tmp_path), "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32}
    )
    container = await build(
        settings,
        base_url="http://incident-response.test",
        clock=ManualClock(),
        overrides=Overrides(status_page=wrap_page, chat=wrap_chat),
    )
    try:
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        [incident] = await container.store.recent()
        assert incident.status is IncidentStatus.ASSEMBLED
        assert chats[0].created == [incident.channel.name if incident.channel else ""]

        draft = await container.gate.create_draft(incident.id, actor=incident.ic or "")
        await container.gate.approve_and_publish(
            incident.id, draft.id, version=draft.version, actor=incident.ic or ""
        )
        assert pages[0].published == [f"{draft.id}:v{draft.version}"]
    finally:
        await container.processor.stop()
        await container.aclose()


class FailingOnce:
    """A status page whose first publish fails after nothing reached it (a vendor outage)."""

    def __init__(self, inner: StatusPage) -> None:
        self.inner = inner
        self.failures_left = 1
        self.published: list[str] = []

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        if self.failures_left:
            self.failures_left -= 1
            raise ConnectionError("status page unreachable")
        self.published.append(request.key)
        return await self.inner.publish(request)

    async def find_published(self, key: str) -> PublishedUpdate | None:
        return await self.inner.find_published(key)


async def test_the_processors_upkeep_finishes_an_approval_whose_publish_failed(
    tmp_path: Path,
) -> None:
    clock = ManualClock()
    pages: list[FailingOnce] = []

    def wrap_page(inner: StatusPage) -> StatusPage:
        pages.append(FailingOnce(inner))
        return pages[-1]

    settings = load_settings(
        {"INCIDENT_RESPONSE_DATA_DIR": str(tmp_path), "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32}
    )
    container = await build(
        settings, base_url="http://t", clock=clock, overrides=Overrides(status_page=wrap_page)
    )
    try:
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        await container.processor.stop()
        [incident] = await container.store.recent()
        ic = incident.ic or ""
        draft = await container.gate.create_draft(incident.id, actor=ic)
        with pytest.raises(PublishFailed):
            await container.gate.approve_and_publish(
                incident.id, draft.id, version=draft.version, actor=ic
            )
        assert pages[0].published == []

        clock.advance(120)  # past the gate's grace for an interrupted publish
        await container.upkeep.tick()
        await container.upkeep.tick()  # a second tick soon after changes nothing

        assert pages[0].published == [f"{draft.id}:v{draft.version}"]
        current = await container.store.get(incident.id)
        assert current is not None
        assert current.drafts[-1].status.value == "published"
    finally:
        await container.aclose()


async def test_serve_keeps_its_audit_key_and_warns_when_the_log_was_sealed_with_another(
    tmp_path: Path,
) -> None:
    env = {
        "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
        "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 20,
    }
    first = await build(load_settings(env), base_url="http://test")
    try:
        await first.audit.append(
            AuditEvent(
                incident_id="inc-1",
                type=AuditEventType.INCIDENT_OPENED,
                key="opened",
                at=first.clock.now(),
            )
        )
    finally:
        await first.aclose()
    key_file = (tmp_path / "audit-key").read_text()

    with structlog.testing.capture_logs() as same_key:
        again = await build(load_settings(env), base_url="http://test")
        await again.aclose()
    with structlog.testing.capture_logs() as other_key:
        other = await build(
            load_settings({**env, "INCIDENT_RESPONSE_AUDIT_KEY": "x" * 32}), base_url="http://test"
        )
        await other.aclose()

    assert (tmp_path / "audit-key").read_text() == key_file
    assert "audit.key_mismatch" not in [e["event"] for e in same_key]
    warned = [e for e in other_key if e["event"] == "audit.key_mismatch"]
    assert len(warned) == 1
    assert "x" * 32 not in str(warned)
    assert key_file.strip() not in str(warned)


async def test_without_slack_no_slack_event_is_handled(tmp_path: Path) -> None:
    """The Slack interaction handler is the Slack adapter's, registered only with Slack."""
    env = {
        "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
        "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 20,
    }
    container = await build(load_settings(env), base_url="http://test")
    try:
        assert container.slack is None
        assert "SLACK_INTERACTION" not in container.events.event_types
        assert "ALERT_RECEIVED" in container.events.event_types
    finally:
        await container.aclose()


class Recorder:
    """Wraps any adapter and records which of its methods were called."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.inner, name)
        if not callable(attr):
            return attr

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return attr(*args, **kwargs)

        return call


async def test_every_storage_port_can_be_replaced_through_overrides(tmp_path: Path) -> None:
    """Another backend (DynamoDB, SQS, EventBridge, Secrets Manager) plugs in at the same seam
    as a vendor adapter: what the override returns is what every service and the processor use."""
    wrapped: dict[str, Recorder] = {}

    def wrap(port: str) -> Any:
        def wrapper(inner: object) -> Any:
            wrapped[port] = Recorder(inner)
            return wrapped[port]

        return wrapper

    ports = ("store", "audit", "queue", "scheduler", "secrets", "credentials")
    settings = load_settings(
        {"INCIDENT_RESPONSE_DATA_DIR": str(tmp_path), "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32}
    )
    container = await build(
        settings,
        base_url="http://t",
        clock=ManualClock(),
        overrides=Overrides(**{port: wrap(port) for port in ports}),
    )
    try:
        await container.verifier.verify({"authorization": "Bearer " + "s" * 32}, b"{}")
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        await container.credentials.generations("alice@example.com")

        assert {port: getattr(container, port) for port in ports} == wrapped
        assert "create" in wrapped["store"].calls
        assert "append" in wrapped["audit"].calls
        assert {"send", "receive", "ack"} <= set(wrapped["queue"].calls)
        assert "put" in wrapped["scheduler"].calls
        assert "get" in wrapped["secrets"].calls
        assert "generations" in wrapped["credentials"].calls
    finally:
        await container.processor.stop()
        await container.aclose()


async def test_a_due_reminder_reaches_the_queue_with_no_processor_running(tmp_path: Path) -> None:
    """The scheduler is push-based (EventBridge's way): nobody polls it for due timers."""
    clock = ManualClock()
    settings = load_settings(
        {"INCIDENT_RESPONSE_DATA_DIR": str(tmp_path), "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32}
    )
    container = await build(settings, base_url="http://t", clock=clock)
    try:
        await container.intake.accept("grafana-oncall", json.dumps(oncall_payload()).encode())
        container.processor.start()
        await container.processor.drain(within_seconds=10)
        await container.processor.stop()
        [incident] = await container.store.recent()

        clock.advance(settings.incident_response_nudge_interval_seconds + 1)
        got = await asyncio.wait_for(nudge_for(container.queue), timeout=10)

        assert (got.body.payload, got.group_id) == ({"incident_id": incident.id}, incident.id)
    finally:
        await container.aclose()


async def nudge_for(queue: EventQueue) -> Delivery:
    while True:
        for delivery in await queue.receive(wait_seconds=0.1):
            await queue.ack(delivery)
            if delivery.body.type == EventType.STATUS_UPDATE_NUDGE:
                return delivery
