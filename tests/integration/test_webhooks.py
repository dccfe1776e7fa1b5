"""The webhook routes over HTTP (in-process ASGI), on the real embedded store and queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.secrets import EnvSecrets
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.alert import DEFAULT_SEVERITY_MAP
from incident_response.intake import alertmanager, grafana_oncall
from incident_response.intake.auth import WEBHOOK_SECRET, WebhookVerifier, sign
from incident_response.intake.service import AlertIntake
from incident_response.web.webhooks import webhook_router
from tests.support.clock import ManualClock
from tests.unit.intake.examples import (
    ONCALL_EVENT_TYPES,
    alertmanager_body,
    encode,
    oncall_body,
    oncall_example,
)

SECRET = "integration-secret-0123456789"
ONCALL = "/webhooks/grafana-oncall"
ALERTMANAGER = "/webhooks/alertmanager"
LIMIT = 64 * 1024
AUTH = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}


class Service:
    def __init__(
        self,
        client: httpx.AsyncClient,
        store: SqliteIncidentStore,
        queue: SqliteEventQueue,
        clock: ManualClock,
    ) -> None:
        self.client = client
        self.store = store
        self.queue = queue
        self.clock = clock

    async def post(
        self, path: str, body: dict[str, Any] | bytes, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        content = body if isinstance(body, bytes) else encode(body)
        return await self.client.post(
            path, content=content, headers=AUTH if headers is None else headers
        )

    async def never_recorded(self, body: bytes, path: str = ONCALL) -> bool:
        """True when the delivery in `body` was not stored (recording it now is the first time)."""
        parser = grafana_oncall.parse if path == ONCALL else alertmanager.parse
        [alert] = parser(body, received_at=self.clock.now(), severity_map=DEFAULT_SEVERITY_MAP)
        return await self.store.record_alert(alert)


BUSY_BUDGET = 0.3


@pytest.fixture
async def service(db: Database, clock: ManualClock) -> AsyncIterator[Service]:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    intake = AlertIntake(store=store, queue=queue, clock=clock, busy_budget_seconds=BUSY_BUDGET)
    verifier = WebhookVerifier(secrets=EnvSecrets({WEBHOOK_SECRET: SECRET}), clock=clock)
    app = FastAPI()
    app.include_router(webhook_router(intake, verifier, max_body_bytes=LIMIT))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield Service(client, store, queue, clock)


async def test_the_resolve_fixture_is_accepted(service: Service) -> None:
    response = await service.post(ONCALL, oncall_example())

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0}
    assert await service.queue.depth() == 1  # a resolve: ALERT_RESOLVED


@pytest.mark.parametrize("event_type", ONCALL_EVENT_TYPES)
async def test_every_oncall_event_type_is_accepted(service: Service, event_type: str) -> None:
    response = await service.post(ONCALL, oncall_body(event_type))

    assert response.status_code == 202
    assert response.json() == {"accepted": 1, "duplicates": 0}


async def test_the_same_delivery_twice_is_one_record_and_one_message(service: Service) -> None:
    body = oncall_body()

    first = await service.post(ONCALL, body)
    second = await service.post(ONCALL, body)

    assert first.json() == {"accepted": 1, "duplicates": 0}
    assert second.status_code == 202
    assert second.json() == {"accepted": 0, "duplicates": 1}
    assert await service.queue.depth() == 1
    assert not await service.never_recorded(encode(body))


async def test_ten_concurrent_identical_posts_make_one_queue_message(service: Service) -> None:
    body = encode(oncall_body(group="IFOUND01"))

    responses = await asyncio.gather(*(service.post(ONCALL, body) for _ in range(10)))

    assert [r.status_code for r in responses] == [202] * 10
    assert sum(r.json()["accepted"] for r in responses) == 1
    assert await service.queue.depth() == 1


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {SECRET}x"},
        {"Authorization": f"Basic {SECRET}"},
    ],
    ids=["missing", "wrong", "longer", "basic"],
)
async def test_bad_credentials_get_401_and_change_nothing(
    service: Service, headers: dict[str, str]
) -> None:
    body = encode(oncall_body())

    response = await service.post(ONCALL, body, headers)

    assert response.status_code == 401
    assert "error" in response.json()
    assert response.headers["www-authenticate"] == "Bearer"
    assert await service.queue.depth() == 0
    assert await service.never_recorded(body)


async def test_credentials_are_checked_before_the_body_is_parsed(service: Service) -> None:
    response = await service.post(ONCALL, b"{not json", {"Authorization": "Bearer wrong"})

    assert response.status_code == 401


async def test_a_truncated_body_gets_422_naming_the_problem(service: Service) -> None:
    whole = encode(oncall_body())
    body = whole[: whole.rindex(b",") + 1]  # cut off after a member: the JSON ends too soon

    response = await service.post(ONCALL, body)

    assert response.status_code == 422
    assert response.json()["error"].startswith(f"body: invalid JSON at char {len(body)}")
    assert await service.queue.depth() == 0


async def test_a_missing_field_gets_422_naming_the_field(service: Service) -> None:
    body = oncall_body()
    del body["alert_group"]["id"]

    response = await service.post(ONCALL, body)

    assert response.status_code == 422
    assert response.json() == {"error": "alert_group.id: field required"}
    assert await service.queue.depth() == 0
    assert await service.store.recent() == []


async def test_a_fresh_signature_is_accepted(service: Service) -> None:
    body = encode(oncall_body())
    now = int(service.clock.now().timestamp())
    headers = {
        "X-Incident-Response-Timestamp": str(now),
        "X-Incident-Response-Signature": sign(SECRET, now, body),
    }

    response = await service.post(ONCALL, body, headers)

    assert response.status_code == 202


@pytest.mark.parametrize(
    ("offset", "secret"),
    [(-360, SECRET), (360, SECRET), (0, "wrong")],
    ids=["stale", "future", "wrong"],
)
async def test_a_bad_signature_gets_401_and_changes_nothing(
    service: Service, offset: int, secret: str
) -> None:
    body = encode(oncall_body())
    at = int(service.clock.now().timestamp()) + offset
    headers = {
        "X-Incident-Response-Timestamp": str(at),
        "X-Incident-Response-Signature": sign(secret, at, body),
    }

    response = await service.post(ONCALL, body, headers)

    assert response.status_code == 401
    assert await service.never_recorded(body)


async def test_a_declared_oversized_body_gets_413_and_changes_nothing(service: Service) -> None:
    body = oncall_body()
    body["padding"] = "x" * LIMIT
    raw = encode(body)

    response = await service.post(ONCALL, raw)

    assert response.status_code == 413
    assert "error" in response.json()
    assert await service.queue.depth() == 0
    assert await service.never_recorded(raw)


async def test_an_oversized_body_without_a_length_gets_413(service: Service) -> None:
    body = oncall_body()
    body["padding"] = "x" * LIMIT
    raw = encode(body)

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(raw), 4096):
            yield raw[start : start + 4096]

    response = await service.client.post(ONCALL, content=chunks(), headers=AUTH)

    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert await service.never_recorded(raw)


async def test_a_body_just_under_the_limit_is_accepted(service: Service) -> None:
    body = oncall_body()
    body["padding"] = ""
    body["padding"] = "x" * (LIMIT - len(encode(body)))
    raw = encode(body)
    assert len(raw) == LIMIT

    response = await service.post(ONCALL, raw)

    assert response.status_code == 202


async def test_alertmanager_notifications_are_accepted(service: Service) -> None:
    firing = await service.post(ALERTMANAGER, alertmanager_body("firing"))
    repeat = await service.post(ALERTMANAGER, alertmanager_body("firing"))
    resolved = await service.post(ALERTMANAGER, alertmanager_body("resolved"))

    assert [r.status_code for r in (firing, repeat, resolved)] == [202, 202, 202]
    assert repeat.json() == {"accepted": 0, "duplicates": 1}
    assert await service.queue.depth() == 2


async def test_an_alertmanager_body_of_another_version_gets_422(service: Service) -> None:
    body = alertmanager_body()
    body["version"] = "3"

    response = await service.post(ALERTMANAGER, body)

    assert response.status_code == 422
    assert response.json() == {"error": 'version: must be "4", got "3"'}


async def test_an_alertmanager_body_needs_credentials_too(service: Service) -> None:
    response = await service.post(ALERTMANAGER, alertmanager_body(), {})

    assert response.status_code == 401


async def test_the_routes_are_in_the_openapi_document(db: Database, clock: ManualClock) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    app = FastAPI()
    app.include_router(
        webhook_router(
            AlertIntake(store=store, queue=queue, clock=clock),
            WebhookVerifier(secrets=EnvSecrets({}), clock=clock),
        )
    )

    paths = app.openapi()["paths"]

    assert set(paths) >= {ONCALL, ALERTMANAGER}
    assert {"202", "401", "413", "422"} <= set(paths[ONCALL]["post"]["responses"])


async def test_storage_locked_by_another_process_past_the_budget_gets_503_and_stores_nothing(
    service: Service, db: Database
) -> None:
    body = encode(oncall_body("alert group created", group="IBUSY001"))
    other_process = await Database(db.path).open()
    try:
        await other_process.conn.execute("BEGIN IMMEDIATE")  # holds the write lock
        busy = await service.post(ONCALL, body)
        await other_process.conn.execute("ROLLBACK")
    finally:
        await other_process.close()

    assert busy.status_code == 503
    assert busy.headers["Retry-After"].isdigit()
    assert "again" in busy.json()["error"]
    again = await service.post(ONCALL, body)
    assert again.status_code == 202
    assert again.json() == {"accepted": 1, "duplicates": 0}  # the 503 stored nothing
    assert await service.queue.depth() == 1
