"""Shared bits of the benchmarks: percentiles, machine facts and report writing."""

from __future__ import annotations

import json
import os
import platform
import statistics
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPORTS = Path(__file__).resolve().parent / "reports"


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile: the value below which `pct` percent of samples fall."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(pct / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def summary(values_ms: Sequence[float]) -> dict[str, float]:
    return {
        "n": len(values_ms),
        "p50_ms": round(percentile(values_ms, 50), 2),
        "p90_ms": round(percentile(values_ms, 90), 2),
        "p99_ms": round(percentile(values_ms, 99), 2),
        "max_ms": round(max(values_ms), 2) if values_ms else float("nan"),
        "mean_ms": round(statistics.fmean(values_ms), 2) if values_ms else float("nan"),
    }


def machine() -> dict[str, Any]:
    return {
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_report(name: str, figures: dict[str, Any], markdown: str) -> Path:
    REPORTS.mkdir(parents=True, exist_ok=True)
    (REPORTS / f"{name}.json").write_text(
        json.dumps({"machine": machine(), **figures}, indent=2) + "\n"
    )
    path = REPORTS / f"{name}.md"
    path.write_text(markdown)
    return path
