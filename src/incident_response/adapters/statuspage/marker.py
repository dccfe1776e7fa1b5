"""The crash marker: how the Statuspage adapter finds an update it posted before a crash.

Statuspage takes no idempotency key, and a create or update whose answer was lost (a timeout, a
503, a process killed mid-call) may or may not have happened. So each update we post carries its
publish key into the incident's `metadata` (which Statuspage keeps private: the public page never
shows it), in the very request that posts the update:

    {"incident_response": {"<key>": "<n> <status> <sha256 of the body, 16 hex digits>"}}

`n` numbers our updates on that incident (1, 2, ...). A key present in an incident's metadata was
published there; its update is the incident update with the same status and body hash (the n-th
such one when several of our keys share both, as two identical "Investigating." updates would),
so a later lookup returns exactly what the publish returned. Updates people post in Statuspage's
own UI carry no marker and are never taken for ours.

Statuspage may replace the whole `metadata` object on update, so the adapter always sends every
marker the incident already holds plus the new one (`with_marker`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

NAMESPACE = "incident_response"
HASH_CHARS = 16


@dataclass(frozen=True)
class Marker:
    key: str
    n: int
    status: str
    body_hash: str

    def encoded(self) -> str:
        return f"{self.n} {self.status} {self.body_hash}"


def body_hash(body: str) -> str:
    """The hash of an update's text; surrounding whitespace is ignored (a vendor may trim it)."""
    return hashlib.sha256(body.strip().encode("utf-8")).hexdigest()[:HASH_CHARS]


def markers(metadata: Any) -> dict[str, Marker]:
    """Our markers in an incident's metadata, by key; anything malformed is not a marker."""
    if not isinstance(metadata, Mapping):
        return {}
    ours = metadata.get(NAMESPACE)
    if not isinstance(ours, Mapping):
        return {}
    found: dict[str, Marker] = {}
    for key, value in ours.items():
        if not isinstance(key, str) or not isinstance(value, str):
            continue
        n, _, rest = value.partition(" ")
        status, _, digest = rest.partition(" ")
        if n.isdigit() and status and len(digest) == HASH_CHARS:
            found[key] = Marker(key, int(n), status, digest)
    return found


def with_marker(metadata: Any, *, key: str, status: str, body: str) -> dict[str, Any]:
    """The incident's metadata with a marker for `key` added, everything else kept."""
    kept: dict[str, Any] = dict(metadata) if isinstance(metadata, Mapping) else {}
    ours = markers(kept)
    marker = Marker(key, max((m.n for m in ours.values()), default=0) + 1, status, body_hash(body))
    kept[NAMESPACE] = {k: m.encoded() for k, m in ours.items()} | {key: marker.encoded()}
    return kept


def marked_update(incident: Mapping[str, Any], key: str) -> tuple[bool, Mapping[str, Any] | None]:
    """Whether `key` was published on this incident, and the incident update it posted (None
    if someone deleted it since)."""
    ours = markers(incident.get("metadata"))
    marker = ours.get(key)
    if marker is None:
        return False, None
    twins = sorted(
        (m for m in ours.values() if (m.status, m.body_hash) == (marker.status, marker.body_hash)),
        key=lambda m: m.n,
    )
    updates: Sequence[Any] = incident.get("incident_updates") or ()
    # Statuspage lists updates newest first; a stable sort on the time keeps that order in ties
    oldest_first = sorted(
        (u for u in reversed(updates) if isinstance(u, Mapping)),
        key=lambda u: str(u.get("created_at", "")),
    )
    same = [
        u
        for u in oldest_first
        if u.get("status") == marker.status
        and body_hash(str(u.get("body", ""))) == marker.body_hash
    ]
    index = twins.index(marker)
    return True, same[index] if index < len(same) else None
