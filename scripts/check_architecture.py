#!/usr/bin/env python3
"""CI guard for the architecture's import rules (stdlib only).

- The core (domain, ports, services, commands, events, intake) imports no adapter and no vendor SDK.
- The domain imports nothing outside the domain.
- An adapter package imports no other adapter package; the embedded database module is the one
  shared piece (the console and built-in status page live in the embedded default's SQLite file).
- The core speaks no vendor: Slack's markup (`<@U123>`, `<!here>`, `<!channel>`) and the words of
  Slack's requests (`response_url`, `trigger_id`, `message_ts`) appear nowhere in a core module,
  comments included; the chat adapter spells mentions (`Chat.mention`) and handles interactions.
- Imports are absolute: a relative import (`from . import x`) hides which layer it reaches into,
  so this check could not see it.
- The sibling checks run too, and a missing one fails the build rather than passing unseen:
  only the StatusUpdateGate calls a StatusPage's publish (scripts/check_publish_callers.py), and
  only the Slack adapter builds Slack clients (scripts/check_slack_clients.py), and only the
  outbound HTTP policy opens HTTP clients (scripts/check_http_clients.py).

Exits 1 naming file:line for every violation.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "incident_response"
CORE = ("domain", "services", "commands", "events", "intake", "ports.py")
VENDOR_SDKS = (
    "slack_sdk",
    "slack_bolt",
    "boto3",
    "botocore",
    "aiobotocore",
    "aiosqlite",
    "sqlite3",
    "fastapi",
    "starlette",
    "uvicorn",
    # every HTTP client library: the core reaches the network only through a port's adapter
    "httpx",
    "aiohttp",
    "requests",
    "urllib3",
    "urllib.request",
    "http.client",
    "websockets",
    # telemetry: the core traces through incident_response.telemetry.tracing and records
    # metrics through the Metrics port; the SDK is set up in telemetry/otel.py alone
    "opentelemetry",
    "prometheus_client",
)
SLACK_WORDS = (
    "<@",
    "<!here",
    "<!channel",
    "<!everyone",
    "response_url",
    "trigger_id",
    "message_ts",
)
SIBLING_CHECKS = ("check_publish_callers.py", "check_slack_clients.py", "check_http_clients.py")
SHARED_ADAPTER_MODULES = ("incident_response.adapters.embedded.db",)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    """(line, module) for every import; a relative import yields its dots (`.`, `..x`)."""
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, "." * node.level + (node.module or "")


def is_vendor(module: str) -> bool:
    return any(module == sdk or module.startswith(sdk + ".") for sdk in VENDOR_SDKS)


def slack_words(path: Path, where: str) -> Iterator[str]:
    """file:line for every line of a core module that uses Slack's markup or request words."""
    for line, text in enumerate(path.read_text().splitlines(), start=1):
        for word in SLACK_WORDS:
            if word in text:
                yield f"{where}:{line}: core module speaks Slack ({word!r}): leave it to the adapter"


def violations(package: Path) -> Iterator[str]:
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package)
        top = rel.parts[0]
        if top in CORE:
            yield from slack_words(path, str(path.relative_to(package.parents[1])))
        for line, module in imports(path):
            where = f"{path.relative_to(package.parents[1])}:{line}"
            if module.startswith("."):
                yield f"{where}: relative import ({module}): import incident_response.… instead"
                continue
            if top in CORE:
                if module.startswith("incident_response.adapters"):
                    yield f"{where}: core module imports an adapter ({module})"
                if is_vendor(module):
                    yield f"{where}: core module imports a vendor SDK ({module})"
            if (
                top == "domain"
                and module.startswith("incident_response.")
                and not module.startswith("incident_response.domain")
            ):
                yield f"{where}: the domain imports {module}"
            if (
                top == "adapters"
                and len(rel.parts) > 2
                and module.startswith("incident_response.adapters.")
            ):
                own = f"incident_response.adapters.{rel.parts[1]}"
                if not module.startswith(own) and module not in SHARED_ADAPTER_MODULES:
                    yield f"{where}: adapter {rel.parts[1]} imports another adapter ({module})"


def sibling_failures(scripts: Path) -> list[str]:
    """Run each sibling check; a missing or failing one is a failure of this check too."""
    failed = []
    for name in SIBLING_CHECKS:
        script = scripts / name
        if not script.exists():
            failed.append(f"{script}: the sibling check is missing")
        elif subprocess.call([sys.executable, str(script)]) != 0:
            failed.append(f"{script}: failed (see above)")
    return failed


def main() -> int:
    found = list(violations(PACKAGE))
    for problem in found:
        print(problem)
    siblings = sibling_failures(ROOT / "scripts")
    for problem in siblings:
        print(problem)
    if found:
        print(f"architecture check: {len(found)} violation(s)")
    return 1 if found or siblings else 0


if __name__ == "__main__":
    sys.exit(main())
