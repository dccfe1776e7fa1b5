"""Hostile deliveries: whatever arrives at either webhook, the answer is 2xx or 4xx, never 5xx,
and a refused delivery stores and enqueues nothing."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.secrets import EnvSecrets
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.intake.auth import WEBHOOK_SECRET, WebhookVerifier
from incident_response.intake.service import AlertIntake
from incident_response.web.webhooks import webhook_router
from tests.support.clock import ManualClock
from tests.unit.intake.examples import alertmanager_body, encode, oncall_body

SECRET = "hostile-secret-0123456789abcdef"
ROUTES = ("/webhooks/grafana-oncall", "/webhooks/alertmanager")
AUTH = {"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"}


class Intake:
    def __init__(self, client: httpx.AsyncClient, db: Database) -> None:
        self.client = client
        self.db = db

    async def post(
        self, path: str, body: bytes, headers: Mapping[str, str | bytes] | None = None
    ) -> httpx.Response:
        return await self.client.post(
            path, content=body, headers=AUTH if headers is None else headers
        )

    async def stored(self) -> int:
        row = await self.db.fetchone(
            "SELECT (SELECT COUNT(*) FROM alert_deliveries) + (SELECT COUNT(*) FROM queue_messages) AS n"
        )
        return int(row["n"]) if row is not None else 0


@pytest.fixture
async def intake(db: Database, clock: ManualClock) -> AsyncIterator[Intake]:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    queue = await SqliteEventQueue(db=db, clock=clock).open()
    app = FastAPI()
    app.include_router(
        webhook_router(
            AlertIntake(store=store, queue=queue, clock=clock),
            WebhookVerifier(secrets=EnvSecrets({WEBHOOK_SECRET: SECRET}), clock=clock),
            max_body_bytes=256 * 1024,
        )
    )
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://intake.test") as client:
        yield Intake(client, db)


def wire(text: str) -> bytes:
    """A header value's bytes: one byte per character where Latin-1 has it (servers decode
    header bytes as Latin-1, so `\xb2` arrives as `²`, which `str.isdigit` accepts), else UTF-8."""
    try:
        return text.encode("latin-1")
    except UnicodeEncodeError:
        return text.encode()


def nested(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


def with_value(path: str, value: Any) -> bytes:
    body: dict[str, Any] = oncall_body() if "oncall" in path else alertmanager_body()
    body["alert_group_id" if "oncall" in path else "groupKey"] = value
    return json.dumps(body).encode()


HOSTILE_BODIES = {
    "400 levels of nesting": nested(400),
    "5000 levels of nesting": nested(5000),
    "a 6000-digit integer": b'{"alert_group_id": ' + b"9" * 6000 + b"}",
    "a 6000-digit integer where a label goes": encode(oncall_body()).replace(
        b'"priority": "2"', b'"priority": ' + b"7" * 6000, 1
    ),
    "a lone surrogate in a string": encode(oncall_body()).replace(
        b"Ledger write latency", b"Ledger \\ud800 latency"
    ),
    "a lone surrogate in a key": encode(oncall_body()).replace(b'"priority"', b'"\\udc00"', 1),
    "NaN": b'{"alert_group_id": NaN}',
    "a number too large for a float": b'{"alert_group_id": 1e999999}',
}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("name", sorted(HOSTILE_BODIES))
async def test_a_hostile_body_gets_4xx_and_stores_nothing(
    intake: Intake, route: str, name: str
) -> None:
    response = await intake.post(route, HOSTILE_BODIES[name])

    assert 400 <= response.status_code < 500, (name, response.status_code, response.text)
    assert "error" in response.json()
    assert await intake.stored() == 0


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "timestamp",
    ["\u00b2", "\u0663\u0664", "1" * 5000, "-5", "1e9", " ", "\u00b9\u2070\u2070"],
)
async def test_an_odd_signature_timestamp_gets_401_never_500(
    intake: Intake, route: str, timestamp: str
) -> None:
    headers = {
        "Content-Type": "application/json",
        "X-Incident-Response-Timestamp": wire(timestamp),
        "X-Incident-Response-Signature": "sha256=00",
    }
    response = await intake.post(route, encode(oncall_body()), headers)

    assert response.status_code == 401
    assert await intake.stored() == 0


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("length", ["\u00b2", "1" * 400, "-1", "12 34"])
async def test_an_odd_content_length_gets_4xx_never_500(
    intake: Intake, route: str, length: str
) -> None:
    scope_headers = [
        (b"authorization", f"Bearer {SECRET}".encode()),
        (b"content-type", b"application/json"),
        (b"content-length", wire(length)),
    ]
    app = intake.client._transport.app  # type: ignore[attr-defined]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"{}", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": scope_headers,
        "client": ("127.0.0.1", 1),
        "server": ("intake.test", 80),
    }
    await app(scope, receive, send)

    start = next(m for m in sent if m["type"] == "http.response.start")
    assert 400 <= start["status"] < 500
    assert await intake.stored() == 0


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    route=st.sampled_from(ROUTES),
    body=st.one_of(
        st.binary(max_size=400),
        json_values.map(lambda v: json.dumps(v).encode()),
        st.sampled_from(["alert_group", "event", "alerts", "labels", "status"]).flatmap(
            lambda key: json_values.map(
                lambda v: (
                    encode({**oncall_body(), key: v})
                    if key != "alerts"
                    else encode({**alertmanager_body(), key: v})
                )
            )
        ),
    ),
    headers=st.dictionaries(
        st.sampled_from(
            [
                "authorization",
                "x-incident-response-timestamp",
                "x-incident-response-signature",
                "content-type",
            ]
        ),
        st.text(st.characters(min_codepoint=32, max_codepoint=255), max_size=40),
        max_size=4,
    ),
    authorised=st.booleans(),
)
async def test_fuzzed_deliveries_never_get_5xx(
    intake: Intake, route: str, body: bytes, headers: dict[str, str], authorised: bool
) -> None:
    sent = {**headers, **(AUTH if authorised else {})}
    before = await intake.stored()

    response = await intake.post(route, body, {k: v.encode("latin-1") for k, v in sent.items()})

    assert response.status_code < 500, (response.status_code, response.text)
    if response.status_code >= 400:
        assert await intake.stored() == before
