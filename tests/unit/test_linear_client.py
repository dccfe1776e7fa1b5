"""How the Linear client reads a rate-limited GraphQL answer that carries no Retry-After."""

from __future__ import annotations

import time

import httpx
import pytest

from incident_response.adapters.linear.client import LinearError, LinearGraphQL
from incident_response.http import OutboundHttp


async def test_ratelimited_without_retry_after_waits_for_the_requests_bucket_reset() -> None:
    reset_ms = int((time.time() + 12) * 1000)

    def linear(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            400,
            json={
                "errors": [
                    {"message": "Rate limit exceeded", "extensions": {"code": "RATELIMITED"}}
                ]
            },
            headers={
                "X-RateLimit-Requests-Remaining": "0",
                "X-RateLimit-Requests-Reset": str(reset_ms),
            },
        )

    http = OutboundHttp(transport=httpx.MockTransport(linear))
    client = LinearGraphQL(http.vendor("linear", base_url="https://linear.test/graphql"))
    try:
        with pytest.raises(LinearError, match="rate limited by Linear") as raised:
            await client.query("query { viewer { id } }", {}, what="viewer")
    finally:
        await http.aclose()

    assert raised.value.transient
    assert raised.value.retry_after is not None
    assert 10 < raised.value.retry_after <= 12
