"""A clone of the repository passes its tests with nothing beside it: no tracked file may reach
for a folder outside the checkout (the design notes and vendor contracts the project was started
from live there on the developers' machines, not on a user's)."""

from __future__ import annotations

import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# spelled in pieces so that this file does not match itself (or the project's own hooks)
OUTSIDE = ("../" + "shared", "IR_" + "SHARED_DIR")


def tracked_text_files() -> list[Path]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout.split(b"\0")
    paths = [ROOT / name.decode() for name in listed if name]
    return [p for p in paths if p.is_file() and p.suffix not in {".png", ".svg", ".ico"}]


def test_no_tracked_file_reaches_outside_the_checkout() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in tracked_text_files()
        if any(marker in path.read_text(errors="replace") for marker in OUTSIDE)
    ]

    assert offenders == []


def test_every_vendor_file_names_its_source_and_license() -> None:
    vendor = ROOT / "tests" / "vendor"
    readme = (vendor / "README.md").read_text()
    files = [
        p.relative_to(vendor).as_posix()
        for p in vendor.rglob("*")
        if p.is_file()
        and p.name not in {"README.md", "__init__.py", "LICENSE"}
        and "__pycache__" not in p.parts
    ]

    assert files
    assert [f for f in files if f"`{f}`" not in readme] == []
