"""The IncidentBackend over the REST API of a running service: what `incident-response mcp
--target URL` (stdio) uses, so an agent on a laptop works against the deployed service.

Calls go through the one outbound HTTP policy (timeouts, retries where safe, a breaker) with the
personal token as the bearer; the service decides everything, exactly as for any API client.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

from incident_response.http import CallPolicy, OutboundHttp, VendorClient, VendorError
from incident_response.mcp_server.backend import ToolRefused
from incident_response.web.api import OPEN_STATUSES

SERVICE = "incident-response"
# drafting may wait on the service's language model
POLICY = CallPolicy(timeout=60.0, attempts=3, backoff_max=2.0)


class TokenNotAccepted(ToolRefused):
    """The service answered 401: the token is invalid, expired, rotated or revoked."""


def api_client(http: OutboundHttp, *, target: str, token: str) -> VendorClient:
    return http.vendor(
        SERVICE,
        base_url=target.rstrip("/"),
        headers={"Authorization": f"Bearer {token}", "Incident-Response-Via": "mcp"},
        policy=POLICY,
    )


def _incident_path(incident_id: str) -> str:
    return f"/api/incidents/{quote(incident_id, safe='')}"


def explain(exc: VendorError, target: str) -> str:
    """The service's own words for a refusal; where the service could not be reached, say so."""
    said = exc.reason
    try:
        doc = json.loads(exc.body) if exc.body else None
    except ValueError:
        doc = None
    if isinstance(doc, dict) and isinstance(doc.get("error"), str):
        said = doc["error"]
    if exc.status == 401:
        return f"{target} refused the token: {said}"
    if exc.status == 0 or exc.status >= 500:
        return f"the incident-response service at {target} did not answer: {exc.reason}"
    return said


class ApiBackend:
    def __init__(self, client: VendorClient, *, target: str) -> None:
        self._client = client
        self._target = target

    async def _call(
        self, method: str, path: str, *, body: Any = None, params: dict[str, Any] | None = None
    ) -> Any:
        try:
            response = await self._client.request(method, path, json=body, params=params)
        except VendorError as exc:
            refusal = TokenNotAccepted if exc.status == 401 else ToolRefused
            raise refusal(explain(exc, self._target)) from None
        try:
            return response.json()
        except ValueError:
            raise ToolRefused(
                f"{self._target} answered {method} {path} with something other than JSON: "
                "is --target the incident-response service?"
            ) from None

    async def open_incidents(self, *, limit: int) -> list[dict[str, Any]]:
        params = {"status": [s.value for s in OPEN_STATUSES], "limit": limit}
        listed: list[dict[str, Any]] = (await self._call("GET", "/api/incidents", params=params))[
            "incidents"
        ]
        return listed

    async def incident(self, incident_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self._call("GET", _incident_path(incident_id))
        return found

    async def timeline(self, incident_id: str) -> list[dict[str, Any]]:
        timeline: list[dict[str, Any]] = (await self.incident(incident_id))["timeline"]
        return timeline

    async def draft_status_update(self, incident_id: str, *, body: str | None) -> dict[str, Any]:
        path = _incident_path(incident_id)
        draft: dict[str, Any] = await self._call("POST", f"{path}/drafts")
        if body is not None:
            draft = await self._call(
                "POST",
                f"{path}/drafts/{quote(str(draft['id']), safe='')}/edit",
                body={"body": body, "version": draft["version"]},
            )
        return draft

    async def draft_postmortem(self, incident_id: str) -> dict[str, Any]:
        drafted: dict[str, Any] = await self._call(
            "GET", f"{_incident_path(incident_id)}/postmortem-draft"
        )
        return drafted
