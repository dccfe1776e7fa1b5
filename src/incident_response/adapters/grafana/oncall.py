"""Grafana OnCall's public API as the OnCall port: who is on call for an alert group now.

The alert group names its route, the route its escalation chain, and the chain's policies who
gets paged, in order: `notify_on_call_from_schedule` steps page whoever a schedule has on call
now, `notify_persons` (and `notify_person_next_each_time`) steps name people. The primary is the
first person on call in the chain's schedule steps, the secondary the next one (a second person
on call, or the next schedule step's); when the schedules have fewer than two people on call,
the people the chain names directly follow. Users are read for their e-mail and made Persons
through the Directory, so they carry their chat ids.

Grafana OnCall answers for now only, and knows only incidents that have an alert group there.
So a shift without an alert group (an incident from Alertmanager, or declared by hand) is the
roster's (`fallback`), and so is one Grafana cannot answer (an outage, an open circuit, an
unknown alert group): the shift's `note` says so, for the room, and a warning is logged.

Routes, chains and users change rarely and are kept for five minutes; alert groups and
schedules (who is on call *now*) are read every time.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlsplit

from incident_response.domain.clock import Clock
from incident_response.domain.people import OnCallShift, Person
from incident_response.http import VendorClient, VendorError
from incident_response.integrations import Contribution, Wiring
from incident_response.ports import Directory, OnCall
from incident_response.telemetry.logging import get_logger

__all__ = ["GrafanaOnCall", "build"]

log = get_logger(__name__)

T = TypeVar("T")

VENDOR = "grafana-oncall"
MAX_PAGES = 20  # of a paginated list (escalation policies, users); 50 items a page by default
CACHE_TTL = timedelta(minutes=5)
PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # Grafana OnCall's public ids (e.g. I68T24C13IFW1)

SCHEDULE_STEP = "notify_on_call_from_schedule"
PEOPLE_STEPS = {
    "notify_persons": "persons_to_notify",
    "notify_person_next_each_time": "persons_to_notify_next_each_time",
}


class _NothingToWalk(Exception):
    """The alert group leads to no escalation chain: the roster has to answer."""


@dataclass(frozen=True)
class _Kept:
    value: Any
    read_at: datetime


class GrafanaOnCall:
    def __init__(
        self,
        *,
        client: VendorClient,
        fallback: OnCall,
        directory: Directory,
        clock: Clock,
        max_pages: int = MAX_PAGES,
        ttl: timedelta = CACHE_TTL,
    ) -> None:
        self._client = client
        self._fallback = fallback
        self._directory = directory
        self._clock = clock
        self._max_pages = max_pages
        self._ttl = ttl
        self._kept: dict[str, _Kept] = {}

    # -- the port ------------------------------------------------------------------------------

    async def shift(
        self, service: str, *, at: datetime, alert_group_id: str | None = None
    ) -> OnCallShift:
        if not alert_group_id:
            return await self._roster(
                service, at, "from the roster: this incident has no Grafana OnCall alert group"
            )
        try:
            return await self._walk(alert_group_id)
        except (VendorError, _NothingToWalk) as exc:
            reason = exc.reason if isinstance(exc, VendorError) else str(exc)
            log.warning(
                "grafana_oncall.roster_stands_in",
                alert_group_id=alert_group_id,
                service=service,
                error=str(exc),
            )
            return await self._roster(
                service, at, f"from the roster: Grafana OnCall could not say ({reason})"
            )

    async def acknowledge(self, alert_group_id: str) -> bool:
        """Acknowledge the alert group; True once it is acknowledged (by this call or someone
        before it), False when it is resolved and there is nothing left to acknowledge."""
        path = f"/api/v1/alert_groups/{_public_id(alert_group_id, 'alert group')}/acknowledge"
        try:
            # acknowledging twice is refused, never doubled: safe to retry like a read
            await self._client.request("POST", path, idempotent=True)
        except VendorError as exc:
            if exc.status != 400:
                raise
            state = (await self._alert_group(alert_group_id)).get("state")
            if state == "acknowledged":
                return True
            if state == "resolved":
                return False
            raise
        return True

    async def probe(self) -> str:
        response = await self._client.request("GET", "/api/v1/users/")
        doc = _page(response.json(), "GET /api/v1/users/")
        return f"Grafana OnCall reachable, {doc.get('count', len(doc['results']))} users"

    # -- the walk ------------------------------------------------------------------------------

    async def _walk(self, alert_group_id: str) -> OnCallShift:
        group = await self._alert_group(alert_group_id)
        route_id = group.get("route_id")
        if not route_id:
            raise _NothingToWalk(f"alert group {alert_group_id} has no route")
        route = await self._kept_or_read(f"route:{route_id}", lambda: self._route(str(route_id)))
        chain = route.get("escalation_chain_id")
        if not chain:
            raise _NothingToWalk(f"route {route_id} has no escalation chain")
        policies = await self._kept_or_read(f"chain:{chain}", lambda: self._policies(str(chain)))
        on_call: list[str] = []
        for policy in policies:
            schedule = policy.get("notify_on_call_from_schedule")
            if policy.get("type") == SCHEDULE_STEP and schedule:
                on_call += await self._on_call_now(str(schedule))
            if len(set(on_call)) >= 2:
                break
        named = [
            str(user)
            for policy in policies
            if (field := PEOPLE_STEPS.get(str(policy.get("type")))) is not None
            for user in policy.get(field) or []
        ]
        people: list[Person] = []
        for user_id in dict.fromkeys([*on_call, *named]):
            person = await self._person(user_id)
            if person is not None and all(p.email != person.email for p in people):
                people.append(person)
            if len(people) == 2:
                break
        if not people:
            return OnCallShift(note=f"Grafana OnCall: nobody is on call now in chain {chain}")
        return OnCallShift(primary=people[0], secondary=people[1] if len(people) > 1 else None)

    async def _roster(self, service: str, at: datetime, note: str) -> OnCallShift:
        shift = await self._fallback.shift(service, at=at)
        return shift.model_copy(update={"note": note})

    async def _alert_group(self, alert_group_id: str) -> dict[str, Any]:
        path = f"/api/v1/alert_groups/{_public_id(alert_group_id, 'alert group')}"
        return _object(await self._get(path), f"GET {path}")

    async def _route(self, route_id: str) -> dict[str, Any]:
        path = f"/api/v1/routes/{_public_id(route_id, 'route')}/"
        return _object(await self._get(path), f"GET {path}")

    async def _policies(self, chain_id: str) -> list[dict[str, Any]]:
        found = await self._list(
            "/api/v1/escalation_policies/",
            {"escalation_chain_id": _public_id(chain_id, "escalation chain")},
        )
        return sorted(found, key=lambda p: int(p.get("position") or 0))

    async def _on_call_now(self, schedule_id: str) -> list[str]:
        path = f"/api/v1/schedules/{_public_id(schedule_id, 'schedule')}/"
        schedule = _object(await self._get(path), f"GET {path}")
        return [str(u) for u in schedule.get("on_call_now") or []]

    async def _person(self, user_id: str) -> Person | None:
        """The user as a Person: the Directory's when it knows the e-mail (chat id and all),
        else the name and timezone Grafana OnCall has."""
        path = f"/api/v1/users/{_public_id(user_id, 'user')}/"

        async def read() -> dict[str, Any]:
            return _object(await self._get(path), f"GET {path}")

        user = await self._kept_or_read(f"user:{user_id}", read)
        email = str(user.get("email") or "").strip().lower()
        if not email:
            return None
        try:
            known = await self._directory.person(email)
        except Exception as exc:  # the directory only adds chat ids here; go on without
            log.warning("grafana_oncall.directory_unavailable", email=email, error=str(exc))
            known = None
        if known is not None:
            return known
        return Person(
            email=email,
            name=str(user.get("name") or user.get("username") or email),
            timezone=str(user.get("timezone") or "UTC"),
        )

    # -- reading -------------------------------------------------------------------------------

    async def _get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        response = await self._client.request("GET", path, params=params)
        try:
            return response.json()
        except ValueError:
            raise VendorError(VENDOR, f"GET {path}", "the answer is not JSON") from None

    async def _list(self, path: str, params: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every result of a paginated list, following `next` up to `max_pages` pages. Only
        `next`'s query is taken (the page number), never its host: a proxy may rewrite it."""
        results: list[dict[str, Any]] = []
        query = dict(params)
        for _ in range(self._max_pages):
            doc = _page(await self._get(path, query), f"GET {path}")
            results.extend(r for r in doc["results"] if isinstance(r, dict))
            following = doc.get("next")
            if not following:
                return results
            query = {**dict(params), **dict(parse_qsl(urlsplit(str(following)).query))}
        log.warning("grafana_oncall.list_capped", path=path, pages=self._max_pages)
        return results

    async def _kept_or_read(self, key: str, read: Callable[[], Awaitable[T]]) -> T:
        kept = self._kept.get(key)
        if kept is not None and self._clock.now() - kept.read_at < self._ttl:
            value: T = kept.value
            return value
        value = await read()
        self._kept[key] = _Kept(value, self._clock.now())
        return value


