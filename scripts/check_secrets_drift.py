#!/usr/bin/env python3
"""CI guard: the seeder, the secrets template and the chart's ExternalSecret name the same secrets.

Three places list the secrets of `incident-response/<env>/<name>`:
- the seeder's `SEEDED` (src/incident_response/adapters/aws/secrets_seed.py): the names
  `secrets seed` accepts and the setting each feeds;
- deploy/secrets.template.json: the inventory operators read (setting, required, rotation);
- the chart's ExternalSecret (deploy/chart/templates/externalsecret.yaml): what reaches the pods.

It fails when the seeder and the template differ in a name, a setting or whether it is required,
and, once the chart exists, when the ExternalSecret projects a name the template does not know,
leaves out a secret the service reads from env (`"read_through": "env"`), or projects one into
an env variable other than its setting. The chart format it reads: every
`remoteRef: key: incident-response/<env>/<name>` (the env part may be a Helm expression), with
the `secretKey:` just before it naming the env variable. Without a chart the comparison is
skipped with a message, not failed.

Usage: check_secrets_drift.py [ROOT]   (default: this repository). Exits 1 naming each mismatch.
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

TEMPLATE = Path("deploy") / "secrets.template.json"
CHART = Path("deploy") / "chart" / "templates" / "externalsecret.yaml"
REMOTE_KEY = re.compile(r"^\s*(?:-\s*)?key:\s*[\"']?incident-response/[^/\n]+/([A-Za-z0-9_.-]+)")
SECRET_KEY = re.compile(r"^\s*(?:-\s*)?secretKey:\s*[\"']?([A-Za-z0-9_.-]+)")


def seeder_secrets(root: Path) -> dict[str, tuple[str, bool]]:
    """The seeder's names -> (setting, required), imported from ROOT's own source."""
    sys.path.insert(0, str(root / "src"))
    from incident_response.adapters.aws.secrets_seed import SEEDED

    return {name: (known.setting, known.required) for name, known in SEEDED.items()}


def template_secrets(root: Path) -> dict[str, dict[str, Any]]:
    secrets: dict[str, dict[str, Any]] = json.loads((root / TEMPLATE).read_text())["secrets"]
    return secrets


def chart_refs(text: str) -> list[tuple[str, str | None]]:
    """(secret name, the env variable it is projected into, if named) for each remoteRef."""
    refs: list[tuple[str, str | None]] = []
    secret_key: str | None = None
    for line in text.splitlines():
        if found := SECRET_KEY.match(line):
            secret_key = found.group(1)
        elif found := REMOTE_KEY.match(line):
            refs.append((found.group(1), secret_key))
            secret_key = None
    return refs


def problems(root: Path) -> tuple[list[str], list[str]]:
    """(mismatches, notes)."""
    found: list[str] = []
    notes: list[str] = []
    seeder = seeder_secrets(root)
    template = template_secrets(root)
    for name in sorted(set(seeder) - set(template)):
        found.append(f"{TEMPLATE}: no entry for {name!r}, which the seeder puts")
    for name in sorted(set(template) - set(seeder)):
        found.append(f"{TEMPLATE}: {name!r} is not a secret the seeder knows (secrets_seed.py)")
    for name in sorted(set(seeder) & set(template)):
        setting, required = seeder[name]
        entry = template[name]
        if entry.get("setting") != setting:
            found.append(
                f"{TEMPLATE}: {name!r} feeds {entry.get('setting')!r}, the seeder says {setting!r}"
            )
        if entry.get("required") is not required:
            found.append(
                f"{TEMPLATE}: {name!r} required={entry.get('required')!r},"
                f" the seeder says {required!r}"
            )
    chart = root / CHART
    if not chart.exists():
        notes.append(f"skipped the chart comparison: {CHART} is not there yet")
        return found, notes
    refs = chart_refs(chart.read_text())
    if not refs:
        found.append(
            f"{CHART}: found no remoteRef key incident-response/<env>/<name> (the format this"
            " check reads: see scripts/check_secrets_drift.py)"
        )
        return found, notes
    projected = {name for name, _ in refs}
    for name, secret_key in refs:
        if name not in template:
            found.append(f"{CHART}: remoteRef {name!r} is not in {TEMPLATE}")
        elif secret_key is not None and secret_key != template[name].get("setting"):
            found.append(
                f"{CHART}: remoteRef {name!r} lands in {secret_key!r},"
                f" the template says {template[name].get('setting')!r}"
            )
    for name, entry in sorted(template.items()):
        if entry.get("read_through") == "env" and name not in projected:
            found.append(f"{CHART}: no remoteRef for {name!r}, which the service reads from env")
    return found, notes


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    found, notes = problems(root)
    for note in notes:
        print(f"check_secrets_drift: {note}")
    for problem in found:
        print(f"secret drift: {problem}")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
