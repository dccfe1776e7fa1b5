"""A real Container on a temp data dir, its HTTP app in-process, and browsers that sign in.

Alerts go through the real intake and event handlers; the queue is drained by hand, so the
tests decide when an alert becomes a war room and nothing runs in the background.
"""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import APIRouter, FastAPI

from incident_response import tokens
from incident_response.bootstrap import Container, build
from incident_response.config import Settings
from incident_response.domain.alert import AlertSource, alert_group_key
from incident_response.domain.incident import Incident
from incident_response.server import routers_for
from incident_response.web.app import create_app
from tests.support.clock import ManualClock
from tests.support.payloads import oncall_payload

BASE = "http://console.test"
CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found is not None, "the page has no form with a CSRF token"
    return found.group(1)


class Browser:
    """One person's cookie jar on the app."""

    def __init__(self, client: httpx.AsyncClient, world: ConsoleWorld) -> None:
        self.client = client
        self.world = world

    async def get(self, path: str, **kwargs: Any) -> httpx.Response:
        return await self.client.get(path, **kwargs)

    async def sign_in(self, email: str) -> httpx.Response:
        page = await self.client.get("/console/sign-in")
        return await self.client.post(
            "/console/sign-in",
            data={"csrf": csrf_of(page.text), "token": self.world.token(email), "next": "/console"},
        )

    async def submit(
        self, page_path: str, action: str, data: dict[str, str], *, fetch: bool = False
    ) -> httpx.Response:
        """Post a form the way the page does: with the CSRF token the page carries."""
        page = await self.client.get(page_path)
        headers = {"X-Console-Fetch": "1"} if fetch else {}
        return await self.client.post(
            action, data={"csrf": csrf_of(page.text), **data}, headers=headers
        )


class ConsoleWorld:
    def __init__(self, container: Container, clock: ManualClock, routers: list[APIRouter]) -> None:
        self.container = container
        self.clock = clock
        self.app = create_app(routers=routers)
        self._clients: list[httpx.AsyncClient] = []
        self._alerts = 0

    def token(self, email: str) -> str:
        return tokens.issue(email, self.container.token_key, issued_at=self.clock.now())

    def browser(self, app: FastAPI | None = None) -> Browser:
        """A new cookie jar, on the app `serve` mounts unless another is given."""
        client = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app or self.app), base_url=self.container.base_url
        )
        self._clients.append(client)
        return Browser(client, self)

    async def signed_in(self, email: str, app: FastAPI | None = None) -> Browser:
        browser = self.browser(app)
        response = await browser.sign_in(email)
        assert response.status_code == 303, response.text
        return browser

    async def alert(
        self,
        *,
        title: str = "HighErrorRate checkout",
        service: str = "checkout",
        labels: dict[str, str] | None = None,
    ) -> Incident:
        """A Grafana OnCall alert through intake, processed into an assembled war room."""
        self._alerts += 1
        group = f"ICONSOLE{self._alerts:04d}"
        body = oncall_payload(
            group=group,
            title=title,
            labels={
                "alertname": title.split()[0],
                "service": service,
                "severity": "critical",
                **(labels or {}),
            },
            at=self.clock.now(),
        )
        source = AlertSource.GRAFANA_ONCALL
        await self.container.intake.accept(source.value, json.dumps(body).encode())
        await self.process()
        incident = await self.container.store.find_by_alert_group(alert_group_key(source, group))
        assert incident is not None, "the alert opened no incident"
        return incident

    async def alert_resolved(self, incident: Incident) -> None:
        """The alert source says the problem is gone (OnCall's `resolve` event)."""
        body = oncall_payload(
            "resolve", group=incident.alert_group_id, title=incident.title, at=self.clock.now()
        )
        await self.container.intake.accept(
            AlertSource.GRAFANA_ONCALL.value, json.dumps(body).encode()
        )
        await self.process()

    async def process(self) -> None:
        """Handle every queued event, as the processor would."""
        queue = self.container.queue
        for _ in range(100):
            deliveries = await queue.receive(max_messages=10)
            if not deliveries:
                return
            for delivery in deliveries:
                await self.container.events.dispatch(delivery.body)
                await queue.ack(delivery)
        raise AssertionError("the queue did not drain")

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()
        await self.container.aclose()


@asynccontextmanager
async def console_world(
    data_dir: Path,
    clock: ManualClock,
    *,
    approvers: str = "",
    base_url: str = BASE,
    components: str = "",
    **more: Any,
) -> AsyncIterator[ConsoleWorld]:
    """`more` are further settings by field name (`incident_response_status_page_name=...`)."""
    settings = Settings(
        incident_response_data_dir=data_dir,
        incident_response_approvers=approvers,
        incident_response_base_url=base_url,
        incident_response_status_page_components=components,
        **more,
    )
    container = await build(settings, base_url=base_url, clock=clock)
    world = ConsoleWorld(container, clock, routers_for(container, "all"))
    try:
        yield world
    finally:
        await world.aclose()
