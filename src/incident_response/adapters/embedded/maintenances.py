"""Scheduled maintenances in the shared SQLite file: one JSON document per maintenance, written
with compare-and-set on its version (as incidents are)."""

from __future__ import annotations

from incident_response.adapters.embedded.db import Database
from incident_response.domain.errors import ConcurrentUpdate, NotFound
from incident_response.domain.maintenance import Maintenance

SCHEMA = """
CREATE TABLE IF NOT EXISTS maintenances (
    id TEXT PRIMARY KEY,
    version INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
)
"""


class SqliteMaintenances:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def _ready(self) -> Database:
        await self._db.migrate("maintenances", SCHEMA)
        return self._db

    async def create(self, maintenance: Maintenance) -> Maintenance:
        db = await self._ready()
        stored = maintenance.model_copy(update={"version": 1})
        async with db.transaction() as conn:
            await conn.execute(
                "INSERT INTO maintenances (id, version, created_at, doc) VALUES (?, 1, ?, ?)",
                (stored.id, stored.created_at.isoformat(), stored.model_dump_json()),
            )
        return stored

    async def get(self, maintenance_id: str) -> Maintenance | None:
        db = await self._ready()
        row = await db.fetchone("SELECT doc FROM maintenances WHERE id = ?", (maintenance_id,))
        return Maintenance.model_validate_json(row["doc"]) if row is not None else None

    async def save(self, maintenance: Maintenance) -> Maintenance:
        """Store as version + 1 if the stored version is still `maintenance.version`."""
        db = await self._ready()
        stored = maintenance.model_copy(update={"version": maintenance.version + 1})
        async with db.transaction() as conn:
            cursor = await conn.execute(
                "UPDATE maintenances SET version = ?, doc = ? WHERE id = ? AND version = ?",
                (stored.version, stored.model_dump_json(), maintenance.id, maintenance.version),
            )
            if not cursor.rowcount:
                found = await conn.execute(
                    "SELECT 1 FROM maintenances WHERE id = ?", (maintenance.id,)
                )
                if await found.fetchone() is None:
                    raise NotFound(f"there is no maintenance {maintenance.id}")
                raise ConcurrentUpdate(f"maintenance {maintenance.id} changed meanwhile")
        return stored

    async def recent(self, limit: int = 50) -> list[Maintenance]:
        db = await self._ready()
        rows = await db.fetchall(
            "SELECT doc FROM maintenances ORDER BY created_at DESC LIMIT ?", (limit,)
        )
        return [Maintenance.model_validate_json(r["doc"]) for r in rows]
