"""Builds the GitHub code host from settings (integration "github")."""

from __future__ import annotations

import re

from incident_response.adapters.github.code_host import GitHubCodeHost
from incident_response.http import CallPolicy
from incident_response.integrations import Contribution, Wiring

API_VERSION = "2022-11-28"


def repo_names(value: str) -> list[str]:
    """GITHUB_REPO_NAMES: repository names under the org, separated by commas or spaces."""
    names = [n.strip() for n in re.split(r"[,\s]+", value) if n.strip()]
    return list(dict.fromkeys(n.rsplit("/", 1)[-1] for n in names))


def headers(token: str) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {token}",
        "Accept": "application/vnd.github+json",
        "X-GitHub-Api-Version": API_VERSION,
    }


async def build(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    client = wiring.http.vendor(
        "github",
        base_url=settings.vendor_url("GITHUB_API_URL"),
        headers=headers(settings.value_of("GITHUB_TOKEN") or ""),
        policy=CallPolicy(timeout=settings.incident_response_http_call_timeout_seconds),
    )
    code_host = GitHubCodeHost(
        client=client,
        org=settings.value_of("GITHUB_ORG_SLUG") or "",
        repos=repo_names(settings.value_of("GITHUB_REPO_NAMES") or ""),
        clock=wiring.clock,
    )
    return Contribution(code_host=code_host)
