"""The drill's and the observer's view of a running deployment: its public HTTP interface only
(the webhook and the JSON API with a personal token), so they see what an operator would."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

import httpx

from incident_response.intake.auth import sign

T = TypeVar("T")


class DrillError(Exception):
    """A drill or an observation that could not go on; the message says what to do."""


def checked_base(target: str) -> str:
    parts = urlsplit(target)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise DrillError(
            f"--target must be an http(s) URL such as https://incidents.example.com, not {target!r}"
        )
    return target.rstrip("/")


@dataclass
class Deployment:
    """One running deployment, spoken to over HTTP."""

    http: httpx.AsyncClient
    base: str
    token: str

    async def check(self) -> None:
        """Fail early, and helpfully, when nothing (or something else) answers."""
        try:
            response = await self.http.get(self.base + "/healthz")
        except httpx.HTTPError as exc:
            raise DrillError(
                f"cannot reach {self.base}: {type(exc).__name__} {exc}".rstrip()
                + "; check --target and that the deployment is up"
            ) from None
        if response.status_code != 200:
            raise DrillError(
                f"{self.base} answers, but not like incident-response (GET /healthz gave HTTP "
                f"{response.status_code})"
            )

    async def fire(self, body: dict[str, Any], *, secret: str, hmac_sign: bool) -> None:
        """POST the alert as Grafana OnCall does (bearer), or HMAC-signed."""
        raw = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        if hmac_sign:
            stamp = int(time.time())
            headers["X-Incident-Response-Timestamp"] = str(stamp)
            headers["X-Incident-Response-Signature"] = sign(secret, stamp, raw)
        else:
            headers["Authorization"] = f"Bearer {secret}"
        try:
            response = await self.http.post(
                self.base + "/webhooks/grafana-oncall", content=raw, headers=headers
            )
        except httpx.HTTPError as exc:
            raise DrillError(f"sending the drill alert to {self.base} failed: {exc}") from None
        if response.status_code == 401:
            raise DrillError(
                "the deployment refused the webhook secret (HTTP 401): pass the secret its "
                "intake uses (--webhook-secret-file or INCIDENT_RESPONSE_WEBHOOK_SECRET)"
            )
        if response.status_code >= 300:
            raise DrillError(
                f"sending the drill alert: HTTP {response.status_code}: {response.text[:300]}"
            )

    async def call(self, method: str, path: str, doing: str, **kw: Any) -> Any:
        try:
            response = await self.http.request(
                method,
                self.base + path,
                headers={"Authorization": f"Bearer {self.token}"},
                **kw,
            )
        except httpx.HTTPError as exc:
            raise DrillError(f"{doing}: {self.base} stopped answering ({exc})") from None
        if response.status_code == 401:
            raise DrillError(
                f"{doing}: the deployment refused the API token (HTTP 401); issue one with "
                "`incident-response token EMAIL` on the deployment"
            )
        if response.status_code == 404:
            raise DrillError(f"{doing}: not found (HTTP 404): {response.text[:200]}")
        if response.status_code >= 400:
            raise DrillError(f"{doing}: HTTP {response.status_code}: {response.text[:300]}")
        return response.json()

    async def incident(self, incident_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.call(
            "GET", f"/api/incidents/{incident_id}", f"reading incident {incident_id}"
        )
        return found

    async def incidents(self) -> list[dict[str, Any]]:
        doc = await self.call("GET", "/api/incidents", "listing incidents")
        found: list[dict[str, Any]] = doc["incidents"]
        return found

    async def command(self, incident_id: str, text: str) -> dict[str, Any]:
        reply: dict[str, Any] = await self.call(
            "POST",
            f"/api/incidents/{incident_id}/commands",
            f"running `{text}` on {incident_id}",
            json={"text": text},
        )
        return reply

    def console_url(self, incident_id: str) -> str:
        return f"{self.base}/console/incidents/{incident_id}"


async def until(
    what: str,
    check: Callable[[], Awaitable[T | None]],
    *,
    deadline: float,
    poll: float,
) -> T:
    """Poll `check` until it answers or the monotonic `deadline` passes."""
    while True:
        found = await check()
        if found is not None:
            return found
        if time.monotonic() > deadline:
            raise DrillError(f"timed out waiting for {what}")
        await asyncio.sleep(poll)
