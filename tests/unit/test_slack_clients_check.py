"""The CI check that keeps the Slack adapter the only place Slack clients are constructed."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_slack_clients.py"

CLIENT = """
from slack_sdk.web.async_client import AsyncWebClient
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler

def web(token):
    return AsyncWebClient(token=token)

def socket(app, token):
    return AsyncSocketModeHandler(app, app_token=token)
"""
FRONT = """
from slack_bolt.async_app import AsyncApp

def build(client):
    return AsyncApp(client=client, signing_secret="s")
"""


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {
        "incident_response/adapters/slack/client.py": CLIENT,
        "incident_response/adapters/slack/front.py": FRONT,
        **files,
    }.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_real_tree_builds_slack_clients_only_in_the_adapter() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout


def test_the_adapter_alone_passes(tmp_path: Path) -> None:
    result = run_check(str(tree(tmp_path, {})))
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    "source",
    [
        "from slack_sdk import WebClient\nclient = WebClient(token='x')\n",
        "from slack_sdk.web.async_client import AsyncWebClient as W\nc = W(token='x')\n",
        "import slack_sdk\nc = slack_sdk.web.async_client.AsyncWebClient(token='x')\n",
        "import slack_sdk.webhook as hooks\nh = hooks.WebhookClient('https://x')\n",
        "from slack_sdk import web\nc = getattr(web, 'AsyncWebClient')(token='x')\n",
        "from slack_sdk.socket_mode.aiohttp import SocketModeClient\ns = SocketModeClient('x')\n",
        "from slack_sdk import AsyncWebClient\nclass Mine(AsyncWebClient):\n    pass\nc = Mine()\n",
        "from slack_bolt.async_app import AsyncApp\napp = AsyncApp(client=None)\n",
    ],
)
def test_a_slack_client_built_elsewhere_fails(tmp_path: Path, source: str) -> None:
    result = run_check(str(tree(tmp_path, {"incident_response/services/sneaky.py": source})))
    assert result.returncode == 1
    assert "src/incident_response/services/sneaky.py:" in result.stdout


def test_the_bolt_app_must_be_given_the_adapters_client(tmp_path: Path) -> None:
    front = "from slack_bolt import AsyncApp\n\ndef build():\n    return AsyncApp(token='x')\n"
    result = run_check(str(tree(tmp_path, {"incident_response/adapters/slack/front.py": front})))
    assert result.returncode == 1
    assert "front.py:4: constructs AsyncApp without client=" in result.stdout


def test_type_annotations_and_unrelated_names_are_fine(tmp_path: Path) -> None:
    source = (
        "from slack_sdk.web.async_client import AsyncWebClient\n"
        "from mylib import WebClient\n"
        "def use(client: AsyncWebClient) -> None:\n"
        "    WebClient()\n"
    )
    result = run_check(str(tree(tmp_path, {"incident_response/adapters/slack/chat.py": source})))
    assert (result.returncode, result.stdout) == (0, "")
