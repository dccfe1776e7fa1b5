"""The chart as the tests see it: rendered once per environment by scripts/helm_chart.py (Helm's
own engine, with the values ArgoCD passes)."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pytest

helm = pytest.importorskip(
    "helm_python",
    reason="helm-python-sdk (Helm's engine for Python) is not installed: pip install -e '.[dev]'",
)

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("helm_chart", ROOT / "scripts" / "helm_chart.py")
assert _spec is not None
assert _spec.loader is not None
helm_chart = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(helm_chart)

CHART: Path = helm_chart.CHART
PLATFORM: Path = helm_chart.PLATFORM
ENVIRONMENTS: tuple[str, ...] = helm_chart.ENVIRONMENTS
argocd_values = helm_chart.argocd_values
platform_entry = helm_chart.platform_entry


@dataclass(frozen=True)
class Rendered:
    environment: str
    namespace: str
    manifests: tuple[dict[str, Any], ...]

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.manifests if m["kind"] == kind]

    def one(self, kind: str, name_suffix: str = "") -> dict[str, Any]:
        found = [m for m in self.of_kind(kind) if m["metadata"]["name"].endswith(name_suffix)]
        assert len(found) == 1, f"expected one {kind} *{name_suffix}, found {len(found)}"
        return found[0]


def render(
    values: dict[str, Any], *, namespace: str = "incident-response"
) -> tuple[dict[str, Any], ...]:
    return tuple(helm_chart.manifests(values, namespace=namespace))


@cache
def rendered(environment: str) -> Rendered:
    namespace = platform_entry(environment)["namespace"]
    return Rendered(environment, namespace, render(argocd_values(environment), namespace=namespace))
