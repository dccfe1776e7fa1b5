"""Signed POSTs to status-page subscribers, on the one outbound HTTP policy.

One attempt per call (the queue retries with backoff, so a try is recorded before the next),
redirects never followed (a 3xx is a failure: following it could reach an address nobody
checked), and a circuit breaker per subscriber, so one dead receiver never slows the others.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Mapping, Sequence

from incident_response.domain.subscriptions import IpAddress, Subscriber
from incident_response.http import BreakerPolicy, CallPolicy, OutboundHttp


class HttpWebhookSender:
    def __init__(self, http: OutboundHttp, *, timeout: float = 5.0) -> None:
        self._http = http
        self._policy = CallPolicy(timeout=timeout, attempts=1)

    async def resolve(self, host: str) -> Sequence[IpAddress]:
        try:
            found = await asyncio.get_running_loop().getaddrinfo(
                host, None, type=socket.SOCK_STREAM
            )
        except OSError:
            return []
        return list(
            dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found)
        )

    async def post(self, subscriber: Subscriber, body: bytes, headers: Mapping[str, str]) -> None:
        client = self._http.vendor(
            f"status-webhook:{subscriber.id}",
            base_url=subscriber.url,
            policy=self._policy,
            breaker=BreakerPolicy(failures=5, reset_after=300.0),
        )
        await client.request("POST", "", content=body, headers=dict(headers))
