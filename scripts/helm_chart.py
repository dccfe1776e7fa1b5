"""`helm template` and `helm lint` for deploy/chart, with Helm's own engine from PyPI.

No `helm` binary is packaged for the registries these machines reach (PyPI, Debian, npm);
helm-python-sdk (a dev dependency) binds Helm's Go SDK (v4) instead. `Chart.merge_values`
coalesces the chart's defaults with the given values and `Chart.render` runs Helm's template
engine offline: what `helm template` does. What the CLI adds on top, merging `-f` files and then
`--set` parameters in order, is `overlay` below; the values and parameters are ArgoCD's for one
entry of deploy/platform.yaml (deploy/argocd/applicationset.yaml).

    python scripts/helm_chart.py template staging   # the manifests, as `helm template` prints them
    python scripts/helm_chart.py lint                # helm lint --strict, every environment
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
CHART = ROOT / "deploy" / "chart"
PLATFORM = ROOT / "deploy" / "platform.yaml"
ENVIRONMENTS = ("development", "staging", "production")
RELEASE = "incident-response"


def _helm() -> Any:
    try:
        import helm_python
    except ImportError:  # pragma: no cover - a dev dependency
        sys.exit("helm-python-sdk is not installed: pip install -e '.[dev]'")
    return helm_python


def platform_entry(environment: str) -> dict[str, Any]:
    entries: list[dict[str, Any]] = yaml.safe_load(PLATFORM.read_text())
    for entry in entries:
        if entry["environment"] == environment:
            return entry
    raise SystemExit(
        f"no environment {environment!r} in {PLATFORM.name}: {', '.join(ENVIRONMENTS)}"
    )


def overlay(base: Mapping[str, Any], top: Mapping[str, Any]) -> dict[str, Any]:
    """Deep-merge `top` over `base`, as Helm merges values files and --set parameters."""
    merged = dict(base)
    for key, value in top.items():
        if isinstance(value, Mapping) and isinstance(merged.get(key), Mapping):
            merged[key] = overlay(merged[key], value)
        else:
            merged[key] = value
    return merged


def argocd_values(environment: str) -> dict[str, Any]:
    """The values ArgoCD passes for one platform.yaml entry: the values file, then parameters."""
    entry = platform_entry(environment)
    from_file = _helm().values_from_yaml((CHART / f"values-{environment}.yaml").read_text())
    parameters = {
        "environment": entry["environment"],
        "aws": {"platformRoleArn": entry["platformRoleArn"]},
    }
    return overlay(from_file, parameters)


def template(values: Mapping[str, Any], *, namespace: str) -> dict[str, str]:
    """Template path -> rendered text, as `helm template RELEASE deploy/chart` renders it."""
    helm = _helm()
    with helm.Chart.load(str(CHART)) as chart:
        rendered: dict[str, str] = chart.render(
            chart.merge_values(dict(values)), name=RELEASE, namespace=namespace, is_install=True
        )
    return rendered


def manifests(values: Mapping[str, Any], *, namespace: str) -> list[dict[str, Any]]:
    files = template(values, namespace=namespace)
    return [
        document
        for path, text in sorted(files.items())
        if path.endswith(".yaml")
        for document in yaml.safe_load_all(text)
        if document
    ]


def lint(environment: str) -> list[str]:
    """`helm lint --strict` with one environment's values: the problems, worst first."""
    report = _helm().lint(str(CHART), argocd_values(environment), strict=True)
    problems = [str(error) for error in report["errors"]]
    problems += [f"{m['path']}: {m['error']}" for m in report["messages"] if m["severity"] > 1]
    return problems


def main(argv: list[str]) -> int:
    if argv[:1] == ["template"] and len(argv) == 2:
        environment = argv[1]
        namespace = platform_entry(environment)["namespace"]
        for path, text in sorted(template(argocd_values(environment), namespace=namespace).items()):
            if text.strip():
                print(f"---\n# Source: {path}\n{text.strip()}")
        return 0
    if argv == ["lint"]:
        failed = False
        for environment in ENVIRONMENTS:
            problems = lint(environment)
            print(f"{environment}: {'ok' if not problems else '; '.join(problems)}")
            failed = failed or bool(problems)
        return 1 if failed else 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
