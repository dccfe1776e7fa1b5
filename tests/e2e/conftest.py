"""End-to-end tests start real `incident-response serve` processes."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


def roster_emails(data_dir: Path) -> list[str]:
    text = (data_dir / "roster.yaml").read_text()
    found: list[str] = []
    for match in re.finditer(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+", text):
        if match.group(0) not in found:
            found.append(match.group(0))
    return found
