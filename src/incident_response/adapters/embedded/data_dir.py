"""The embedded default's data dir: created private, checked writable, its files kept private.

The directory holds the database (incidents, audit log, sessions), the generated secrets and the
postmortems, so it is created 0700 and the database file 0600 before SQLite opens it (SQLite gives
the -wal and -shm files the database file's mode). A dir made by an older version, or by hand,
is tightened at start. A data dir that cannot be used says why in one sentence, before anything
else runs.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from incident_response.domain.errors import IncidentResponseError

PRIVATE_DIR = 0o700
PRIVATE_FILE = 0o600
DATABASE_COMPANIONS = ("", "-wal", "-shm")


class DataDirError(IncidentResponseError):
    """The data dir cannot be used; the message names it and the reason."""


def prepare(data_dir: Path, database: Path | None = None) -> None:
    """Create (0700) or tighten the data dir, check it is writable, and create the database
    file 0600 if it is missing. Raises DataDirError with the reason."""
    if data_dir.exists() and not data_dir.is_dir():
        raise DataDirError(f"data dir {data_dir} is a file, not a directory")
    try:
        data_dir.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"data dir {data_dir} cannot be created: {_reason(exc)}") from None
    problem = unwritable(data_dir)
    if problem is not None:
        raise DataDirError(problem)
    _tighten(data_dir, PRIVATE_DIR)
    if database is not None:
        try:
            os.close(os.open(database, os.O_WRONLY | os.O_CREAT, PRIVATE_FILE))
        except OSError as exc:
            raise DataDirError(f"database {database} cannot be created: {_reason(exc)}") from None
        for suffix in DATABASE_COMPANIONS:
            _tighten(Path(f"{database}{suffix}"), PRIVATE_FILE)


def unwritable(data_dir: Path) -> str | None:
    """Why nothing can be written in `data_dir` now, or None when a file can be (readiness)."""
    probe = data_dir / f".write-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, PRIVATE_FILE)
        try:
            os.write(fd, b"ok")
        finally:
            os.close(fd)
        probe.unlink()
    except OSError as exc:
        return f"data dir {data_dir} is not writable: {_reason(exc)}"
    return None


def _tighten(path: Path, mode: int) -> None:
    """Take group and other permissions away (a file we do not own is left as it is)."""
    with contextlib.suppress(FileNotFoundError, PermissionError):
        current = stat.S_IMODE(path.stat().st_mode)
        if current & 0o077:
            path.chmod(current & ~0o077 & 0o7777 | (mode & 0o700))


def _reason(exc: OSError) -> str:
    return (exc.strerror or type(exc).__name__).lower()
