"""The CI check that keeps secrets out of the image and the manifests: each kind is planted in a
copy (the planted values are built from pieces so this file holds none whole) and must be caught,
naming file, line and kind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_secrets.py"
SLACK_TOKEN = "xoxb-" + "2403917465-5120348817263-" + "kq7RzV4dNw1mXo8pLs2TyUe3"
AWS_KEY = "AKIA" + "Z7QW3RTY2UIOPBSD"
PRIVATE_KEY = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\nMIIEpAIBAAKCAQEA\n-----END RSA PRIVATE KEY-----"
)
RANDOM_KEY = "q8Zr2LmX0vT9" + "bN4cW7yK1pE6hJ3sUa5fGd"

CLEAN = {
    "src/incident_response/config.py": 'WEBHOOK_SECRET = "INCIDENT_RESPONSE_WEBHOOK_SECRET"\n',
    "deploy/chart/values.yaml": "image:\n  repository: incident-response\n",
    "deploy/Dockerfile": "FROM python:3.11-slim\nUSER 10001\n",
}


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {**CLEAN, **files}.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_real_tree_holds_no_secret() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout


def test_a_clean_copy_passes_and_secret_names_alone_are_not_secrets(tmp_path: Path) -> None:
    result = run_check(str(tree(tmp_path, {})))
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("name", "text", "kind"),
    [
        ("deploy/chart/values.yaml", f"slack:\n  botToken: {SLACK_TOKEN}\n", "Slack Token"),
        ("deploy/Dockerfile", f"FROM python:3.11-slim\nENV AWS_ACCESS_KEY_ID={AWS_KEY}\n", "AWS"),
        ("deploy/chart/templates/tls.yaml", f"data:\n{PRIVATE_KEY}\n", "Private Key"),
        ("src/incident_response/keys.py", f'SIGNING = "{RANDOM_KEY}"\n', "High Entropy"),
        (
            "deploy/chart/values-production.yaml",
            "url: https://admin:hunter2secret@db.internal/\n",
            "Basic Auth",
        ),
    ],
)
def test_a_planted_secret_fails_naming_file_line_and_kind(
    tmp_path: Path, name: str, text: str, kind: str
) -> None:
    result = run_check(str(tree(tmp_path, {name: text})))

    assert result.returncode == 1
    lines = [line for line in result.stdout.splitlines() if line.startswith(f"{name}:")]
    assert any(kind in line for line in lines), result.stdout
    assert all("a secret belongs in Secrets Manager" in line for line in lines)


def test_a_committed_key_file_fails_by_its_name(tmp_path: Path) -> None:
    result = run_check(str(tree(tmp_path, {"deploy/tls.pem": "placeholder\n", ".env": "A=b\n"})))

    assert result.returncode == 1
    assert "deploy/tls.pem: a key or credentials file must not be committed" in result.stdout
    assert ".env: a key or credentials file must not be committed" in result.stdout


def test_test_fixtures_and_allowlisted_lines_are_not_reported(tmp_path: Path) -> None:
    files = {
        "tests/fakes/slack.py": f'TOKEN = "{SLACK_TOKEN}"\n',
        "deploy/example.yaml": f"token: {SLACK_TOKEN}  # pragma: allowlist secret\n",
    }
    result = run_check(str(tree(tmp_path, files)))
    assert (result.returncode, result.stdout) == (0, "")
