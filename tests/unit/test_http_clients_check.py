"""The CI check that keeps the outbound HTTP policy the only place HTTP clients are opened: each
way round it is planted in a copy and must be caught; the policy module itself may."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_http_clients.py"

POLICY = """
import httpx

def client():
    return httpx.AsyncClient()
"""


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {"incident_response/http.py": POLICY, **files}.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_real_tree_opens_http_clients_only_in_the_policy() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout


def test_the_policy_alone_passes(tmp_path: Path) -> None:
    result = run_check(str(tree(tmp_path, {})))
    assert (result.returncode, result.stdout) == (0, "")


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ("import httpx\nhttpx.AsyncClient()\n", "httpx.AsyncClient"),
        ("import httpx as h\nh.Client(timeout=1)\n", "httpx.Client"),
        ("from httpx import AsyncClient as C\nC()\n", "httpx.AsyncClient"),
        ("import httpx\nhttpx.get('https://x')\n", "httpx.get"),
        ("import httpx\ngetattr(httpx, 'AsyncClient')()\n", "httpx.AsyncClient"),
        (
            "from httpx import AsyncClient\nclass Mine(AsyncClient):\n    pass\n",
            "httpx.AsyncClient",
        ),
        ("import aiohttp\naiohttp.ClientSession()\n", "aiohttp.ClientSession"),
        ("import requests\nrequests.post('https://x')\n", "requests.post"),
        ("from urllib.request import urlopen\nurlopen('https://x')\n", "urllib.request.urlopen"),
        ("import urllib.request\nurllib.request.urlopen('https://x')\n", "urllib.request.urlopen"),
        ("from urllib import request as r\nr.urlopen('https://x')\n", "urllib.request.urlopen"),
        ("import http.client\nhttp.client.HTTPSConnection('x')\n", "http.client.HTTPSConnection"),
        ("from anthropic import AsyncAnthropic\nAsyncAnthropic()\n", "anthropic.AsyncAnthropic"),
        ("import openai\nopenai.AsyncOpenAI()\n", "openai.AsyncOpenAI"),
    ],
)
def test_a_planted_client_anywhere_else_fails_naming_file_and_line(
    tmp_path: Path, source: str, named: str
) -> None:
    root = tree(tmp_path, {"incident_response/adapters/linear/client.py": source})

    result = run_check(str(root))

    assert result.returncode == 1
    assert "src/incident_response/adapters/linear/client.py:" in result.stdout
    assert named in result.stdout
    assert "go through src/incident_response/http.py" in result.stdout


def test_the_slack_client_module_may_open_only_its_aiohttp_session(tmp_path: Path) -> None:
    slack = "incident_response/adapters/slack/client.py"
    allowed = run_check(
        str(tree(tmp_path / "a", {slack: "import aiohttp\naiohttp.ClientSession()\n"}))
    )
    refused = run_check(str(tree(tmp_path / "b", {slack: "import httpx\nhttpx.AsyncClient()\n"})))

    assert allowed.returncode == 0, allowed.stdout
    assert refused.returncode == 1
    assert "httpx.AsyncClient" in refused.stdout


def test_using_httpx_types_without_opening_a_client_is_fine(tmp_path: Path) -> None:
    source = "import httpx\n\ndef f(r: httpx.Response) -> int:\n    return r.status_code\n"
    result = run_check(str(tree(tmp_path, {"incident_response/adapters/x.py": source})))
    assert result.returncode == 0, result.stdout
