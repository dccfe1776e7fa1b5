"""Builds the Statuspage.io adapter from settings (integrations.FACTORIES names this)."""

from __future__ import annotations

import asyncio
import contextlib

from incident_response.adapters.statuspage.api import VENDOR, StatuspageApi
from incident_response.adapters.statuspage.statuspage_io import StatuspageIo
from incident_response.config import ConfigurationError
from incident_response.http import CallPolicy
from incident_response.integrations import Contribution, Wiring

# Statuspage's published limit: 1 request/s per API key (420 or 429 beyond it)
REQUESTS_PER_SECOND = 1.0


async def build(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    key, page_id = settings.statuspage_api_key, settings.statuspage_page_id
    if key is None or not page_id:  # settings.enabled("statuspage") checked both
        raise ConfigurationError("STATUSPAGE_API_KEY and STATUSPAGE_PAGE_ID are both required")
    client = wiring.http.vendor(
        VENDOR,
        base_url=settings.vendor_url("STATUSPAGE_API_URL"),
        headers={"Authorization": f"OAuth {key.get_secret_value()}"},
        per_second=REQUESTS_PER_SECOND,
        policy=CallPolicy(timeout=settings.incident_response_http_call_timeout_seconds),
    )
    page = StatuspageIo(StatuspageApi(client, page_id=page_id.strip()))
    # read the page's components now, beside start-up, so the first approval does not wait
    warming = asyncio.get_running_loop().create_task(
        page.warm_up(settings.status_page_components.names)
    )

    async def stop_warming() -> None:
        warming.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await warming

    return Contribution(status_page=page, closers=[stop_warming])
