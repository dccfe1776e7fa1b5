"""Which adapter serves each port under the current settings.

`config check` prints this plan, and `config check --probe` checks each enabled integration's
credentials (`probe_integrations`) by building its adapters alone, without a database or data dir.
Every integration config.INTEGRATIONS names ships in this build (integrations.FACTORIES and Slack).
"""

from __future__ import annotations

import asyncio
import secrets
from dataclasses import dataclass

from incident_response import integrations
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.roster import Roster, RosterDirectory, RosterOnCall
from incident_response.adapters.slack.client import SlackCallFailed, SlackWebApi
from incident_response.config import INTEGRATIONS, PORTS, Settings
from incident_response.domain.audit import AuditKey
from incident_response.domain.clock import SystemClock
from incident_response.http import OutboundHttp

EMBEDDED_ADAPTERS: dict[str, str] = {
    "IncidentStore": "sqlite",
    "AuditLog": "sqlite (hash-chained)",
    "EventQueue": "sqlite (FIFO per group)",
    "Scheduler": "sqlite timers",
    "Chat": "web console",
    "Directory": "roster file",
    "OnCall": "roster file",
    "Telemetry": "alert labels and links (no backend)",
    "StatusPage": "built-in public page (/status)",
    "IssueTracker": "Markdown files in the data dir",
    "CodeHost": "none (no recent changes)",
    "LLM": "built-in drafter (no network)",
    "Secrets": "environment / data dir",
    "Credentials": "sqlite (token generations, console sessions)",
}


@dataclass(frozen=True)
class AdapterChoice:
    port: str
    adapter: str
    reason: str


def adapter_plan(settings: Settings) -> list[AdapterChoice]:
    """Which adapter serves each port under these settings, and why."""
    chosen: dict[str, AdapterChoice] = {}
    for integration in INTEGRATIONS:
        if not settings.enabled(integration.name):
            continue
        for port in integration.ports:
            chosen[port] = AdapterChoice(
                port, integration.name, f"{', '.join(integration.required)} set"
            )
    return [
        chosen.get(port)
        or AdapterChoice(port, f"embedded: {EMBEDDED_ADAPTERS[port]}", "no integration configured")
        for port in PORTS
    ]


@dataclass(frozen=True)
class IntegrationStatus:
    """One integration as `config check` lists it."""

    name: str
    ports: tuple[str, ...]
    enabled: bool
    given: tuple[str, ...]
    missing: tuple[str, ...]


def integration_statuses(settings: Settings) -> list[IntegrationStatus]:
    statuses = []
    for integration in INTEGRATIONS:
        given = tuple(
            v for v in integration.required + integration.optional if settings.value_of(v)
        )
        missing = tuple(v for v in integration.required if not settings.value_of(v))
        statuses.append(
            IntegrationStatus(
                name=integration.name,
                ports=integration.ports,
                enabled=settings.enabled(integration.name),
                given=given,
                missing=missing,
            )
        )
    return statuses


async def probe_integrations(
    settings: Settings, *, deadline: float = 10.0
) -> list[integrations.ProbeResult]:
    """Build each enabled integration's adapters (nothing else: no database, no data dir) and
    check its credentials with one cheap call each, for `config check --probe`."""
    results: list[integrations.ProbeResult] = []
    http = OutboundHttp(default_timeout=min(deadline, 10.0))
    roster = Roster(settings.roster_path)  # read lazily: only delegating adapters touch it
    wiring = integrations.Wiring(
        settings=settings,
        http=http,
        clock=SystemClock(),
        directory=RosterDirectory(roster, approvers=settings.approvers),
        oncall=RosterOnCall(roster),
        drafter=BuiltinDrafter(clock=SystemClock()),
        # probing reads no audit chain: a throwaway key builds the DynamoDB audit log
        audit_key=AuditKey(secrets.token_bytes(32)),
    )
    try:
        if settings.enabled("slack"):
            results.append(await _probe_slack(settings, deadline))
        for name, contribution in (await integrations.contributions(wiring)).items():
            try:
                results.extend(await integrations.probe(name, contribution, deadline=deadline))
            finally:
                for close in contribution.closers:
                    await close()
    finally:
        await http.aclose()
    return results


async def _probe_slack(settings: Settings, deadline: float) -> integrations.ProbeResult:
    token = settings.slack_bot_token
    if token is None:  # probed only when enabled, which needs the token
        return integrations.ProbeResult("slack", False, "SLACK_BOT_TOKEN is not set")
    api = SlackWebApi(token=token, base_url=settings.slack_api_url)
    try:
        found = await asyncio.wait_for(api.call("auth.test", {}), deadline)
    except TimeoutError:
        return integrations.ProbeResult("slack", False, f"no answer within {deadline:g} s")
    except SlackCallFailed as exc:
        return integrations.ProbeResult("slack", False, str(exc))
    finally:
        await api.aclose()
    return integrations.ProbeResult(
        "slack", True, f"bot {found.get('user', '?')} in workspace {found.get('team', '?')}"
    )
