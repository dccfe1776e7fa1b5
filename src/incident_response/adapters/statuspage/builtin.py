"""The built-in public status page, kept in the shared SQLite file.

It stores only what was published (approved text), never drafts, and serves it in the shape of
Statuspage's public API v2 (`summary.json`, `incidents.json`, ...), so tools that read a
Statuspage page can read this one. Each update's body appears once in a document: nothing
repeats it in another field.

Publishing is idempotent per `PublishRequest.key`: a retried or recovered publish returns the
update already stored, so a crash between publish and audit can never post twice.
"""

from __future__ import annotations

import json
import secrets
import string
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import aiosqlite

from incident_response.adapters.embedded.db import Database
from incident_response.domain.clock import Clock, SystemClock, utc
from incident_response.domain.context import (
    COMPONENT_STATUS_BY_IMPACT,
    ComponentStatus,
    Impact,
    PublicStatus,
    PublishedUpdate,
    PublishRequest,
)
from incident_response.domain.errors import NotFound
from incident_response.domain.maintenance import phase

ID_ALPHABET = string.ascii_lowercase + string.digits
RECENT_INCIDENTS = 50

# Statuspage's words for the page indicator, by the worst impact among unresolved incidents
INDICATOR_DESCRIPTIONS = {
    Impact.NONE: "All Systems Operational",
    Impact.MINOR: "Minor Service Outage",
    Impact.MAJOR: "Partial System Outage",
    Impact.CRITICAL: "Major Service Outage",
}
IMPACT_RANK = {Impact.NONE: 0, Impact.MINOR: 1, Impact.MAJOR: 2, Impact.CRITICAL: 3}
# a component shows the worst status any unresolved incident gives it
COMPONENT_RANK = {
    ComponentStatus.OPERATIONAL: 0,
    ComponentStatus.UNDER_MAINTENANCE: 1,
    ComponentStatus.DEGRADED_PERFORMANCE: 2,
    ComponentStatus.PARTIAL_OUTAGE: 3,
    ComponentStatus.MAJOR_OUTAGE: 4,
}

SCHEMA = """
CREATE TABLE IF NOT EXISTS status_incidents (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    impact TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    monitoring_at TEXT,
    resolved_at TEXT
);
CREATE TABLE IF NOT EXISTS status_updates (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    incident_id TEXT NOT NULL REFERENCES status_incidents (id),
    key TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS status_updates_incident ON status_updates (incident_id, seq);
CREATE TABLE IF NOT EXISTS status_components (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    status TEXT NOT NULL,
    position INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_incident_components (
    incident_id TEXT NOT NULL REFERENCES status_incidents (id),
    component_id TEXT NOT NULL REFERENCES status_components (id),
    PRIMARY KEY (incident_id, component_id)
);
CREATE TABLE IF NOT EXISTS status_maintenances (
    id TEXT PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    body TEXT NOT NULL,
    components TEXT NOT NULL,
    scheduled_for TEXT NOT NULL,
    scheduled_until TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS status_incident_component_states (
    incident_id TEXT NOT NULL REFERENCES status_incidents (id),
    component_id TEXT NOT NULL REFERENCES status_components (id),
    status TEXT NOT NULL,
    PRIMARY KEY (incident_id, component_id)
)
"""


def stamp(dt: datetime) -> str:
    """Statuspage's time format (UTC, milliseconds); fixed width, so text order is time order."""
    dt = utc(dt)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def new_id() -> str:
    """A Statuspage-style id: 12 lowercase letters and digits."""
    return "".join(secrets.choice(ID_ALPHABET) for _ in range(12))


