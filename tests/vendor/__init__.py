"""Vendor contracts and fixtures the tests load, kept in the repository so a clone stands alone.

Every test reaches these files through `vendor_file`, the one place their location is known.
Sources and licenses: README.md beside this file.
"""

from __future__ import annotations

from pathlib import Path

VENDOR_DIR = Path(__file__).resolve().parent


def vendor_file(relative: str) -> Path:
    """A file under tests/vendor/, e.g. `slack/slack_web_openapi_v2_without_examples.json`."""
    path = VENDOR_DIR / relative
    if not path.is_file():
        raise FileNotFoundError(f"vendor file {relative} is missing from {VENDOR_DIR}")
    return path
