"""Webhook subscribers of the status page: an approver subscribes a URL; every published update
is POSTed to it signed, retried with backoff through the queue, given up after N tries (and
recorded); unsubscribing stops it; addresses this service must not call are refused."""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web

from incident_response.domain.incident import Incident
from incident_response.domain.subscriptions import MAX_SUBSCRIPTIONS_PER_HOUR, DeliveryState
from incident_response.services.status_update_gate import PublishFailed, StatusUpdateGate
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world

APPROVER = "dan@example.com"
TEXT = "Checkout: we are investigating elevated errors."
SUBSCRIPTIONS = "/api/status/subscriptions"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A real HTTP server on the loopback: records each POST, answers `fail_next` 500s first."""

    received: list[Received] = field(default_factory=list)
    fail_next: int = 0
    url: str = ""

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append(Received(dict(request.headers), await request.read()))
        if self.fail_next > 0:
            self.fail_next -= 1
            return web.Response(status=500, text="receiver down")
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    found = Receiver()
    app = web.Application()
    app.router.add_post("/hooks/status", found.handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    found.url = f"http://127.0.0.1:{port}/hooks/status"
    try:
        yield found
    finally:
        await runner.cleanup()


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(
        tmp_path,
        clock,
        approvers=APPROVER,
        components="checkout=Checkout",
        incident_response_status_page_name="Acme Status",
        incident_response_status_webhook_allow_private=True,  # the receiver is on loopback
        incident_response_status_webhook_max_tries=3,
    ) as world:
        yield world


def bearer(world: ConsoleWorld, email: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {world.token(email)}"}


async def subscribe(world: ConsoleWorld, url: str, email: str = APPROVER) -> Any:
    return await world.browser().client.post(
        SUBSCRIPTIONS, json={"url": url}, headers=bearer(world, email)
    )


async def publish(world: ConsoleWorld, incident: Incident, body: str = TEXT) -> str:
    gate, ic = world.container.gate, incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=ic)
    draft = await gate.edit(
        incident.id,
        draft.id,
        body=body,
        component_statuses={"Checkout": "degraded_performance"},
        actor=ic,
        expected_version=draft.version,
    )
    await gate.approve_and_publish(incident.id, draft.id, version=draft.version, actor=ic)
    return f"{draft.id}:v{draft.version}"


async def run_queue(world: ConsoleWorld) -> int:
    """Work the queue as the processor does: ack what succeeds, retry what fails with its
    exponential backoff, moving the clock past each wait. Returns how many retries there were."""
    queue, retries = world.container.queue, 0
    for _ in range(50):
        deliveries = await queue.receive(max_messages=10)
        if not deliveries:
            if await queue.depth() == 0:
                return retries
            world.clock.advance(seconds=60)
            continue
        for delivery in deliveries:
            try:
                await world.container.events.dispatch(delivery.body)
            except Exception as exc:
                retries += 1
                backoff = 2 ** (delivery.receive_count - 1)
                await queue.retry(delivery, error=str(exc), delay_seconds=backoff)
                world.clock.advance(seconds=backoff)
            else:
                await queue.ack(delivery)
    raise AssertionError("the queue did not drain")


def verified(secret: str, got: Received) -> bool:
    timestamp = got.headers["X-Incident-Response-Timestamp"]
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + got.body, hashlib.sha256)
    return hmac.compare_digest(
        got.headers["X-Incident-Response-Signature"], "sha256=" + expected.hexdigest()
    )


async def test_a_published_update_reaches_the_subscriber_signed(
    world: ConsoleWorld, receiver: Receiver
) -> None:
    made = await subscribe(world, receiver.url)
    assert made.status_code == 201, made.text
    secret = made.json()["secret"]
    listing = await world.browser().client.get(SUBSCRIPTIONS, headers=bearer(world, APPROVER))
    assert [s["url"] for s in listing.json()["subscribers"]] == [receiver.url]
    assert secret not in listing.text

    incident = await world.alert()
    key = await publish(world, incident)
    assert receiver.received == []  # nothing is sent outside the queue
    await run_queue(world)

    [got] = receiver.received
    assert verified(secret, got)
    assert not verified("another secret", got)
    assert got.headers["X-Incident-Response-Event"] == "incident.update"
    doc = json.loads(got.body)
    assert doc["page"] == {"name": "Acme Status", "url": "http://console.test/status"}
    assert doc["incident"]["incident_update"]["body"] == TEXT
    assert doc["incident"]["components"] == [{"name": "Checkout", "status": "degraded_performance"}]
    assert doc["meta"]["key"] == key
    # nothing internal: no alert title, service label or people
    assert "HighErrorRate" not in got.body.decode()
    assert (incident.ic or "") not in got.body.decode()


async def test_a_failing_receiver_is_retried_with_backoff_then_given_up_and_recorded(
    world: ConsoleWorld, receiver: Receiver
) -> None:
    subscriber = (await subscribe(world, receiver.url)).json()
    incident = await world.alert()

    receiver.fail_next = 2
    key = await publish(world, incident)
    assert await run_queue(world) == 2
    assert len(receiver.received) == 3
    assert len({r.headers["X-Incident-Response-Delivery"] for r in receiver.received}) == 1
    assert len({r.body for r in receiver.received}) == 1  # the same signed document each time
    done = await world.container.subscriptions.delivery(subscriber["id"], key)  # type: ignore[union-attr]
    assert (done.state, done.attempts) == (DeliveryState.DELIVERED, 3)

    receiver.received.clear()
    receiver.fail_next = 100
    key = await publish(world, incident, "Checkout: a fix is rolling out.")
    await run_queue(world)
    assert len(receiver.received) == 3  # INCIDENT_RESPONSE_STATUS_WEBHOOK_MAX_TRIES
    answer = await world.browser().client.get(
        f"{SUBSCRIPTIONS}/{subscriber['id']}/deliveries/{key}", headers=bearer(world, APPROVER)
    )
    assert answer.json()["state"] == "given_up"
    assert answer.json()["attempts"] == 3
    assert "HTTP 500" in answer.json()["last_error"]
    assert await world.container.queue.dead_letters() == []


async def test_unsubscribed_receivers_get_nothing_more(
    world: ConsoleWorld, receiver: Receiver
) -> None:
    subscriber = (await subscribe(world, receiver.url)).json()
    incident = await world.alert()
    gone = await world.browser().client.delete(
        f"{SUBSCRIPTIONS}/{subscriber['id']}", headers=bearer(world, APPROVER)
    )
    assert gone.status_code == 204
    await publish(world, incident)
    await run_queue(world)
    assert receiver.received == []
    again = await world.browser().client.delete(
        f"{SUBSCRIPTIONS}/{subscriber['id']}", headers=bearer(world, APPROVER)
    )
    assert again.status_code == 404


async def test_only_an_approver_manages_subscribers(
    world: ConsoleWorld, receiver: Receiver
) -> None:
    incident = await world.alert()
    refused = await subscribe(world, receiver.url, email=incident.ic or "")
    assert refused.status_code == 403
    assert "only an approver" in refused.text
    anonymous = await world.browser().client.post(SUBSCRIPTIONS, json={"url": receiver.url})
    assert anonymous.status_code == 401


REFUSED = [
    "http://127.0.0.1:8080/hook",
    "http://localhost/hook",
    "http://10.1.2.3/hook",
    "http://192.168.0.10/hook",
    "http://169.254.169.254/latest/meta-data/",
    "http://[::1]/hook",
    "http://[::ffff:127.0.0.1]/hook",
    "http://100.64.0.1/hook",
    "http://0.0.0.0/hook",
    "ftp://hooks.example.com/x",
    "file:///etc/passwd",
    "https://user:secret@hooks.example.com/x",
    "http://no-such-host.invalid/hook",
]


async def test_addresses_this_service_must_not_call_are_refused(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with console_world(tmp_path, clock, approvers=APPROVER) as world:
        for url in REFUSED:
            refused = await subscribe(world, url)
            assert refused.status_code == 422, (url, refused.text)
        listing = await world.browser().client.get(SUBSCRIPTIONS, headers=bearer(world, APPROVER))
        assert listing.json()["subscribers"] == []


async def test_one_person_may_add_only_so_many_subscribers_an_hour(
    world: ConsoleWorld, receiver: Receiver
) -> None:
    for _ in range(MAX_SUBSCRIPTIONS_PER_HOUR):
        assert (await subscribe(world, receiver.url)).status_code == 201
    refused = await subscribe(world, receiver.url)
    assert refused.status_code == 422
    assert "in the last hour" in refused.text
    world.clock.advance(minutes=61)
    assert (await subscribe(world, receiver.url)).status_code == 201


@dataclass
class FlakyListener:
    """The subscriptions' listener, failing its first call (the queue was unreachable)."""

    inner: Any
    failures: int = 1

    async def published(self, draft: Any, update: Any) -> None:
        if self.failures > 0:
            self.failures -= 1
            raise ConnectionError("queue unreachable")
        await self.inner.published(draft, update)


async def test_a_delivery_lost_with_the_queue_is_queued_again_by_the_gates_recovery(
    world: ConsoleWorld, receiver: Receiver
) -> None:
    await subscribe(world, receiver.url)
    incident = await world.alert()
    container = world.container
    gate = StatusUpdateGate(
        store=container.store,
        audit=container.audit,
        status_page=container.status_page,
        llm=container.llm,
        clock=world.clock,
        authority=container.authority,
        on_published=FlakyListener(container.subscriptions),
    )
    ic = incident.ic or ""
    draft = await gate.create_draft(incident.id, actor=ic)
    with pytest.raises(PublishFailed, match="subscribers could not be notified"):
        await gate.approve_and_publish(incident.id, draft.id, version=draft.version, actor=ic)
    await run_queue(world)
    assert receiver.received == []  # on the page, but nobody was told yet

    world.clock.advance(minutes=2)  # past the gate's recovery grace
    await gate.recover(incident.id)
    await run_queue(world)
    assert len(receiver.received) == 1
    stored = await container.store.get(incident.id)
    assert stored is not None
    assert stored.drafts[-1].status.value == "published"
    assert len((await container.status_page.incidents())["incidents"]) == 1  # posted once