class BuiltinStatusPage:
    """StatusPage port on the shared Database, plus Statuspage public-API v2 documents."""

    def __init__(
        self,
        db: Database,
        *,
        base_url: str,
        clock: Clock | None = None,
        page_name: str = "Status",
        page_id: str = "embedded",
        components: Sequence[str] = (),
        logo_url: str | None = None,
        home_url: str | None = None,
    ) -> None:
        self._db = db
        self._base_url = base_url.rstrip("/")
        self._clock = clock or SystemClock()
        self._page_name = page_name
        self._page_id = page_id
        self._seed_components = tuple(components)
        self._logo_url = logo_url
        self._home_url = home_url
        self._ready = False

    @property
    def url(self) -> str:
        return f"{self._base_url}/status"

    @property
    def branding(self) -> dict[str, str | None]:
        """The page's name, logo and home link (settings; the URLs were checked to be http(s))."""
        return {"name": self._page_name, "logo_url": self._logo_url, "home_url": self._home_url}

    def shortlink(self, incident_id: str) -> str:
        return f"{self._base_url}/status/incidents/{incident_id}"

    async def _conn(self) -> Database:
        if not self._ready:
            await self._db.migrate("builtin_status_page", SCHEMA)
            if self._seed_components:
                async with self._db.transaction() as conn:
                    for name in self._seed_components:
                        await self._component_id(conn, name, stamp(self._clock.now()))
            self._ready = True
        return self._db

    # -- the StatusPage port -------------------------------------------------------------------

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        if not request.body.strip():
            raise ValueError("a status update needs a body")
        if not request.incident_name.strip():
            raise ValueError("a status page incident needs a name")
        if request.scheduled_for is not None or request.scheduled_until is not None:
            return await self._schedule(request)
        db = await self._conn()
        now = stamp(self._clock.now())
        async with db.transaction() as conn:
            done = await _one(conn, "SELECT * FROM status_updates WHERE key = ?", (request.key,))
            if done is not None:
                return self._published(done)
            incident_id = request.status_page_incident_id
            if incident_id is None:
                incident_id = new_id()
                await conn.execute(
                    "INSERT INTO status_incidents (id, name, status, impact, created_at,"
                    " updated_at, monitoring_at, resolved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        incident_id,
                        request.incident_name,
                        request.status.value,
                        request.impact.value,
                        now,
                        now,
                        now if request.status is PublicStatus.MONITORING else None,
                        now if request.status is PublicStatus.RESOLVED else None,
                    ),
                )
            else:
                found = await _one(
                    conn, "SELECT 1 FROM status_incidents WHERE id = ?", (incident_id,)
                )
                if found is None:
                    raise NotFound(f"status page incident {incident_id}")
                await conn.execute(
                    "UPDATE status_incidents SET name = ?, status = ?, impact = ?, updated_at = ?,"
                    " monitoring_at = CASE WHEN ? THEN COALESCE(monitoring_at, ?)"
                    " ELSE monitoring_at END,"
                    " resolved_at = CASE WHEN ? THEN COALESCE(resolved_at, ?) ELSE NULL END"
                    " WHERE id = ?",
                    (
                        request.incident_name,
                        request.status.value,
                        request.impact.value,
                        now,
                        request.status is PublicStatus.MONITORING,
                        now,
                        request.status is PublicStatus.RESOLVED,
                        now,
                        incident_id,
                    ),
                )
            await conn.execute(
                "INSERT INTO status_updates (id, incident_id, key, status, body, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (new_id(), incident_id, request.key, request.status.value, request.body, now),
            )
            for name in request.components:
                component_id = await self._component_id(conn, name, now)
                await conn.execute(
                    "INSERT OR IGNORE INTO status_incident_components (incident_id, component_id)"
                    " VALUES (?, ?)",
                    (incident_id, component_id),
                )
                await conn.execute(
                    "INSERT INTO status_incident_component_states (incident_id, component_id,"
                    " status) VALUES (?, ?, ?) ON CONFLICT (incident_id, component_id)"
                    " DO UPDATE SET status = excluded.status",
                    (incident_id, component_id, request.status_of(name).value),
                )
            await self._refresh_components(conn, incident_id, now)
            stored = await _one(conn, "SELECT * FROM status_updates WHERE key = ?", (request.key,))
            assert stored is not None
            return self._published(stored)

    async def find_published(self, key: str) -> PublishedUpdate | None:
        db = await self._conn()
        row = await db.fetchone("SELECT * FROM status_updates WHERE key = ?", (key,))
        if row is not None:
            return self._published(row)
        planned = await db.fetchone("SELECT * FROM status_maintenances WHERE key = ?", (key,))
        return self._scheduled(planned) if planned is not None else None

    async def _schedule(self, request: PublishRequest) -> PublishedUpdate:
        """A scheduled maintenance, once per key; its phase follows the clock when read."""
        if request.scheduled_for is None or request.scheduled_until is None:
            raise ValueError("a scheduled maintenance needs a start and an end")
        db = await self._conn()
        async with db.transaction() as conn:
            done = await _one(
                conn, "SELECT * FROM status_maintenances WHERE key = ?", (request.key,)
            )
            if done is None:
                now = stamp(self._clock.now())
                for name in request.components:
                    await self._component_id(conn, name, now)
                await conn.execute(
                    "INSERT INTO status_maintenances (id, key, name, body, components,"
                    " scheduled_for, scheduled_until, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        new_id(),
                        request.key,
                        request.incident_name,
                        request.body,
                        json.dumps(list(request.components)),
                        stamp(request.scheduled_for),
                        stamp(request.scheduled_until),
                        now,
                    ),
                )
                done = await _one(
                    conn, "SELECT * FROM status_maintenances WHERE key = ?", (request.key,)
                )
            assert done is not None
            return self._scheduled(done)

    def _scheduled(self, row: aiosqlite.Row) -> PublishedUpdate:
        return PublishedUpdate(
            key=row["key"],
            status_page_incident_id=row["id"],
            update_id=row["id"],
            url=self.shortlink(row["id"]),
            published_at=_time(row["created_at"]),
        )

    async def maintenances(self) -> list[dict[str, Any]]:
        """Every scheduled maintenance, soonest first, in Statuspage's scheduled-incident shape
        (status scheduled, in_progress or completed by the time now)."""
        db = await self._conn()
        rows = await db.fetchall(
            "SELECT * FROM status_maintenances ORDER BY scheduled_for, created_at LIMIT ?",
            (RECENT_INCIDENTS,),
        )
        now = self._clock.now()
        docs = []
        for row in rows:
            start, end = _time(row["scheduled_for"]), _time(row["scheduled_until"])
            status = phase(start, end, now).value
            docs.append(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "status": status,
                    "impact": "maintenance",
                    "scheduled_for": row["scheduled_for"],
                    "scheduled_until": row["scheduled_until"],
                    "created_at": row["created_at"],
                    "updated_at": row["created_at"],
                    "shortlink": self.shortlink(row["id"]),
                    "page_id": self._page_id,
                    "incident_updates": [
                        {
                            "id": row["id"],
                            "status": "scheduled",
                            "body": row["body"],
                            "incident_id": row["id"],
                            "created_at": row["created_at"],
                            "updated_at": row["created_at"],
                            "display_at": row["created_at"],
                        }
                    ],
                    "components": [{"name": n} for n in json.loads(row["components"])],
                }
            )
        return docs

    # -- Statuspage public API v2 documents ----------------------------------------------------

    async def summary(self) -> dict[str, Any]:
        """`/api/v2/summary.json`: page, overall status, components, unresolved incidents."""
        db = await self._conn()
        incidents = await self._incidents(db, unresolved_only=True)
        components = await self._components(db)
        return {
            "page": await self._page(db),
            "status": _status(incidents),
            "components": components,
            "incidents": incidents,
            "scheduled_maintenances": [
                m for m in await self.maintenances() if m["status"] != "completed"
            ],
        }

    async def status(self) -> dict[str, Any]:
        """`/api/v2/status.json`."""
        db = await self._conn()
        incidents = await self._incidents(db, unresolved_only=True)
        return {"page": await self._page(db), "status": _status(incidents)}

    async def components(self) -> dict[str, Any]:
        """`/api/v2/components.json`."""
        db = await self._conn()
        return {"page": await self._page(db), "components": await self._components(db)}

    async def incidents(self) -> dict[str, Any]:
        """`/api/v2/incidents.json`: the 50 most recent incidents, newest first."""
        db = await self._conn()
        return {"page": await self._page(db), "incidents": await self._incidents(db)}

    async def unresolved(self) -> dict[str, Any]:
        """`/api/v2/incidents/unresolved.json`."""
        db = await self._conn()
        incidents = await self._incidents(db, unresolved_only=True)
        return {"page": await self._page(db), "incidents": incidents}

    async def incident(self, incident_id: str) -> dict[str, Any] | None:
        """One incident in the public shape, for the page's incident view."""
        db = await self._conn()
        rows = await db.fetchall("SELECT * FROM status_incidents WHERE id = ?", (incident_id,))
        found = await self._incident_docs(db, rows)
        if found:
            return found[0]
        return next((m for m in await self.maintenances() if m["id"] == incident_id), None)

    # -- internals -----------------------------------------------------------------------------

    def _published(self, row: aiosqlite.Row) -> PublishedUpdate:
        return PublishedUpdate(
            key=row["key"],
            status_page_incident_id=row["incident_id"],
            update_id=row["id"],
            url=self.shortlink(row["incident_id"]),
            published_at=_time(row["created_at"]),
        )

    async def _component_id(self, conn: aiosqlite.Connection, name: str, now: str) -> str:
        row = await _one(conn, "SELECT id FROM status_components WHERE name = ?", (name,))
        if row is not None:
            return str(row["id"])
        component_id = new_id()
        await conn.execute(
            "INSERT INTO status_components (id, name, status, position, created_at, updated_at)"
            " VALUES (?, ?, 'operational',"
            " (SELECT COALESCE(MAX(position), 0) + 1 FROM status_components), ?, ?)",
            (component_id, name, now, now),
        )
        return component_id

    async def _refresh_components(
        self, conn: aiosqlite.Connection, incident_id: str, now: str
    ) -> None:
        """A component shows the worst status among the unresolved incidents that name it: the
        one the approved update chose, or (updates stored before statuses) the impact's."""
        async with conn.execute(
            "SELECT c.id, c.status, i.impact, s.status AS chosen"
            " FROM status_components c"
            " JOIN status_incident_components mine ON mine.component_id = c.id"
            " LEFT JOIN status_incident_components l ON l.component_id = c.id"
            " LEFT JOIN status_incidents i ON i.id = l.incident_id AND i.status != 'resolved'"
            " LEFT JOIN status_incident_component_states s"
            "  ON s.incident_id = i.id AND s.component_id = c.id"
            " WHERE mine.incident_id = ?",
            (incident_id,),
        ) as cursor:
            rows = list(await cursor.fetchall())
        shown: dict[str, str] = {row["id"]: row["status"] for row in rows}
        worst: dict[str, ComponentStatus] = {}
        for row in rows:
            if row["impact"] is None:
                continue  # a resolved incident (or none): it gives the component nothing
            status = (
                ComponentStatus(row["chosen"])
                if row["chosen"]
                else COMPONENT_STATUS_BY_IMPACT[Impact(row["impact"])]
            )
            best = worst.get(row["id"], ComponentStatus.OPERATIONAL)
            worst[row["id"]] = max(best, status, key=COMPONENT_RANK.__getitem__)
        for component_id, old in shown.items():
            new = worst.get(component_id, ComponentStatus.OPERATIONAL).value
            if new != old:
                await conn.execute(
                    "UPDATE status_components SET status = ?, updated_at = ? WHERE id = ?",
                    (new, now, component_id),
                )

    async def _page(self, db: Database) -> dict[str, Any]:
        row = await db.fetchone(
            "SELECT MAX(t) AS updated_at FROM ("
            " SELECT MAX(updated_at) AS t FROM status_incidents"
            " UNION ALL SELECT MAX(updated_at) FROM status_components)"
        )
        updated = row["updated_at"] if row is not None else None
        return {
            "id": self._page_id,
            "name": self._page_name,
            "url": self.url,
            "time_zone": "Etc/UTC",
            "updated_at": updated or stamp(self._clock.now()),
        }

    async def _components(self, db: Database) -> list[dict[str, Any]]:
        rows = await db.fetchall("SELECT * FROM status_components ORDER BY position, name")
        return [self._component(r) for r in rows]

    def _component(self, row: aiosqlite.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "name": row["name"],
            "status": row["status"],
            "created_at": row["created_at"],
            "updated_at": row["updated_at"],
            "position": row["position"],
            "description": None,
            "showcase": False,
            "start_date": None,
            "group_id": None,
            "page_id": self._page_id,
            "group": False,
            "only_show_if_degraded": False,
        }

    async def _incidents(
        self, db: Database, *, unresolved_only: bool = False
    ) -> list[dict[str, Any]]:
        where = "WHERE status != 'resolved'" if unresolved_only else ""
        rows = await db.fetchall(
            f"SELECT * FROM status_incidents {where} ORDER BY created_at DESC, rowid DESC LIMIT ?",
            (RECENT_INCIDENTS,),
        )
        return await self._incident_docs(db, rows)

    async def _incident_docs(
        self, db: Database, rows: Sequence[aiosqlite.Row]
    ) -> list[dict[str, Any]]:
        docs = []
        for row in rows:
            updates = await db.fetchall(
                "SELECT * FROM status_updates WHERE incident_id = ? ORDER BY seq DESC",
                (row["id"],),
            )
            components = await db.fetchall(
                "SELECT c.* FROM status_components c JOIN status_incident_components l"
                " ON l.component_id = c.id WHERE l.incident_id = ? ORDER BY c.position",
                (row["id"],),
            )
            docs.append(
                {
                    "id": row["id"],
                    "name": row["name"],
                    "status": row["status"],
                    "impact": row["impact"],
                    "created_at": row["created_at"],
                    "updated_at": row["updated_at"],
                    "monitoring_at": row["monitoring_at"],
                    "resolved_at": row["resolved_at"],
                    "started_at": row["created_at"],
                    "shortlink": self.shortlink(row["id"]),
                    "page_id": self._page_id,
                    "incident_updates": [
                        {
                            "id": u["id"],
                            "status": u["status"],
                            "body": u["body"],
                            "incident_id": u["incident_id"],
                            "created_at": u["created_at"],
                            "updated_at": u["created_at"],
                            "display_at": u["created_at"],
                            "affected_components": None,
                            "deliver_notifications": True,
                            "custom_tweet": None,
                            "tweet_id": None,
                        }
                        for u in updates
                    ],
                    "components": [self._component(c) for c in components],
                }
            )
        return docs


def _status(unresolved: Sequence[dict[str, Any]]) -> dict[str, str]:
    impacts = [Impact(i["impact"]) for i in unresolved]
    worst = max(impacts, key=IMPACT_RANK.__getitem__, default=Impact.NONE)
    return {"indicator": worst.value, "description": INDICATOR_DESCRIPTIONS[worst]}


def _time(value: str) -> datetime:
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


async def _one(conn: aiosqlite.Connection, sql: str, params: Sequence[Any]) -> aiosqlite.Row | None:
    async with conn.execute(sql, params) as cursor:
        return await cursor.fetchone()
