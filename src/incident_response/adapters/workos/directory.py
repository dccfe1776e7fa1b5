"""WorkOS Directory Sync as the Directory port.

WorkOS knows who works here (the identity provider's users, synced) and which groups they are
in. It knows nothing of chat ids, approvers or which team owns which service, so those stay
with the roster (`roster`, the embedded Directory): `person_by_chat_id`, `approvers` and
`team_for_service` are the roster's answers, and people are given the roster's chat id and
timezone where the roster lists their e-mail. The port stays identity-provider neutral.

Reads (`GET /directory_users`, `GET /directory_groups`) follow WorkOS's cursor pagination
(`list_metadata.after`) up to a cap, are paced to WorkOS's 4 requests/s per directory, and are
kept for five minutes with a stale fallback (see `cache.StaleCache`). Only `active` users count:
a suspended or deprovisioned person is nobody, even if the roster still lists them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from incident_response.adapters.workos.cache import StaleCache
from incident_response.domain.clock import Clock
from incident_response.domain.people import Person
from incident_response.http import VendorClient, VendorError
from incident_response.ports import Directory
from incident_response.telemetry.logging import get_logger

__all__ = ["MAX_PAGES", "MAX_USERS", "PAGE_SIZE", "WorkOSDirectory"]

log = get_logger(__name__)

VENDOR = "workos"
PAGE_SIZE = 100  # WorkOS's largest page
MAX_PAGES = 50
MAX_USERS = 5000
CACHE_TTL = timedelta(minutes=5)

Users = dict[str, Person]  # lower-cased e-mail -> the person as WorkOS knows them


@dataclass(frozen=True)
class Limits:
    """How much one listing may read: `page_size` per call, at most `max_pages` calls and
    `max_items` items (beyond them a warning is logged and what was read is used)."""

    page_size: int = PAGE_SIZE
    max_pages: int = MAX_PAGES
    max_items: int = MAX_USERS


class WorkOSDirectory:
    def __init__(
        self,
        *,
        client: VendorClient,
        directory_id: str,
        teams: Mapping[str, str],
        roster: Directory,
        clock: Clock,
        limits: Limits | None = None,
        ttl: timedelta = CACHE_TTL,
    ) -> None:
        self._client = client
        self._directory_id = directory_id
        self._teams = dict(teams)
        self._roster = roster
        self._limits = limits or Limits()
        self._users: StaleCache[Users] = StaleCache(vendor=VENDOR, clock=clock, ttl=ttl)
        self._groups: StaleCache[dict[str, str]] = StaleCache(vendor=VENDOR, clock=clock, ttl=ttl)
        self._unmapped_warned: set[str] = set()

    # -- the port ------------------------------------------------------------------------------

    async def person(self, email: str) -> Person | None:
        found = (await self._everyone()).get(email.strip().lower())
        return None if found is None else (await self._enriched([found]))[0]

    async def person_by_chat_id(self, chat_id: str) -> Person | None:
        """The roster knows chat ids; WorkOS says whether that person still works here."""
        known = await self._roster.person_by_chat_id(chat_id)
        return None if known is None else await self.person(known.email)

    async def team_members(self, team: str) -> list[Person]:
        """The active members of the WorkOS group WORKOS_TEAM_GROUP_MAP names for `team`."""
        group = self._teams.get(team)
        if group is None:
            if team not in self._unmapped_warned:
                self._unmapped_warned.add(team)
                log.warning(
                    "workos.team_not_mapped", team=team, hint="add it to WORKOS_TEAM_GROUP_MAP"
                )
            return []
        groups = await self._groups.get("groups", self._read_groups)
        if group not in groups:
            log.warning(
                "workos.group_not_in_directory",
                team=team,
                group=group,
                directory=self._directory_id,
            )
            return []
        members = await self._users.get(f"group:{group}", lambda: self._read_users(group=group))
        return await self._enriched(sorted(members.values(), key=lambda p: p.email))

    async def team_for_service(self, service: str) -> str | None:
        return await self._roster.team_for_service(service)

    async def people(self) -> list[Person]:
        everyone = await self._everyone()
        return await self._enriched(sorted(everyone.values(), key=lambda p: p.email))

    async def approvers(self) -> frozenset[str]:
        return await self._roster.approvers()

    async def probe(self) -> str:
        """One page of one user: the key works and the directory is this key's to read."""
        response = await self._client.request(
            "GET", "/directory_users", params={"directory": self._directory_id, "limit": 1}
        )
        doc = _listing(response.json(), "GET /directory_users")
        more = "+" if doc["list_metadata"].get("after") else ""
        return f"directory {self._directory_id} reachable, {len(doc['data'])}{more} users"

    # -- reading WorkOS ------------------------------------------------------------------------

    async def _everyone(self) -> Users:
        return await self._users.get(
            "users", lambda: self._read_users(directory=self._directory_id)
        )

    async def _read_users(self, **scope: str) -> Users:
        users: Users = {}
        for item in await self._list("/directory_users", scope):
            person = _person(item, directory_id=self._directory_id)
            if person is not None:
                users.setdefault(person.email, person)
        return users

    async def _read_groups(self) -> dict[str, str]:
        items = await self._list("/directory_groups", {"directory": self._directory_id})
        return {str(g["id"]): str(g.get("name") or "") for g in items if g.get("id")}

    async def _list(self, path: str, scope: Mapping[str, str]) -> list[dict[str, Any]]:
        """Every item of a listing, page after page while `list_metadata.after` is set, up to
        the limits; at the cap the rest is left unread, with a warning."""
        limits = self._limits
        items: list[dict[str, Any]] = []
        after: str | None = None
        pages = 0
        while pages < limits.max_pages:
            pages += 1
            params: dict[str, Any] = {**scope, "limit": limits.page_size}
            if after:
                params["after"] = after
            response = await self._client.request("GET", path, params=params)
            doc = _listing(response.json(), f"GET {path}")
            items.extend(d for d in doc["data"] if isinstance(d, dict))
            after = doc["list_metadata"].get("after") or None
            if after is None:
                return items
            if len(items) >= limits.max_items:
                break
        log.warning(
            "workos.listing_capped",
            path=path,
            scope=dict(scope),
            pages=pages,
            items=len(items[: limits.max_items]),
            hint="the rest of the directory is not read; raise the cap or narrow the directory",
        )
        return items[: limits.max_items]

    async def _enriched(self, people: list[Person]) -> list[Person]:
        """People with the roster's chat id and timezone, where the roster lists them. The
        roster is a nicety here: if it cannot be read, people come without chat ids."""
        roster: dict[str, Person] = {}
        try:
            roster = {p.email.lower(): p for p in await self._roster.people()}
        except Exception as exc:  # the roster file is optional beside WorkOS
            log.warning("workos.roster_unreadable", error=str(exc))
        enriched = []
        for person in people:
            known = roster.get(person.email)
            update = {"name": person.name or (known.name if known else "") or person.email}
            if known is not None:
                update |= {"chat_id": known.chat_id, "timezone": known.timezone}
            enriched.append(person.model_copy(update=update))
        return enriched


