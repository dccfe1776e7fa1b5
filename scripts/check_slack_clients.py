#!/usr/bin/env python3
"""CI guard: the only module that constructs a Slack client is the Slack adapter (stdlib only).

The rule, precisely:
- Clients that talk to Slack's servers (slack_sdk's WebClient, AsyncWebClient, LegacyWebClient,
  WebhookClient, AsyncWebhookClient, RTMClient, every SocketModeClient, and slack_bolt's Socket
  Mode handlers) are constructed only in `incident_response/adapters/slack/client.py`.
- The Bolt app (slack_bolt's App / AsyncApp) is constructed only in
  `incident_response/adapters/slack/front.py`, and always with `client=`, so the app uses the
  adapter's client instead of building its own.

Every module under `src/` is parsed; names are followed through imports and aliases
(`from slack_sdk import AsyncWebClient as W`, `import slack_sdk as s; s.WebClient(...)`),
`getattr(module, "AsyncWebClient")` and subclasses defined elsewhere count as constructing.

Usage: check_slack_clients.py [ROOT]   (ROOT holds `src/`; default: this repository)
Exits 1 naming file:line for every violation.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

ADAPTER = Path("incident_response") / "adapters" / "slack"
CLIENT_MODULE = ADAPTER / "client.py"
APP_MODULE = ADAPTER / "front.py"
SLACK_PACKAGES = ("slack_sdk", "slack_bolt", "slack")
CLIENTS = frozenset(
    {
        "WebClient",
        "AsyncWebClient",
        "LegacyWebClient",
        "BaseClient",
        "AsyncBaseClient",
        "WebhookClient",
        "AsyncWebhookClient",
        "RTMClient",
        "SocketModeClient",
        "SocketModeHandler",
        "AsyncSocketModeHandler",
    }
)
APPS = frozenset({"App", "AsyncApp"})


def _slack_names(tree: ast.AST) -> tuple[dict[str, str], set[str]]:
    """(local name -> Slack class it stands for, local names bound to Slack modules)."""
    classes: dict[str, str] = {}
    modules: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.split(".")[0] not in SLACK_PACKAGES:
                continue
            for alias in node.names:
                local = alias.asname or alias.name
                if alias.name in CLIENTS | APPS:
                    classes[local] = alias.name
                else:
                    modules.add(local)  # a submodule (`from slack_sdk import web`)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] in SLACK_PACKAGES:
                    modules.add(alias.asname or alias.name.split(".")[0])
    return classes, modules


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _constructed(node: ast.expr, classes: dict[str, str], modules: set[str]) -> str | None:
    """The Slack class `node` names, if it names one."""
    if isinstance(node, ast.Name):
        return classes.get(node.id)
    if isinstance(node, ast.Attribute) and node.attr in CLIENTS | APPS:
        return node.attr if _root(node) in modules else None
    return None


def constructions(tree: ast.AST) -> Iterator[tuple[int, str, bool]]:
    """(line, Slack class, whether `client=` was passed) for each construction in `tree`."""
    classes, modules = _slack_names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                name = _constructed(base, classes, modules)
                if name is not None:
                    classes[node.name] = name
                    yield node.lineno, name, False
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = _constructed(node.func, classes, modules)
        if (
            name is None
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and node.args[1].value in CLIENTS | APPS
            and isinstance(node.args[0], ast.expr)
            and _root(node.args[0]) in modules
        ):
            name = str(node.args[1].value)
        if name is not None:
            has_client = any(k.arg == "client" for k in node.keywords)
            yield node.lineno, name, has_client


def violations(root: Path) -> Iterator[str]:
    src = root / "src"
    for path in sorted(src.rglob("*.py")):
        rel = path.relative_to(src)
        where = path.relative_to(root).as_posix()
        try:
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        except SyntaxError as exc:
            yield f"{where}:{exc.lineno or 0}: cannot be parsed, so it cannot be checked"
            continue
        for line, name, has_client in sorted(constructions(tree)):
            if name in APPS:
                if rel != APP_MODULE:
                    yield (
                        f"{where}:{line}: constructs {name}; only "
                        f"src/{APP_MODULE.as_posix()} may build the Bolt app"
                    )
                elif not has_client:
                    yield (
                        f"{where}:{line}: constructs {name} without client=; the app must use "
                        f"the client made in src/{CLIENT_MODULE.as_posix()}"
                    )
            elif rel != CLIENT_MODULE:
                yield (
                    f"{where}:{line}: constructs {name}; only src/{CLIENT_MODULE.as_posix()} "
                    "may construct a Slack client"
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
        print(f"slack clients check: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
