#!/usr/bin/env python3
"""CI guard: no secret is committed where it would reach an image or a manifest.

Scans with detect-secrets (Yelp's maintained scanner, pinned in constraints.txt) for private
keys, AWS access keys, Slack tokens (xoxb-/xoxp-/xapp-...) and webhooks, GitHub, Stripe, SendGrid,
Twilio and JSON web tokens, credentials in URLs and high-entropy strings (the tell of a
random key assigned to a name), and refuses key files by name (`.env`, `*.pem`, `*.key`,
`id_rsa`...). Its keyword plugin is left out: it flags every *name* of a secret setting
(`WEBHOOK_SECRET = "INCIDENT_RESPONSE_WEBHOOK_SECRET"`), which this code base is full of.

What it scans: the repository (deploy/, src/, docs/, scripts/, .ci/, bench/ and the top-level
files), not tests/ and evals/: their fixtures carry fake credentials on purpose (the privacy
redaction tests need them) and neither goes into the image. A line that must stay and is not
a secret carries `pragma: allowlist secret` (detect-secrets' own marker).

Usage: check_secrets.py [ROOT]   (default: this repository). Exits 1 naming file:line and kind.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

from detect_secrets.core.scan import scan_file
from detect_secrets.settings import transient_settings

SKIPPED_DIRS = frozenset(
    {
        ".git",
        ".venv",
        "venv",
        "node_modules",
        "__pycache__",
        ".mypy_cache",
        ".ruff_cache",
        ".pytest_cache",
        ".test-output",
        ".incident-response",
        "tests",
        "evals",
    }
)
BINARY = frozenset({".png", ".jpg", ".jpeg", ".gif", ".ico", ".webp", ".woff", ".woff2", ".sqlite"})
KEY_FILE_NAMES = frozenset({".env", "id_rsa", "id_dsa", "id_ecdsa", "id_ed25519", ".npmrc"})
KEY_FILE_SUFFIXES = frozenset({".pem", ".key", ".p12", ".pfx", ".jks"})
PLUGINS = [
    {"name": "ArtifactoryDetector"},
    {"name": "AWSKeyDetector"},
    {"name": "AzureStorageKeyDetector"},
    {"name": "Base64HighEntropyString", "limit": 4.5},
    {"name": "BasicAuthDetector"},
    {"name": "DiscordBotTokenDetector"},
    {"name": "GitHubTokenDetector"},
    {"name": "GitLabTokenDetector"},
    {"name": "HexHighEntropyString", "limit": 3.0},
    {"name": "JwtTokenDetector"},
    {"name": "OpenAIDetector"},
    {"name": "PrivateKeyDetector"},
    {"name": "SendGridDetector"},
    {"name": "SlackDetector"},
    {"name": "StripeDetector"},
    {"name": "TwilioKeyDetector"},
]


def files(root: Path) -> Iterator[Path]:
    for folder, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(folder) / name
            if path.suffix.lower() not in BINARY and not path.is_symlink():
                yield path


def findings(root: Path) -> list[str]:
    found: list[str] = []
    with transient_settings({"plugins_used": PLUGINS}):
        for path in files(root):
            shown = path.relative_to(root)
            if path.name in KEY_FILE_NAMES or path.suffix.lower() in KEY_FILE_SUFFIXES:
                found.append(f"{shown}: a key or credentials file must not be committed")
                continue
            for secret in scan_file(str(path)):
                found.append(f"{shown}:{secret.line_number}: {secret.type}")
    return found


def main(argv: list[str]) -> int:
    root = Path(argv[1]) if len(argv) > 1 else Path(__file__).resolve().parents[1]
    found = findings(root.resolve())
    for line in found:
        print(f"{line} (a secret belongs in Secrets Manager: docs/ci.md)")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