def _listing(doc: Any, what: str) -> dict[str, Any]:
    """A WorkOS list answer (`{data: [...], list_metadata: {before, after}}`), or VendorError."""
    if (
        not isinstance(doc, dict)
        or not isinstance(doc.get("data"), list)
        or not isinstance(doc.get("list_metadata", {}), dict)
    ):
        raise VendorError(VENDOR, what, "the answer is not a WorkOS list (data, list_metadata)")
    return {"data": doc["data"], "list_metadata": doc.get("list_metadata") or {}}


def _person(user: Mapping[str, Any], *, directory_id: str) -> Person | None:
    """An active directory user of this directory as a Person (no chat id: WorkOS has none)."""
    if user.get("state") != "active" or user.get("directory_id", directory_id) != directory_id:
        return None
    email = _primary_email(user)
    if not email:
        return None
    name = " ".join(
        str(part).strip() for part in (user.get("first_name"), user.get("last_name")) if part
    ).strip()
    return Person(email=email, name=name)  # no name: the roster's, else the e-mail


def _primary_email(user: Mapping[str, Any]) -> str:
    emails = [e for e in user.get("emails") or [] if isinstance(e, dict) and e.get("value")]
    primary = next((e for e in emails if e.get("primary")), None)
    chosen = primary["value"] if primary else user.get("email") or ""
    return str(chosen).strip().lower()
