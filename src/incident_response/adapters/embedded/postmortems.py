"""Postmortems as Markdown files in the data dir: the embedded stand-in for Linear.

A postmortem's file name derives from its key, so filing the same key again finds the file and
returns it instead of writing a second one. Files appear whole or not at all: the text is written
to a hidden temporary file beside the target, synced, then linked into place, which also makes
"create unless present" atomic when two workers race.
"""

from __future__ import annotations

import asyncio
import builtins
import contextlib
import hashlib
import os
import re
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from incident_response.domain.alert import Severity
from incident_response.domain.context import FiledPostmortem
from incident_response.domain.incident import IssueRef

KEY_LINE = re.compile(r"^<!-- postmortem-key: (.*) -->$")
SLUG_CHARS = re.compile(r"[^a-z0-9]+")
NAME = re.compile(r"^[a-z0-9][a-z0-9-]*$")
MAX_SLUG = 60
FOLLOWUPS_ANCHOR = "follow-ups"  # the postmortem's heading "Follow-ups", as the console links it


class PostmortemFile(BaseModel):
    """A filed postmortem as the console's index lists it."""

    model_config = ConfigDict(frozen=True)

    id: str
    key: str
    title: str
    url: str
    path: Path
    filed_at: datetime


def name_for(key: str) -> str:
    """Readable and collision-free: a slug of the key plus a digest of the exact key."""
    slug = SLUG_CHARS.sub("-", key.lower()).strip("-")[:MAX_SLUG].strip("-") or "postmortem"
    return f"{slug}-{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def render_file(*, key: str, title: str, body: str) -> str:
    """The file's text: the key in an HTML comment (invisible when rendered), a title heading
    unless the body starts with one, then the body."""
    if "\n" in key or "-->" in key:
        raise ValueError("a postmortem key must be one line without '-->'")
    text = body.strip("\n")
    if not text.startswith("# "):
        text = f"# {title.strip()}\n\n{text}"
    return f"<!-- postmortem-key: {key} -->\n{text}\n"


def split_key(text: str) -> tuple[str | None, str]:
    """A postmortem file's key and the Markdown after the key line (the document people read)."""
    first, _, rest = text.partition("\n")
    if match := KEY_LINE.match(first):
        return match.group(1), rest
    return None, text


class MarkdownIssueTracker:
    """IssueTracker port writing `<data_dir>/postmortems/<name>.md`, read in the console at
    `/console/postmortems/<name>` (postmortems name the responders, so they are not public)."""

    def __init__(self, data_dir: Path | str, *, base_url: str) -> None:
        self.directory = Path(data_dir) / "postmortems"
        self._base_url = base_url.rstrip("/")

    def url_for(self, name: str) -> str:
        return f"{self._base_url}/console/postmortems/{name}"

    def path_for(self, name: str) -> Path | None:
        """The file of a postmortem id, or None for anything that is not one (no `..`)."""
        if not NAME.match(name):
            return None
        return self.directory / f"{name}.md"

    async def file_postmortem(
        self,
        *,
        key: str,
        title: str,
        body: str,
        severity: Severity | None = None,
        owner_email: str | None = None,
    ) -> FiledPostmortem:
        """`severity` and `owner_email` are not written: a file has no priority or assignee, and
        the drafted body already names both."""
        if not key.strip():
            raise ValueError("a postmortem needs a key")
        if not title.strip():
            raise ValueError("a postmortem needs a title")
        text = render_file(key=key, title=title, body=body)
        name = name_for(key)
        await asyncio.to_thread(self._create, name, text)
        return FiledPostmortem(id=name, url=self.url_for(name), key=key)

    async def find_postmortem(self, key: str) -> FiledPostmortem | None:
        name = name_for(key)
        if not await asyncio.to_thread((self.directory / f"{name}.md").exists):
            return None
        return FiledPostmortem(id=name, url=self.url_for(name), key=key)

    async def file_followup(
        self,
        *,
        postmortem_key: str,
        followup_id: str,
        title: str,
        body: str,
        owner_email: str | None = None,
    ) -> IssueRef:
        """Nothing is written: the postmortem filed under `postmortem_key` lists its follow-ups
        (FOLLOWUPS_ANCHOR), and that is where each one links to."""
        if not followup_id.strip():
            raise ValueError("a follow-up needs an id")
        name = name_for(postmortem_key)
        return IssueRef(id=f"{name}#{followup_id}", url=f"{self.url_for(name)}#{FOLLOWUPS_ANCHOR}")

    async def read(self, name: str) -> str | None:
        """The Markdown of a filed postmortem, for the web layer to serve."""
        path = self.path_for(name)
        if path is None:
            return None
        try:
            return await asyncio.to_thread(path.read_text, encoding="utf-8")
        except FileNotFoundError:
            return None

    async def list(self) -> builtins.list[PostmortemFile]:
        """Every filed postmortem, newest first."""
        return await asyncio.to_thread(self._list)

    def _create(self, name: str, text: str) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        target = self.directory / f"{name}.md"
        if target.exists():
            return
        fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            try:
                os.link(tmp, target)
            except FileExistsError:
                return  # filed concurrently under the same key: the first one stands
            except OSError:
                # a file system without hard links: the existence check above has to do
                os.replace(tmp, target)
            _sync_directory(self.directory)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _list(self) -> builtins.list[PostmortemFile]:
        if not self.directory.is_dir():
            return []
        found = []
        for path in self.directory.glob("*.md"):
            if not NAME.match(path.stem):
                continue
            key, title = _header(path)
            found.append(
                PostmortemFile(
                    id=path.stem,
                    key=key,
                    title=title,
                    url=self.url_for(path.stem),
                    path=path,
                    filed_at=datetime.fromtimestamp(path.stat().st_mtime, UTC),
                )
            )
        return sorted(found, key=lambda p: (p.filed_at, p.id), reverse=True)


def _header(path: Path) -> tuple[str, str]:
    """The key and title from a postmortem file's first lines."""
    key, title = "", path.stem
    with path.open(encoding="utf-8") as f:
        for _, line in zip(range(20), f, strict=False):
            line = line.rstrip("\n")
            if match := KEY_LINE.match(line):
                key = match.group(1)
            elif line.startswith("# "):
                title = line[2:].strip()
                break
    return key, title


def _sync_directory(directory: Path) -> None:
    """Make the new directory entry durable (POSIX); a no-op where directories cannot be opened."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)
