"""The CI check that keeps the architecture visible: each rule is shown to fail on a planted
violation in a copy of the tree, and the real tree passes."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def copy_of_tree(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(ROOT / "scripts", root / "scripts")
    shutil.copytree(
        ROOT / "src", root / "src", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    return root


def run_check(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(root / "scripts" / "check_architecture.py")],
        capture_output=True,
        text=True,
        check=False,
    )


def plant(root: Path, relative: str, text: str) -> None:
    path = root / "src" / "incident_response" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def test_the_real_tree_passes(tmp_path: Path) -> None:
    done = run_check(copy_of_tree(tmp_path))

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    ("relative", "text", "complaint"),
    [
        (
            "services/planted.py",
            "from incident_response.adapters.embedded.db import Database\n",
            "core module imports an adapter",
        ),
        ("services/planted.py", "import httpx\n", "core module imports a vendor SDK (httpx)"),
        ("commands/planted.py", "import aiohttp\n", "vendor SDK (aiohttp)"),
        ("events/planted.py", "from urllib.request import urlopen\n", "(urllib.request)"),
        ("intake/planted.py", "import requests\n", "(requests)"),
        # telemetry: through incident_response.telemetry and the Metrics port only
        ("services/planted.py", "from opentelemetry import trace\n", "(opentelemetry)"),
        ("ports.py", "import boto3\n", "(boto3)"),
        ("domain/planted.py", "import sqlite3\n", "(sqlite3)"),
        (
            "domain/planted.py",
            "from incident_response.services.nudges import NudgeScheduler\n",
            "the domain imports incident_response.services.nudges",
        ),
        (
            "adapters/slack/planted.py",
            "from incident_response.adapters.statuspage.builtin import BuiltinStatusPage\n",
            "adapter slack imports another adapter",
        ),
        ("services/planted.py", "from . import nudges\n", "relative import (.)"),
        ("adapters/slack/planted.py", "from .client import SlackWebApi\n", "relative import"),
    ],
)
def test_a_planted_violation_fails_the_check(
    tmp_path: Path, relative: str, text: str, complaint: str
) -> None:
    root = copy_of_tree(tmp_path)
    plant(root, relative, text)

    done = run_check(root)

    assert done.returncode == 1
    assert complaint in done.stdout
    assert f"{relative.split('/')[-1]}:1" in done.stdout


@pytest.mark.parametrize(
    ("relative", "text", "word"),
    [
        (
            "services/planted.py",
            'def who(chat_id: str) -> str:\n    return f"<@{chat_id}>"\n',
            "<@",
        ),
        ("services/nudges.py", 'LOUD = "<!here> the IC is not answering"\n', "<!here"),
        ("commands/planted.py", 'ALL = "<!channel>"\n', "<!channel"),
        ("events/planted.py", "def reply(response_url: str) -> None: ...\n", "response_url"),
        ("intake/planted.py", "# opened with the click's trigger_id\n", "trigger_id"),
        ("domain/planted.py", 'KEY = "message_ts"\n', "message_ts"),
        ("ports.py", 'MENTION = "<@{id}>"\n', "<@"),
    ],
)
def test_slack_words_in_a_core_module_fail_the_check(
    tmp_path: Path, relative: str, text: str, word: str
) -> None:
    root = copy_of_tree(tmp_path)
    path = root / "src" / "incident_response" / relative
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text((path.read_text() if path.exists() else "") + text)
    line = len(path.read_text().splitlines())

    done = run_check(root)

    assert done.returncode == 1
    assert f"{relative.split('/')[-1]}:{line}: core module speaks Slack ({word!r})" in done.stdout


def test_slack_words_in_the_slack_adapter_are_its_own_business(tmp_path: Path) -> None:
    root = copy_of_tree(tmp_path)
    plant(root, "adapters/slack/planted.py", 'HERE = "<!here>"\nURL = "response_url"\n')
    plant(root, "web/planted.py", 'MENTION = "<@U123>"\n')

    done = run_check(root)

    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize(
    "sibling", ["check_publish_callers.py", "check_slack_clients.py", "check_http_clients.py"]
)
def test_a_missing_sibling_check_fails_rather_than_passing_unseen(
    tmp_path: Path, sibling: str
) -> None:
    root = copy_of_tree(tmp_path)
    (root / "scripts" / sibling).unlink()

    done = run_check(root)

    assert done.returncode == 1
    assert f"{sibling}: the sibling check is missing" in done.stdout


def test_a_failing_sibling_check_fails_the_build(tmp_path: Path) -> None:
    root = copy_of_tree(tmp_path)
    plant(
        root,
        "services/planted.py",
        "async def leak(page, request):\n    await page.publish(request)\n",
    )

    done = run_check(root)

    assert done.returncode == 1
    assert "check_publish_callers.py: failed" in done.stdout
