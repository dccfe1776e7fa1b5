"""Webhook subscribers of the public status page: who may be called, and what they are sent.

A subscriber is a URL an approver registered; every published update is POSTed to it, signed
with the subscriber's own secret the way this service's own webhook senders sign
(`X-Incident-Response-Timestamp` and `X-Incident-Response-Signature: sha256=<hex HMAC-SHA256(
secret, f"{timestamp}." + body)>`), so a receiver checks it exactly as our intake does.

A subscription makes this service send requests to an address someone typed, so the address is
checked like an attacker's: only http(s), no credentials in it, and every address its host
resolves to must be public (no loopback, private, link-local such as the cloud metadata
service, multicast or reserved range) unless a setting allows private ones for tests. The check
is pure here; resolving the name is the caller's I/O.

The body carries only what was approved and published: the public incident name, stage, impact,
components with their statuses and text, plus the page's public identity and ids.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict

MAX_URL_CHARS = 2000
MAX_SUBSCRIBERS = 200
MAX_SUBSCRIPTIONS_PER_HOUR = 20  # per person: a leaked approver token cannot fan out far
TIMESTAMP_HEADER = "X-Incident-Response-Timestamp"
SIGNATURE_HEADER = "X-Incident-Response-Signature"
DELIVERY_HEADER = "X-Incident-Response-Delivery"
EVENT_HEADER = "X-Incident-Response-Event"
SIGNATURE_PREFIX = "sha256="

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class DeliveryState(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    GIVEN_UP = "given_up"


class Subscriber(BaseModel):
    """One webhook subscriber. `secret` signs what it is sent; it is shown once, at creation."""

    model_config = ConfigDict(frozen=True)

    id: str
    url: str
    secret: str
    created_by: str
    created_at: datetime
    removed_at: datetime | None = None

    def public(self) -> dict[str, Any]:
        """What a listing shows: never the secret."""
        return {
            "id": self.id,
            "url": self.url,
            "created_by": self.created_by,
            "created_at": self.created_at.isoformat(),
        }


class Delivery(BaseModel):
    """One published update on its way to one subscriber; `body` is the exact signed bytes."""

    model_config = ConfigDict(frozen=True)

    subscriber_id: str
    key: str
    body: str
    state: DeliveryState = DeliveryState.PENDING
    attempts: int = 0
    last_error: str = ""

    @property
    def id(self) -> str:
        """What the receiver dedups on (sent as X-Incident-Response-Delivery)."""
        return f"{self.subscriber_id}:{self.key}"


def url_problems(url: str) -> tuple[str, ...]:
    """Why `url` cannot be a subscriber's address, before any name is resolved."""
    if len(url) > MAX_URL_CHARS:
        return (f"the URL has {len(url)} characters; the limit is {MAX_URL_CHARS}",)
    if any(ch.isspace() or ord(ch) < 32 for ch in url):
        return ("the URL must not contain spaces or control characters",)
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        return (f"the URL cannot be read: {exc}",)
    if parts.scheme not in ("http", "https"):
        return ("the URL must start with https:// (or http://)",)
    if not parts.hostname:
        return ("the URL names no host",)
    if parts.username is not None or parts.password is not None:
        return ("the URL must not carry a user name or password; the signature proves who sent",)
    if port == 0:
        return ("the URL's port must not be 0",)
    return ()


def literal_address(host: str) -> IpAddress | None:
    """The host as an IP address, when it is written as one (also `[::1]`)."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def address_problems(
    host: str, addresses: Iterable[IpAddress], *, allow_private: bool
) -> tuple[str, ...]:
    """Why this service must not call `host`, given every address it resolves to: a name that
    resolves to nothing is refused, and so is one that resolves to any address that is not
    public (one private answer is enough for a rebinding attacker to try)."""
    found = list(addresses)
    if not found:
        return (f"{host} does not resolve to any address",)
    if allow_private:
        return ()
    problems = []
    for address in found:
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        checked = mapped or address
        if not checked.is_global or checked.is_multicast:
            problems.append(
                f"{host} resolves to {address}, which is not a public address: subscribers "
                "must be reachable on the internet"
            )
    return tuple(problems)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The signature header's value, as this service's own webhook senders compute it."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return SIGNATURE_PREFIX + digest.hexdigest()


def signed_headers(
    delivery: Delivery, *, secret: str, timestamp: int, event: str
) -> dict[str, str]:
    body = delivery.body.encode("utf-8")
    return {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        DELIVERY_HEADER: delivery.id,
        EVENT_HEADER: event,
    }


def update_document(
    *,
    page: Mapping[str, str],
    content: Mapping[str, Any],
    facts: Mapping[str, Any],
    kind: str,
) -> str:
    """The JSON a subscriber receives for one published update, as canonical text (the exact
    bytes signed and sent). `content` is the draft's approved public content (its hash covers
    it), `facts` the status page's ids, link and time."""
    doc: dict[str, Any] = {
        "meta": {"event": event_of(kind), "key": facts["key"]},
        "page": {"name": page["name"], "url": page["url"]},
        "incident": {
            "id": facts["status_page_incident_id"],
            "name": content["title"],
            "status": content["stage"],
            "impact": content["impact"],
            "shortlink": facts["url"],
            "components": [
                {"name": c["name"], "status": c.get("status")} for c in content["components"]
            ],
            "incident_update": {
                "id": facts["update_id"],
                "status": content["stage"],
                "body": content["body"],
                "created_at": facts["published_at"],
            },
        },
    }
    if content.get("scheduled_for") is not None:
        doc["incident"]["scheduled_for"] = content["scheduled_for"]
        doc["incident"]["scheduled_until"] = content["scheduled_until"]
    return json.dumps(doc, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def event_of(kind: str) -> str:
    return "maintenance.update" if kind == "maintenance" else "incident.update"
