"""The StatusPage port on Statuspage.io (Atlassian's hosted status pages).

The first approved update of an incident creates the Statuspage incident (name, status,
impact_override, body, the affected components and their status); later ones update it, and the
resolution sets it `resolved` with the approved text, the components back to operational.
Everything sent comes from the approved PublishRequest; the components it names are the public
names of the configured ComponentMap, which must exist on the page. The page's components are read
at start-up (`warm_up`) and kept until a name is missing or Statuspage refuses a write (422), then
read again; a name the page still lacks refuses the publish, changing nothing. The page itself is
read then too, for the address customers open (`public_url`, bookmarked in every war room).

Statuspage has no idempotency key, so each update leaves a marker in the incident's private
metadata (marker.py) and `find_published` looks the key up among the page's recent incidents.
`publish` checks the same way before it writes, and in-process it serialises publishes of a key
(and writes to an incident), so a retried, repeated or recovered publish never posts twice.

A publish not done within `PUBLISH_DEADLINE` seconds (1 request/s per key queues concurrent
approvals behind each other) gives up, mostly before writing (a write already on its way may
still land, which the marker tells later): the gate keeps the approval and its recovery publishes
it. The deadline stays below the gate's recovery grace (60 s), so a publish still queued here
never races a recovery elsewhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from incident_response.adapters.statuspage import marker
from incident_response.adapters.statuspage.api import VENDOR, Json, StatuspageApi
from incident_response.domain.clock import utc
from incident_response.domain.context import PublishedUpdate, PublishRequest
from incident_response.domain.errors import NotFound
from incident_response.http import VendorError
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

ABSENCE_TTL = 15.0  # seconds a lookup that found no key spares the publish right after it
PUBLISH_DEADLINE = 40.0  # seconds; below the gate's 60 s recovery grace


class UnknownComponent(VendorError):
    """A component the approved update names does not exist on the Statuspage page."""


class StatuspageIo:
    """StatusPage port on one Statuspage page. `probe()` checks the key and the page id."""

    def __init__(
        self,
        api: StatuspageApi,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        publish_deadline: float = PUBLISH_DEADLINE,
    ) -> None:
        self._api = api
        self._monotonic = monotonic
        self._deadline = publish_deadline
        self._published: dict[str, PublishedUpdate] = {}
        # key -> (when a lookup that found it absent began, the incidents it saw, by id)
        self._absent: dict[str, tuple[float, dict[str, Json]]] = {}
        self._written: dict[str, Json] = {}  # incident id -> our last write's answer
        self._listing: asyncio.Future[list[Json]] | None = None
        self._listing_started = float("-inf")
        self._components: dict[str, list[str]] = {}
        self._names: set[str] = set()
        self._components_read = False
        self._public_url: str | None = None
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def page_id(self) -> str:
        return self._api.page_id

    async def public_url(self) -> str | None:
        """Where customers read the page: its custom domain, else its statuspage.io subdomain.
        Read once (`warm_up` does it at start-up) and kept; None while Statuspage cannot say."""
        if self._public_url is not None:
            return self._public_url
        async with self._lock("page"):
            if self._public_url is None:
                try:
                    self._public_url = public_address(await self._api.page())
                except VendorError as exc:
                    log.warning("statuspage.page_unread", page_id=self.page_id, error=str(exc))
        return self._public_url

    async def probe(self) -> str:
        what = f"GET /v1/pages/{self.page_id}"
        try:
            async with self._lock("page"):  # a warm-up asking at the same time reuses this read
                page = await self._api.page()
                self._public_url = self._public_url or public_address(page)
        except VendorError as exc:
            hints = {
                401: "the API key was refused: check STATUSPAGE_API_KEY",
                403: f"the API key may not read page {self.page_id}: use a key of its owner",
                404: f"no page {self.page_id} for this key: check STATUSPAGE_PAGE_ID",
            }
            if exc.status in hints:
                raise VendorError(
                    VENDOR, what, f"HTTP {exc.status}: {hints[exc.status]}", status=exc.status
                ) from None
            raise
        return f"page '{page.get('name', '?')}' ({page.get('id', self.page_id)}) reachable"

    async def warm_up(self, configured: Sequence[str]) -> None:
        """Read the page's components ahead of the first approval (which then waits for two
        calls, not three) and warn about configured components the page lacks; then read the
        page for its public address. Never raises: a publish reads the components itself when
        this could not, and a room opened without the address has no status-page bookmark."""
        try:
            await self._load_components()
        except VendorError as exc:
            log.warning("statuspage.components_unread", page_id=self.page_id, error=str(exc))
            return
        missing = [n for n in configured if _fold(n) not in self._components]
        if missing:
            log.warning(
                "statuspage.components_missing",
                page_id=self.page_id,
                missing=missing,
                hint="updates naming them will be refused until they exist on the page; "
                "add them on Statuspage or change INCIDENT_RESPONSE_STATUS_PAGE_COMPONENTS",
            )
        await self.public_url()

    # -- the StatusPage port -------------------------------------------------------------------

    async def find_published(self, key: str) -> PublishedUpdate | None:
        done = self._published.get(key)
        if done is not None:
            return done
        asked = self._monotonic()
        incidents = await self._recent_incidents(asked)
        for incident in incidents:
            found = _published(incident, key)
            if found is not None:
                self._published[key] = found
                return found
        self._remember_absent(key, asked, incidents)
        return None

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        if not request.body.strip():
            raise ValueError("a status update needs a body")
        if not request.incident_name.strip():
            raise ValueError("a status page incident needs a name")
        async with self._lock(f"key:{request.key}"):
            done = self._published.get(request.key)
            if done is not None:
                return done
            # the deadline runs from the gate's lookup just before, when there was one
            now = self._monotonic()
            entry = self._absent.get(request.key)
            began = entry[0] if entry is not None and now - entry[0] < ABSENCE_TTL else now
            try:
                async with asyncio.timeout(self._deadline - (now - began)):
                    published = await self._publish_once(request)
            except TimeoutError:
                raise VendorError(
                    VENDOR,
                    "publish",
                    f"not done within {self._deadline:g} s (Statuspage takes 1 request/s per "
                    "key and other updates were ahead of this one)",
                    transient=True,
                ) from None
            self._published[request.key] = published
            return published

    # -- internals -----------------------------------------------------------------------------

    async def _publish_once(self, request: PublishRequest) -> PublishedUpdate:
        # an absence is used once: after a write starts, whatever its answer, look again
        seen = self._take_absent(request.key)
        if seen is None:
            found = await self.find_published(request.key)
            if found is not None:
                return found
            seen = self._take_absent(request.key) or {}
        await self._component_ids(request.components)  # refuses names the page lacks
        fields = _fields(
            request, {name: self._components[_fold(name)][0] for name in request.components}
        )
        incident_id = request.status_page_incident_id
        try:
            if incident_id is None:
                fields["metadata"] = marker.with_marker(
                    None, key=request.key, status=request.status.value, body=request.body
                )
                incident = await self._api.create_incident(fields)
                self._written[str(incident.get("id"))] = incident
            else:
                async with self._lock(f"incident:{incident_id}"):
                    incident = await self._update(
                        incident_id, request, fields, seen.get(incident_id)
                    )
        except VendorError as exc:
            if exc.status == 422:  # perhaps a component deleted on Statuspage: read them again
                self._components_read = False
            raise
        published = _published(incident, request.key)
        if published is None:
            raise VendorError(
                VENDOR,
                "publish",
                f"Statuspage's answer for incident {incident.get('id')} does not show the update "
                "just posted",
                transient=True,
            )
        return published

    async def _update(
        self, incident_id: str, request: PublishRequest, fields: Json, seen: Json | None
    ) -> Json:
        # the newer of the lookup's copy and our own last write: no marker of ours is dropped
        known = [doc for doc in (seen, self._written.get(incident_id)) if doc is not None]
        current = (
            max(known, key=lambda doc: str(doc.get("updated_at", "")))
            if known
            else await self._api.incident(incident_id)
        )
        if current is None:
            raise NotFound(f"status page incident {incident_id} (page {self.page_id})")
        if _published(current, request.key) is not None:
            return current  # posted before a crash: nothing to add
        fields["metadata"] = marker.with_marker(
            current.get("metadata"), key=request.key, status=request.status.value, body=request.body
        )
        updated = await self._api.update_incident(incident_id, fields)
        if updated is None:
            raise NotFound(f"status page incident {incident_id} (page {self.page_id})")
        self._written[incident_id] = updated
        return updated

    async def _component_ids(self, names: Sequence[str]) -> list[str]:
        """The page's component id of each public name; refuses names the page lacks."""
        if not names:
            return []
        if not self._components_read or any(_fold(n) not in self._components for n in names):
            await self._load_components()
        missing = [n for n in names if _fold(n) not in self._components]
        doubled = [n for n in names if len(self._components.get(_fold(n), [])) > 1]
        what = f"GET /v1/pages/{self.page_id}/components"
        if missing:
            have = sorted(self._names)
            raise UnknownComponent(
                VENDOR,
                what,
                f"component {', '.join(repr(n) for n in missing)} does not exist on page "
                f"{self.page_id} (it has: {', '.join(have) or 'no components'}); add it on "
                "Statuspage or change INCIDENT_RESPONSE_STATUS_PAGE_COMPONENTS",
            )
        if doubled:
            raise UnknownComponent(
                VENDOR,
                what,
                f"page {self.page_id} has several components named "
                f"{', '.join(repr(n) for n in doubled)}: rename one so updates reach the right one",
            )
        return list(dict.fromkeys(self._components[_fold(n)][0] for n in names))

    async def _load_components(self) -> None:
        by_name: dict[str, list[str]] = {}
        names: set[str] = set()
        for component in await self._api.components():
            if component.get("group") or not component.get("id"):
                continue  # a group is a heading, not something an incident affects
            name = str(component.get("name", ""))
            names.add(name)
            by_name.setdefault(_fold(name), []).append(str(component["id"]))
        self._components, self._names = by_name, names
        self._components_read = True

    async def _recent_incidents(self, asked: float) -> list[Json]:
        """A listing of the page's recent incidents taken after `asked`. Concurrent lookups
        share one listing (each waits for one that started after it asked), so N approvals
        at once cost N + 2 calls of Statuspage's 1 request/s, not 2N."""
        while True:
            listing = self._listing
            if listing is not None and self._listing_started >= asked:
                return await asyncio.shield(listing)
            if listing is not None and not listing.done():
                with contextlib.suppress(Exception):
                    await asyncio.shield(listing)  # taken too early for us: wait, then the next
                continue
            self._listing_started = self._monotonic()
            self._listing = asyncio.ensure_future(self._api.recent_incidents())

    def _remember_absent(self, key: str, asked: float, incidents: list[Json]) -> None:
        now = self._monotonic()
        for old in [k for k, (at, _) in self._absent.items() if now - at >= ABSENCE_TTL]:
            del self._absent[old]
        self._absent[key] = (asked, {str(i.get("id")): i for i in incidents})

    def _take_absent(self, key: str) -> dict[str, Json] | None:
        """The incidents a lookup just saw without `key`, once, if it is recent enough."""
        entry = self._absent.pop(key, None)
        if entry is None or self._monotonic() - entry[0] >= ABSENCE_TTL:
            return None
        return entry[1]

    def _lock(self, name: str) -> asyncio.Lock:
        lock = self._locks.get(name)
        if lock is None:
            lock = self._locks[name] = asyncio.Lock()
        return lock


