"""The GitHub Actions workflows shipped for users: valid against GitHub's workflow schema (the
one check-jsonschema vendors), CI runs `make test`, and the nightly drill stays off unless the
repository variable turns it on and takes its target and credentials from secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / ".github" / "workflows"


def validate(*paths: Path) -> subprocess.CompletedProcess[str]:
    tool = Path(sys.executable).parent / "check-jsonschema"
    return subprocess.run(
        [str(tool), "--builtin-schema", "vendor.github-workflows", *map(str, paths)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def load(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = yaml.safe_load((WORKFLOWS / name).read_text())
    doc["on"] = doc.pop(True)  # YAML 1.1 reads the key `on` as a boolean
    return doc


def steps(doc: dict[str, Any], job: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = doc["jobs"][job]["steps"]
    return found


def test_every_workflow_is_valid_against_githubs_schema() -> None:
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert {p.name for p in files} >= {"ci.yml", "drill.yml"}
    done = validate(*files)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "drill.yml"
    text = (WORKFLOWS / "drill.yml").read_text()
    broken.write_text(text.replace("runs-on: ubuntu-latest", "runs_on: ubuntu-latest"))
    done = validate(broken)
    assert done.returncode == 1
    assert "runs_on" in done.stdout + done.stderr


def test_ci_runs_the_readme_test_command() -> None:
    doc = load("ci.yml")
    assert "pull_request" in doc["on"]
    assert any(s.get("run") == "make test" for s in steps(doc, "test"))


def test_the_nightly_drill_is_scheduled_guarded_and_runs_the_drill_command() -> None:
    doc = load("drill.yml")
    assert doc["on"]["schedule"][0]["cron"]
    assert "workflow_dispatch" in doc["on"]
    assert doc["jobs"]["drill"]["if"].replace(" ", "") == "${{vars.DRILL_ENABLED=='true'}}"
    [drill] = [s for s in steps(doc, "drill") if "incident-response drill" in s.get("run", "")]
    assert '--target "$DRILL_TARGET"' in drill["run"]
    assert drill["env"]["DRILL_TARGET"] == "${{ secrets.DRILL_TARGET_STAGING }}"
    assert drill["env"]["INCIDENT_RESPONSE_TOKEN"] == "${{ secrets.DRILL_API_TOKEN }}"
    assert drill["env"]["INCIDENT_RESPONSE_WEBHOOK_SECRET"] == "${{ secrets.DRILL_WEBHOOK_SECRET }}"


@pytest.mark.parametrize("name", ["ci.yml", "drill.yml"])
def test_workflows_only_read_the_repository(name: str) -> None:
    assert load(name)["permissions"] == {"contents": "read"}
