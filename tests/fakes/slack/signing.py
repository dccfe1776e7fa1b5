"""HTTP-mode delivery: Slack's v0 request signing, and the ways a forged or replayed request looks.

Signature: `v0=` + hex HMAC-SHA256(signing secret, "v0:" + timestamp + ":" + raw body), sent in
X-Slack-Signature with the timestamp in X-Slack-Request-Timestamp; apps must refuse timestamps
older than five minutes.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp

STALE_AFTER = 5 * 60
HTTP_TIMEOUT = 30.0

KINDS = ("slash_commands", "interactive", "events_api")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    base = b"v0:" + timestamp.encode() + b":" + body
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def encode(kind: str, payload: dict[str, Any]) -> tuple[bytes, str]:
    """Body and content type: slash commands are form fields, interactions a form field
    `payload` holding JSON, events a JSON body."""
    if kind == "slash_commands":
        return urlencode(payload).encode(), "application/x-www-form-urlencoded"
    if kind == "interactive":
        return urlencode(
            {"payload": json.dumps(payload)}
        ).encode(), "application/x-www-form-urlencoded"
    if kind == "events_api":
        return json.dumps(payload).encode(), "application/json"
    raise ValueError(f"unknown kind {kind!r}; expected one of {KINDS}")


@dataclass
class Delivery:
    """One signed request as sent, and the app's answer."""

    url: str
    body: bytes
    headers: dict[str, str]
    status: int
    text: str
    elapsed: float

    def json(self) -> Any:
        return json.loads(self.text) if self.text else None


def signed_headers(
    *,
    secret: str,
    body: bytes,
    content_type: str,
    timestamp: int | None = None,
    stale: bool = False,
    corrupt_signature: bool = False,
    retry_num: int | None = None,
) -> dict[str, str]:
    when = timestamp if timestamp is not None else int(time.time())
    if stale:
        when -= STALE_AFTER + 60
    stamp = str(when)
    signed = signature(secret, stamp, body)
    if corrupt_signature:
        signed = signed[:-1] + ("0" if signed[-1] != "0" else "1")
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": stamp,
        "X-Slack-Signature": signed,
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


async def post(url: str, body: bytes, headers: dict[str, str]) -> Delivery:
    """Slack gives up on an app after 3 s; the fake waits longer so a slow app shows as slow."""
    started = time.monotonic()
    client_timeout = aiohttp.ClientTimeout(total=HTTP_TIMEOUT)
    async with (
        aiohttp.ClientSession(timeout=client_timeout) as session,
        session.post(url, data=body, headers=headers) as response,
    ):
        text = await response.text()
        return Delivery(url, body, headers, response.status, text, time.monotonic() - started)
