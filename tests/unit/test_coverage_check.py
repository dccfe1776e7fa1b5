"""The CI coverage gate: a copy of the gated modules is measured by a small driver; an untaken
branch in one of them, a gated module nobody imports, or a package under the floor must fail."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "check_coverage.py"
GATED = (
    "services/status_update_gate.py",
    "domain/approval.py",
    "domain/audit.py",
    "adapters/embedded/audit_log.py",
    "adapters/aws/dynamodb_audit.py",
)
COVERED = "def check(x):\n    if x:\n        return 1\n    return 0\n"
DRIVER = """
import importlib, sys
sys.path.insert(0, "src")
for module in {modules!r}:
    m = importlib.import_module(module)
    m.check(True)
    if module not in {half!r}:
        m.check(False)
"""


def measure(root: Path, files: dict[str, str | None], *, half: tuple[str, ...] = ()) -> str:
    """Coverage data of a driver calling `check` of each gated module (only one way for the
    modules in `half`; a module given None is not there); returns the data file."""
    modules = []
    for name in GATED:
        files.setdefault(name, COVERED)
    for name, text in files.items():
        if text is None:
            continue
        path = root / "src" / "incident_response" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        for package in path.relative_to(root / "src").parents:
            if package != Path("."):
                (root / "src" / package / "__init__.py").touch()
        if name in GATED:
            modules.append("incident_response." + name.removesuffix(".py").replace("/", "."))
    halves = ["incident_response." + h.removesuffix(".py").replace("/", ".") for h in half]
    (root / "driver.py").write_text(DRIVER.format(modules=modules, half=halves))
    data = str(root / "coverage-data")
    subprocess.run(
        [
            *(sys.executable, "-m", "coverage", "run", "--branch"),
            *(f"--data-file={data}", f"--source={root / 'src'}", "driver.py"),
        ],
        cwd=root,
        check=True,
        capture_output=True,
    )
    return data


def run_check(data: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(SCRIPT), data], capture_output=True, text=True, check=False
    )


def test_fully_covered_gated_modules_pass(tmp_path: Path) -> None:
    result = run_check(measure(tmp_path, {}))
    assert (result.returncode, result.stdout) == (0, "")


def test_an_untaken_branch_in_the_audit_log_fails_naming_it(tmp_path: Path) -> None:
    result = run_check(measure(tmp_path, {}, half=("adapters/embedded/audit_log.py",)))

    assert result.returncode == 1
    assert "incident_response/adapters/embedded/audit_log.py:" in result.stdout
    assert "must be 100%" in result.stdout
    assert "approval.py" not in result.stdout


def test_an_untaken_branch_in_the_approval_gate_fails(tmp_path: Path) -> None:
    result = run_check(measure(tmp_path, {}, half=("services/status_update_gate.py",)))

    assert result.returncode == 1
    assert "incident_response/services/status_update_gate.py:" in result.stdout


def test_a_gated_module_nobody_measured_fails(tmp_path: Path) -> None:
    renamed: dict[str, str | None] = {"domain/audit.py": None, "domain/audit_chain.py": COVERED}
    result = run_check(measure(tmp_path, renamed))

    assert result.returncode == 1
    assert "incident_response/domain/audit.py: not measured" in result.stdout


def test_a_package_under_the_floor_fails(tmp_path: Path) -> None:
    untested = "".join(f"def f{i}(x):\n    return x + {i}\n" for i in range(200))
    result = run_check(measure(tmp_path, {"services/untested.py": untested}))

    assert result.returncode == 1
    assert "the whole package:" in result.stdout
    assert "under the floor" in result.stdout


def test_no_coverage_data_fails_clearly(tmp_path: Path) -> None:
    result = run_check(str(tmp_path / "none"))

    assert result.returncode == 1
    assert "no coverage data" in result.stdout
