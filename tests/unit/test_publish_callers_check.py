"""The CI check that keeps the StatusUpdateGate the only code that publishes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_publish_callers.py"

GATE = """
async def approve(page, request):
    return await page.publish(request)
"""
ADAPTER = """
class StatusPage:
    async def publish(self, request):
        return request
"""


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, check=False
    )


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in {
        "incident_response/services/status_update_gate.py": GATE,
        "incident_response/adapters/statuspage/builtin.py": ADAPTER,
        **files,
    }.items():
        path = root / "src" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_real_tree_publishes_only_through_the_gate() -> None:
    result = run_check()
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


def test_the_gate_may_publish_and_adapters_may_define_publish(tmp_path: Path) -> None:
    result = run_check(str(tree(tmp_path, {})))
    assert result.returncode == 0, result.stdout


def test_a_call_anywhere_else_fails_naming_file_and_line(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "incident_response/commands/status.py": (
                "async def handle(page, request):\n"
                "    # nothing to see\n"
                "    await page.publish(request)\n"
            ),
            # a file with the gate's name elsewhere is not the gate
            "incident_response/web/status_update_gate.py": "def f(x):\n    x.status_page.publish(1)\n",
        },
    )
    result = run_check(str(root))
    assert result.returncode == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("src/incident_response/commands/status.py:3: calls .publish()")
    assert "only src/incident_response/services/status_update_gate.py may publish" in lines[0]
    assert lines[1].startswith("src/incident_response/web/status_update_gate.py:2: calls")
    assert lines[-1] == "publish callers check: 2 violation(s)"


def test_aliasing_or_looking_publish_up_by_name_fails_too(tmp_path: Path) -> None:
    root = tree(
        tmp_path,
        {
            "incident_response/services/sneaky.py": (
                "def alias(page):\n"
                "    post = page.publish\n"
                "    return post\n"
                "def dynamic(page):\n"
                '    return getattr(page, "publish")\n'
            )
        },
    )
    result = run_check(str(root))
    assert result.returncode == 1
    assert result.stdout.splitlines()[:2] == [
        "src/incident_response/services/sneaky.py:2: takes a reference to .publish; only "
        "src/incident_response/services/status_update_gate.py may publish to the status page",
        'src/incident_response/services/sneaky.py:5: looks up "publish" with getattr(); only '
        "src/incident_response/services/status_update_gate.py may publish to the status page",
    ]


def test_an_unparsable_module_fails_rather_than_passing_unchecked(tmp_path: Path) -> None:
    root = tree(tmp_path, {"incident_response/broken.py": "def (:\n"})
    result = run_check(str(root))
    assert result.returncode == 1
    assert "src/incident_response/broken.py:1: cannot be parsed" in result.stdout


def test_a_root_without_src_is_a_usage_error(tmp_path: Path) -> None:
    result = run_check(str(tmp_path))
    assert result.returncode == 2
    assert "no src/ directory" in result.stderr
