#!/usr/bin/env python3
"""CI guard: only the StatusUpdateGate may publish to the status page (stdlib only).

Every module under `src/` except `incident_response/services/status_update_gate.py` is parsed,
and any use of an attribute named `publish` fails the build: a call (`page.publish(...)`), a
reference that could be called later (`post = page.publish`) or `getattr(x, "publish")`.
Defining a method named `publish` (an adapter implementing the port) is fine.

Usage: check_publish_callers.py [ROOT]   (ROOT holds `src/`; default: this repository)
Exits 1 naming file:line for every violation.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ALLOWED = Path("incident_response") / "services" / "status_update_gate.py"
NAME = "publish"


def uses(tree: ast.AST) -> Iterator[tuple[int, str]]:
    called: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr == NAME:
                called.add(id(func))
                yield node.lineno, f"calls .{NAME}()"
            elif (
                isinstance(func, ast.Name)
                and func.id == "getattr"
                and len(node.args) >= 2
                and isinstance(node.args[1], ast.Constant)
                and node.args[1].value == NAME
            ):
                yield node.lineno, f'looks up "{NAME}" with getattr()'
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr == NAME
            and isinstance(node.ctx, ast.Load)
            and id(node) not in called
        ):
            yield node.lineno, f"takes a reference to .{NAME}"


def violations(root: Path) -> Iterator[str]:
    src = root / "src"
    for path in sorted(src.rglob("*.py")):
        if path.relative_to(src) == ALLOWED:
            continue
        where = path.relative_to(root).as_posix()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            yield f"{where}:{exc.lineno or 0}: cannot be parsed, so it cannot be checked"
            continue
        for line, what in sorted(uses(tree)):
            yield (
                f"{where}:{line}: {what}; only {(Path('src') / ALLOWED).as_posix()} may "
                "publish to the status page"
            )


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    if not (root / "src").is_dir():
        print(f"{root}: no src/ directory to check", file=sys.stderr)
        return 2
    found = list(violations(root))
    for problem in found:
        print(problem)
    if found:
        print(f"publish callers check: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