def _fields(request: PublishRequest, component_ids: Mapping[str, str]) -> Json:
    """What the approved request puts on the page (the marker is added beside it): each named
    component's id, and in `components` the status the IC chose for it (operational once
    resolved), as Statuspage's `{component id: status}`."""
    if request.scheduled_for is not None and request.scheduled_until is not None:
        return _scheduled_fields(
            request, component_ids, start=request.scheduled_for, end=request.scheduled_until
        )
    fields: Json = {
        "name": request.incident_name,
        "status": request.status.value,
        "impact_override": request.impact.value,
        "body": request.body,
    }
    if component_ids:
        fields["component_ids"] = list(dict.fromkeys(component_ids.values()))
        fields["components"] = {
            component_id: request.status_of(name).value
            for name, component_id in component_ids.items()
        }
    return fields


def _scheduled_fields(
    request: PublishRequest, component_ids: Mapping[str, str], *, start: datetime, end: datetime
) -> Json:
    """A scheduled maintenance as Statuspage's scheduled incident: status `scheduled`, its
    window, and Statuspage moving it to in progress and completed on time by itself."""
    fields: Json = {
        "name": request.incident_name,
        "status": "scheduled",
        "impact_override": "maintenance",
        "body": request.body,
        "scheduled_for": _stamp(start),
        "scheduled_until": _stamp(end),
        "scheduled_auto_in_progress": True,
        "scheduled_auto_completed": True,
    }
    if component_ids:
        fields["component_ids"] = list(dict.fromkeys(component_ids.values()))
    return fields


