"""The Statuspage management API calls the adapter makes, as thin as they can be.

Every call goes through the outbound HTTP policy (`incident_response.http`): 1 request/s per key,
retries only where they are safe. Creating or updating an incident is not idempotent, so a POST
or PATCH is retried only on a rate limit (420/429, "rejected, nothing done") or a connection
that never opened; a 5xx or a timeout on one of them may have posted, and is left to the crash
marker (marker.py) to tell.
"""

from __future__ import annotations

from typing import Any

import httpx

from incident_response.http import VendorClient, VendorError

VENDOR = "statuspage"
PER_PAGE = 100  # Statuspage's maximum page size for components and incidents
MAX_COMPONENT_PAGES = 20  # 2,000 components: far beyond any status page

Json = dict[str, Any]


class StatuspageApi:
    """The page's endpoints under `/v1/pages/{page_id}`."""

    def __init__(self, client: VendorClient, *, page_id: str) -> None:
        self.client = client
        self.page_id = page_id
        self._base = f"/v1/pages/{page_id}"

    async def page(self) -> Json:
        return _object(await self._get(self._base), f"GET {self._base}")

    async def components(self) -> list[Json]:
        """Every component of the page, all pages of the listing."""
        found: list[Json] = []
        path = f"{self._base}/components"
        for number in range(1, MAX_COMPONENT_PAGES + 1):
            batch = _array(
                await self._get(path, params={"page": number, "per_page": PER_PAGE}), f"GET {path}"
            )
            found.extend(batch)
            if len(batch) < PER_PAGE:
                break
        return found

    async def recent_incidents(self) -> list[Json]:
        """The most recent incidents (resolved or not), newest first, with their metadata."""
        path = f"{self._base}/incidents"
        return _array(await self._get(path, params={"limit": PER_PAGE, "page": 1}), f"GET {path}")

    async def incident(self, incident_id: str) -> Json | None:
        path = f"{self._base}/incidents/{incident_id}"
        response = await self.client.request("GET", path, ok_statuses=frozenset({404}))
        if response.status_code == 404:
            return None
        return _object(_json(response, f"GET {path}"), f"GET {path}")

    async def create_incident(self, fields: Json) -> Json:
        path = f"{self._base}/incidents"
        response = await self.client.request("POST", path, json={"incident": fields})
        return _object(_json(response, f"POST {path}"), f"POST {path}")

    async def update_incident(self, incident_id: str, fields: Json) -> Json | None:
        """The updated incident, or None when the page has no such incident."""
        path = f"{self._base}/incidents/{incident_id}"
        response = await self.client.request(
            "PATCH", path, json={"incident": fields}, ok_statuses=frozenset({404})
        )
        if response.status_code == 404:
            return None
        return _object(_json(response, f"PATCH {path}"), f"PATCH {path}")

    async def _get(self, path: str, *, params: dict[str, Any] | None = None) -> Any:
        response = await self.client.request("GET", path, params=params)
        return _json(response, f"GET {path}")


def _json(response: httpx.Response, what: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise VendorError(VENDOR, what, "the answer is not JSON", transient=True) from None


def _object(doc: Any, what: str) -> Json:
    if not isinstance(doc, dict):
        raise VendorError(VENDOR, what, "the answer is not a JSON object")
    return doc


def _array(doc: Any, what: str) -> list[Json]:
    if not isinstance(doc, list):
        raise VendorError(VENDOR, what, "the answer is not a JSON array")
    return [item for item in doc if isinstance(item, dict)]
