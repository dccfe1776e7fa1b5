"""Token generations and console sessions in SQLite, the embedded Credentials.

The CLI (`incident-response token ... --rotate`, `token revoke`) writes here from its own process
and `serve` reads here on every authenticated request, so a revocation takes effect on the next
request without restarting anything. Expired sessions are deleted whenever a session is opened,
which keeps the table as small as the number of sessions alive in the last 12 hours.
"""

from __future__ import annotations

from datetime import datetime
from typing import Self

from incident_response.adapters.embedded.db import Database
from incident_response.domain.clock import Clock, utc
from incident_response.domain.errors import AlreadyExists
from incident_response.ports import ConsoleSessionRecord, Generations

SCHEMA = """
CREATE TABLE IF NOT EXISTS credential_generations (
    email TEXT PRIMARY KEY,
    tokens INTEGER NOT NULL,
    sessions INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS console_sessions (
    key TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    generation INTEGER NOT NULL,
    issued_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS console_sessions_by_expiry ON console_sessions (expires_at)
"""

_SESSION_COLUMNS = "key, email, generation, issued_at, expires_at"


def _ts(dt: datetime) -> str:
    """Fixed-width UTC text, so string order is time order in the index."""
    return utc(dt).isoformat(timespec="microseconds")


def _email(email: str) -> str:
    return email.strip().lower()


class SqliteCredentials:
    """The embedded Credentials (conformance: tests/contract/credentials_suite.py)."""

    def __init__(self, *, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock

    async def open(self) -> Self:
        await self._db.migrate("credentials", SCHEMA)
        return self

    async def generations(self, email: str) -> Generations:
        row = await self._db.fetchone(
            "SELECT tokens, sessions FROM credential_generations WHERE email = ?", (_email(email),)
        )
        if row is None:
            return Generations(email=_email(email))
        return Generations(email=_email(email), tokens=row["tokens"], sessions=row["sessions"])

    async def rotate_tokens(self, email: str) -> Generations:
        return await self._bump(email, sessions=0)

    async def revoke(self, email: str) -> Generations:
        return await self._bump(email, sessions=1)

    async def _bump(self, email: str, *, sessions: int) -> Generations:
        async with self._db.transaction() as conn:
            await conn.execute(
                "INSERT INTO credential_generations (email, tokens, sessions) VALUES (?, 1, ?)"
                " ON CONFLICT (email) DO UPDATE SET tokens = tokens + 1,"
                " sessions = sessions + excluded.sessions",
                (_email(email), sessions),
            )
            async with conn.execute(
                "SELECT tokens, sessions FROM credential_generations WHERE email = ?",
                (_email(email),),
            ) as cursor:
                row = await cursor.fetchone()
        assert row is not None  # written in this transaction
        return Generations(email=_email(email), tokens=row["tokens"], sessions=row["sessions"])

    async def open_session(self, session: ConsoleSessionRecord) -> None:
        async with self._db.transaction() as conn:
            await conn.execute(
                "DELETE FROM console_sessions WHERE expires_at <= ?", (_ts(self._clock.now()),)
            )
            async with conn.execute(
                f"INSERT INTO console_sessions ({_SESSION_COLUMNS}) VALUES (?, ?, ?, ?, ?)"
                " ON CONFLICT (key) DO NOTHING",
                (
                    session.key,
                    _email(session.email),
                    session.generation,
                    _ts(session.issued_at),
                    _ts(session.expires_at),
                ),
            ) as cursor:
                inserted = cursor.rowcount
        if not inserted:
            raise AlreadyExists("a console session with this key exists")

    async def session(self, key: str) -> ConsoleSessionRecord | None:
        row = await self._db.fetchone(
            f"SELECT {_SESSION_COLUMNS} FROM console_sessions WHERE key = ? AND expires_at > ?",
            (key, _ts(self._clock.now())),
        )
        if row is None:
            return None
        return ConsoleSessionRecord(
            key=row["key"],
            email=row["email"],
            generation=row["generation"],
            issued_at=row["issued_at"],
            expires_at=row["expires_at"],
        )

    async def end_session(self, key: str) -> None:
        async with self._db.transaction() as conn:
            await conn.execute("DELETE FROM console_sessions WHERE key = ?", (key,))