def _stamp(at: datetime) -> str:
    return utc(at).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def public_address(page: Mapping[str, Any]) -> str | None:
    """The page's public URL from its document: the CNAME alias (`domain`) when it has one,
    else its subdomain of statuspage.io. (`url` is the company's website, not the page.)"""
    domain = str(page.get("domain") or "").strip().strip("/")
    subdomain = str(page.get("subdomain") or "").strip().strip("/")
    host = domain or (subdomain if "." in subdomain else f"{subdomain}.statuspage.io")
    if not (domain or subdomain):
        return None
    return host if host.startswith(("https://", "http://")) else f"https://{host}"


def _published(incident: Mapping[str, Any], key: str) -> PublishedUpdate | None:
    """The update `key` posted on this incident, read from its marker; None if it has none."""
    marked, update = marker.marked_update(incident, key)
    if not marked:
        return None
    when = (update or {}).get("created_at") or incident.get("updated_at")
    return PublishedUpdate(
        key=key,
        status_page_incident_id=str(incident["id"]),
        # an update deleted on Statuspage since: still published, never to be posted again
        update_id=str((update or {}).get("id", "")),
        url=str(incident.get("shortlink") or ""),
        published_at=_time(when),
    )


def _time(value: Any) -> datetime:
    try:
        return utc(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
    except ValueError:
        raise VendorError(VENDOR, "read incident", f"unreadable time {value!r}") from None


def _fold(name: str) -> str:
    return name.strip().casefold()
