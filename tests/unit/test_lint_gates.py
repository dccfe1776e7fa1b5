"""The ruff and mypy gates, run with the repository's own configuration (pyproject.toml) on a
small copy: a planted violation fails each, the clean module passes. (The gates themselves run
on the whole tree in `make lint` / `make typecheck`.)"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CLEAN = '''"""A clean module."""

from __future__ import annotations


def double(value: int) -> int:
    return value * 2
'''


def tree(root: Path, source: str) -> Path:
    shutil.copy(REPO / "pyproject.toml", root / "pyproject.toml")
    package = root / "src" / "incident_response"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "planted.py").write_text(source)
    return root


def ruff(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "check", "--no-cache", "src"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def ruff_format(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "src"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def mypy(root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(root / ".mypy"), "src"],
        cwd=root,
        capture_output=True,
        text=True,
        check=False,
    )


def test_a_clean_module_passes_ruff_format_check_and_mypy(tmp_path: Path) -> None:
    root = tree(tmp_path, CLEAN)
    assert ruff(root).returncode == 0, ruff(root).stdout
    assert ruff_format(root).returncode == 0, ruff_format(root).stdout
    result = mypy(root)
    assert result.returncode == 0, result.stdout


@pytest.mark.parametrize(
    ("source", "rule"),
    [
        (CLEAN + "import os\n", "F401"),
        (CLEAN.replace("from __future__ import annotations\n", "import sys\nimport os\n"), "I001"),
        (CLEAN + "\n\ndef f(x: list[int] = []) -> None:\n    pass\n", "B006"),
    ],
)
def test_a_planted_lint_violation_fails_ruff_naming_the_rule(
    tmp_path: Path, source: str, rule: str
) -> None:
    result = ruff(tree(tmp_path, source))

    assert result.returncode == 1
    assert rule in result.stdout
    assert "src/incident_response/planted.py" in result.stdout


def test_planted_unformatted_code_fails_the_format_check(tmp_path: Path) -> None:
    result = ruff_format(tree(tmp_path, CLEAN.replace("value * 2", "value*2")))

    assert result.returncode == 1
    assert "planted.py" in result.stdout


@pytest.mark.parametrize(
    ("source", "error"),
    [
        (CLEAN + "\n\ndef untyped(x):\n    return x\n", "no-untyped-def"),
        (CLEAN + '\n\ndef wrong() -> int:\n    return "x"\n', "return-value"),
    ],
)
def test_a_planted_type_error_fails_mypy_strict(tmp_path: Path, source: str, error: str) -> None:
    result = mypy(tree(tmp_path, source))

    assert result.returncode == 1
    assert error in result.stdout
    assert "planted.py" in result.stdout
