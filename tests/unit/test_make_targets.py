"""The Make targets mirroring the original's scripts: what each runs (`make -n`), and that a
missing chart, tool or setting stops a target with a message saying what is missing."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
VENV = Path(sys.executable).parent.parent

pytestmark = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def make(*args: str, dry: bool = False) -> subprocess.CompletedProcess[str]:
    # the shared venv stands in for .venv; STAMP=Makefile: nothing to install
    command = ["make", "-s", "-C", str(ROOT), f"VENV={VENV}", "STAMP=Makefile"]
    return subprocess.run(
        [*command, *(["-n"] if dry else []), *args], capture_output=True, text=True, timeout=60
    )


def test_check_is_lint_typecheck_format_check_and_the_unit_tests() -> None:
    done = make("check", dry=True)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    for expected in ("ruff check", "mypy src", "ruff format --check", "pytest"):
        assert any(expected in line for line in lines), expected
    assert any(line.rstrip().endswith("tests/unit") for line in lines)


def test_make_test_still_runs_everything_ci_ran() -> None:
    done = make("test", dry=True)
    assert done.returncode == 0, done.stderr
    for expected in (
        "ruff check",
        "ruff format --check",
        "check_architecture.py",
        "mypy src",
        "install-browser",
        "--cov-branch",
        "check_coverage.py",  # 100% on the gate and the audit log, the global floor
        "check_secrets.py",
        "check_secrets_drift.py",
    ):
        assert expected in done.stdout, expected


def test_the_integration_target_runs_the_server_and_contract_suites() -> None:
    done = make("test-integration", dry=True)
    assert "tests/integration tests/contract tests/e2e" in done.stdout


@pytest.mark.parametrize(
    "target", ["chart-lint", "chart-template-staging", "chart-template-production"]
)
def test_a_missing_chart_is_named(target: str) -> None:
    done = make(target, "CHART=/nonexistent/chart")
    assert done.returncode != 0
    assert "no Helm chart at /nonexistent/chart" in done.stderr


def test_the_chart_targets_use_helm_template(tmp_path: Path) -> None:
    (tmp_path / "Chart.yaml").write_text("apiVersion: v2\nname: x\nversion: 0.1.0\n")
    done = make("chart-template-staging", f"CHART={tmp_path}", dry=True)
    assert (
        f"helm template incident-response {tmp_path} -f {tmp_path}/values-staging.yaml"
        in done.stdout
    )


def test_the_staging_drill_needs_its_target() -> None:
    done = make("drill-staging", "DRILL_TARGET=", "DRILL_TARGET_STAGING=")
    assert done.returncode != 0
    assert "set DRILL_TARGET_STAGING" in done.stderr
    ready = make("drill-staging", "DRILL_TARGET_STAGING=https://staging.example.com", dry=True)
    assert 'incident-response drill --target "https://staging.example.com"' in ready.stdout


def test_seeding_staging_calls_the_seed_command() -> None:
    done = make("seed-staging", dry=True)
    assert "incident-response secrets seed --env staging" in done.stdout
