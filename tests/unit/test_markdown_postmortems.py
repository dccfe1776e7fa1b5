"""Markdown postmortem files: names, atomic writes and the listing the console shows."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from incident_response.adapters.embedded.postmortems import (
    MarkdownIssueTracker,
    name_for,
    split_key,
)


@pytest.fixture
def tracker(tmp_path: Path) -> MarkdownIssueTracker:
    return MarkdownIssueTracker(tmp_path, base_url="http://127.0.0.1:8080/")


async def test_a_postmortem_is_a_markdown_file_read_in_the_console_under_its_name(
    tracker: MarkdownIssueTracker, tmp_path: Path
) -> None:
    filed = await tracker.file_postmortem(
        key="postmortem:inc-66dac47ad4",
        title="Postmortem: checkout errors",
        body="## Summary\n\nx\n",
    )
    assert filed.id.startswith("postmortem-inc-66dac47ad4-")
    assert filed.url == f"http://127.0.0.1:8080/console/postmortems/{filed.id}"
    path = tmp_path / "postmortems" / f"{filed.id}.md"
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[1] == "# Postmortem: checkout errors"
    assert text.endswith("## Summary\n\nx\n")


async def test_a_body_with_its_own_title_is_not_given_a_second(
    tracker: MarkdownIssueTracker,
) -> None:
    filed = await tracker.file_postmortem(key="k", title="Other", body="# Postmortem: X\n\nbody")
    text = await tracker.read(filed.id)
    assert text is not None
    assert "# Other" not in text
    assert text.count("\n# ") == 1


async def test_the_key_line_splits_off_and_leaves_the_document(
    tracker: MarkdownIssueTracker,
) -> None:
    filed = await tracker.file_postmortem(key="inc-1", title="Postmortem: X", body="## Summary")
    text = await tracker.read(filed.id)
    assert text is not None
    assert split_key(text) == ("inc-1", "# Postmortem: X\n\n## Summary\n")
    assert split_key("# Hand-written\n") == (None, "# Hand-written\n")


def test_names_are_readable_and_never_collide() -> None:
    assert name_for("postmortem:inc-1") != name_for("postmortem/inc-1")
    assert name_for("Postmortem:INC-1") != name_for("postmortem:inc-1")
    assert name_for("a" * 500).startswith("a" * 60 + "-")
    assert name_for("../../etc/passwd").startswith("etc-passwd-")
    assert name_for("!!!").startswith("postmortem-")


async def test_leftover_temporary_files_from_a_crash_are_ignored(
    tracker: MarkdownIssueTracker,
) -> None:
    tracker.directory.mkdir(parents=True)
    (tracker.directory / ".postmortem-k-1234.abc.tmp").write_text("half a postm")
    filed = await tracker.file_postmortem(key="k", title="T", body="b")
    assert [p.id for p in await tracker.list()] == [filed.id]
    assert not [
        p for p in tracker.directory.iterdir() if p.name.endswith(".tmp") and "abc" not in p.name
    ]


async def test_the_listing_shows_key_and_title_newest_first(tracker: MarkdownIssueTracker) -> None:
    older = await tracker.file_postmortem(key="postmortem:inc-1", title="First", body="b")
    newer = await tracker.file_postmortem(key="postmortem:inc-2", title="Second", body="b")
    old_path = tracker.path_for(older.id)
    assert old_path is not None
    os.utime(old_path, (1_700_000_000, 1_700_000_000))
    listed = await tracker.list()
    assert [(p.id, p.key, p.title) for p in listed] == [
        (newer.id, "postmortem:inc-2", "Second"),
        (older.id, "postmortem:inc-1", "First"),
    ]
    assert listed[0].url == newer.url


@pytest.mark.parametrize("name", ["../secrets", "..", "a/b", "", "x.md", "/etc/passwd"])
async def test_reading_only_serves_postmortems(tracker: MarkdownIssueTracker, name: str) -> None:
    assert await tracker.read(name) is None


async def test_nothing_filed_lists_nothing(tracker: MarkdownIssueTracker) -> None:
    assert await tracker.list() == []
    assert await tracker.read("postmortem-nothing-00000000") is None


@pytest.mark.parametrize(
    ("key", "title", "problem"),
    [
        ("", "T", "needs a key"),
        ("k", " ", "needs a title"),
        ("a\nb", "T", "one line"),
        ("a-->b", "T", "one line"),
    ],
)
async def test_bad_keys_and_titles_write_nothing(
    tracker: MarkdownIssueTracker, key: str, title: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        await tracker.file_postmortem(key=key, title=title, body="b")
    assert await tracker.list() == []
