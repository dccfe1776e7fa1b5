"""The CI check that keeps the seeder, deploy/secrets.template.json and the chart's ExternalSecret
naming the same secrets: each disagreement is planted in a copy and must be caught."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "check_secrets_drift.py"
SEEDER = Path("src/incident_response/adapters/aws/secrets_seed.py")
TEMPLATE = Path("deploy/secrets.template.json")
CHART = Path("deploy/chart/templates/externalsecret.yaml")


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def copy(root: Path) -> Path:
    shutil.copytree(
        REPO / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (root / TEMPLATE).parent.mkdir(parents=True)
    shutil.copy(REPO / TEMPLATE, root / TEMPLATE)
    return root


def template(root: Path) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((root / TEMPLATE).read_text())
    return loaded


def write_template(root: Path, data: dict[str, Any]) -> None:
    (root / TEMPLATE).write_text(json.dumps(data))


def chart(root: Path, refs: dict[str, str]) -> None:
    """An ExternalSecret in the chart's templated form, projecting each name into its setting."""
    lines = [
        "apiVersion: external-secrets.io/v1beta1",
        "kind: ExternalSecret",
        "spec:",
        "  data:",
    ]
    for name, setting in refs.items():
        lines += [
            f"    - secretKey: {setting}",
            "      remoteRef:",
            f"        key: incident-response/{{{{ .Values.environment }}}}/{name}",
        ]
    (root / CHART).parent.mkdir(parents=True, exist_ok=True)
    (root / CHART).write_text("\n".join(lines) + "\n")


def every_ref(root: Path) -> dict[str, str]:
    return {name: entry["setting"] for name, entry in template(root)["secrets"].items()}


def test_the_real_tree_agrees() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout


def test_a_copy_without_a_chart_passes_and_says_the_chart_comparison_was_skipped(
    tmp_path: Path,
) -> None:
    result = run_check(str(copy(tmp_path)))
    assert result.returncode == 0, result.stdout
    assert "skipped the chart comparison" in result.stdout


def test_a_secret_the_template_lacks_fails(tmp_path: Path) -> None:
    root = copy(tmp_path)
    data = template(root)
    del data["secrets"]["linear-api-key"]
    write_template(root, data)

    result = run_check(str(root))

    assert result.returncode == 1
    assert "no entry for 'linear-api-key', which the seeder puts" in result.stdout


def test_a_secret_the_seeder_does_not_know_fails(tmp_path: Path) -> None:
    root = copy(tmp_path)
    source = (root / SEEDER).read_text()
    (root / SEEDER).write_text(
        source.replace('    "linear-api-key": Seeded("LINEAR_API_KEY"),\n', "")
    )

    result = run_check(str(root))

    assert result.returncode == 1
    assert "'linear-api-key' is not a secret the seeder knows" in result.stdout


def test_a_different_setting_or_required_flag_fails(tmp_path: Path) -> None:
    root = copy(tmp_path)
    data = template(root)
    data["secrets"]["slack-bot-token"]["setting"] = "SLACK_TOKEN"
    data["secrets"]["slack-signing-secret"]["required"] = False
    write_template(root, data)

    result = run_check(str(root))

    assert result.returncode == 1
    assert "'slack-bot-token' feeds 'SLACK_TOKEN', the seeder says 'SLACK_BOT_TOKEN'" in (
        result.stdout
    )
    assert "'slack-signing-secret' required=False, the seeder says True" in result.stdout


def test_a_chart_that_agrees_passes(tmp_path: Path) -> None:
    root = copy(tmp_path)
    chart(root, every_ref(root))

    result = run_check(str(root))

    assert (result.returncode, result.stdout) == (0, "")


def test_a_chart_that_projects_an_unknown_name_misses_one_or_misroutes_one_fails(
    tmp_path: Path,
) -> None:
    root = copy(tmp_path)
    refs = every_ref(root)
    del refs["statuspage-api-key"]
    refs["pagerduty-token"] = "PAGERDUTY_TOKEN"
    refs["slack-bot-token"] = "SLACK_APP_TOKEN"
    chart(root, refs)

    result = run_check(str(root))

    assert result.returncode == 1
    assert "remoteRef 'pagerduty-token' is not in deploy/secrets.template.json" in result.stdout
    assert "no remoteRef for 'statuspage-api-key', which the service reads from env" in (
        result.stdout
    )
    assert "remoteRef 'slack-bot-token' lands in 'SLACK_APP_TOKEN'" in result.stdout


def test_a_chart_without_readable_remote_refs_fails_saying_the_format(tmp_path: Path) -> None:
    root = copy(tmp_path)
    (root / CHART).parent.mkdir(parents=True)
    (root / CHART).write_text("kind: ExternalSecret\nspec:\n  dataFrom: []\n")

    result = run_check(str(root))

    assert result.returncode == 1
    assert "found no remoteRef key incident-response/<env>/<name>" in result.stdout