def _public_id(value: str, what: str) -> str:
    """An id going into a URL path is one of Grafana OnCall's public ids, nothing else."""
    if not PUBLIC_ID.match(value):
        raise VendorError(VENDOR, f"{what} {value[:40]!r}", "not a Grafana OnCall id")
    return value


def _object(doc: Any, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict):
        raise VendorError(VENDOR, what, "the answer is not a JSON object")
    return doc


def _page(doc: Any, what: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or not isinstance(doc.get("results"), list):
        raise VendorError(VENDOR, what, "the answer is not a page (count, next, results)")
    return doc


async def build(wiring: Wiring) -> Contribution:
    """integrations.FACTORIES["grafana-oncall"]: the adapter over the roster it falls back on."""
    settings = wiring.settings
    token = settings.value_of("GRAFANA_ONCALL_TOKEN")
    if not token:
        raise ValueError("grafana-oncall needs GRAFANA_ONCALL_TOKEN")
    client = wiring.http.vendor(
        VENDOR,
        base_url=settings.vendor_url("GRAFANA_ONCALL_API_URL"),
        headers={"Authorization": token.strip()},
    )
    oncall = GrafanaOnCall(
        client=client, fallback=wiring.oncall, directory=wiring.directory, clock=wiring.clock
    )
    return Contribution(oncall=oncall)
