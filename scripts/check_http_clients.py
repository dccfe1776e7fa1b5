#!/usr/bin/env python3
"""CI guard: only the outbound HTTP policy opens HTTP clients (stdlib only).

The rule, precisely: constructing an HTTP client or making a one-shot request with an HTTP
library happens only in `incident_response/http.py`, where every vendor call gets its timeout,
retries, circuit breaker and span. The one exception is the Slack adapter's client module, which
hands slack_sdk the aiohttp session slack_sdk requires (`scripts/check_slack_clients.py` keeps
every Slack client there).

What counts: httpx's `Client`, `AsyncClient` and its one-shot functions (`httpx.get`, ...),
aiohttp's `ClientSession` and its one-shot `request`, `requests` (any use), `urllib.request`'s
`urlopen`/`Request`, `http.client`'s connections, and the vendor SDK clients that bring their own
transport (`anthropic.Anthropic`, `openai.OpenAI` and their async twins). Names are followed
through imports and aliases (`import httpx as h; h.AsyncClient()`, `from httpx import AsyncClient
as C`), and `getattr(module, "AsyncClient")` counts too.

Usage: check_http_clients.py [ROOT]   (ROOT holds `src/`; default: this repository)
Exits 1 naming file:line for every violation.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

POLICY = Path("incident_response") / "http.py"
ALLOWED: dict[Path, frozenset[str]] = {
    POLICY: frozenset({"*"}),
    Path("incident_response") / "adapters" / "slack" / "client.py": frozenset(
        {"aiohttp.ClientSession"}
    ),
}
FORBIDDEN: dict[str, frozenset[str]] = {
    "httpx": frozenset(
        {
            "Client",
            "AsyncClient",
            "get",
            "post",
            "put",
            "patch",
            "delete",
            "head",
            "options",
            "request",
            "stream",
        }
    ),
    "aiohttp": frozenset({"ClientSession", "request"}),
    "requests": frozenset({"*"}),
    "urllib.request": frozenset({"urlopen", "Request", "build_opener"}),
    "http.client": frozenset({"HTTPConnection", "HTTPSConnection"}),
    "anthropic": frozenset({"Anthropic", "AsyncAnthropic", "AnthropicBedrock"}),
    "openai": frozenset({"OpenAI", "AsyncOpenAI"}),
}


def _names(tree: ast.AST) -> tuple[dict[str, str], dict[str, str]]:
    """(local name -> "module.Name" it stands for, local name -> module it is bound to)."""
    names: dict[str, str] = {}
    modules: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                for module in FORBIDDEN:
                    if alias.name == module or alias.name.startswith(module + "."):
                        if alias.asname:
                            modules[alias.asname] = alias.name
                        else:
                            modules[alias.name.split(".")[0]] = alias.name.split(".")[0]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module in FORBIDDEN:
                for alias in node.names:
                    names[alias.asname or alias.name] = f"{node.module}.{alias.name}"
            for module in FORBIDDEN:  # from urllib import request as r
                parent, _, child = module.rpartition(".")
                if parent and node.module == parent:
                    for alias in node.names:
                        if alias.name == child:
                            modules[alias.asname or alias.name] = module
    return names, modules


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        inner = _dotted(node.value)
        return f"{inner}.{node.attr}" if inner else None
    return None


def _forbidden(qualified: str) -> bool:
    module, _, name = qualified.rpartition(".")
    allowed = FORBIDDEN.get(module)
    return allowed is not None and ("*" in allowed or name in allowed)


def _resolve(node: ast.AST, names: dict[str, str], modules: dict[str, str]) -> str | None:
    dotted = _dotted(node)
    if dotted is None:
        return None
    head, _, rest = dotted.partition(".")
    if head in names and not rest:
        return names[head]
    if head in modules and rest:
        return f"{modules[head]}.{rest}"
    return None


def uses(tree: ast.AST) -> Iterator[tuple[int, str]]:
    """(line, "module.Name") for every client construction or one-shot request in `tree`."""
    names, modules = _names(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            for base in node.bases:
                qualified = _resolve(base, names, modules)
                if qualified and _forbidden(qualified):
                    yield node.lineno, qualified
        if not isinstance(node, ast.Call):
            continue
        qualified = _resolve(node.func, names, modules)
        if (
            qualified is None
            and isinstance(node.func, ast.Name)
            and node.func.id == "getattr"
            and len(node.args) >= 2
            and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str)
        ):
            target = _dotted(node.args[0])
            if target in modules:
                qualified = f"{modules[target]}.{node.args[1].value}"
        if qualified and _forbidden(qualified):
            yield node.lineno, qualified


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
        allowed = ALLOWED.get(rel, frozenset())
        for line, qualified in sorted(set(uses(tree))):
            if "*" in allowed or qualified in allowed:
                continue
            yield (
                f"{where}:{line}: opens its own HTTP client ({qualified}); go through "
                f"src/{POLICY.as_posix()} (OutboundHttp) so the call gets the outbound policy"
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
        print(f"http clients check: {len(found)} violation(s)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
