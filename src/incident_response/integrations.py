"""The production adapters, by integration: the registry the composition root reads.

Each integration (config.INTEGRATIONS) whose settings are present is built by its factory, named
here as "module:function" so a vendor's SDK is imported only when that integration is on. A
factory receives the `Wiring` (settings, the outbound HTTP policy, the clock and the embedded
adapters it may fall back on) and returns a `Contribution`: the adapter for each port it serves.
Slack is wired by `bootstrap` itself, because it brings a surface (the Bolt app) as well as a port.

An adapter that can check its credentials offers `probe()` (see `Probe`), which
`incident-response config check --probe` calls.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field, replace
from typing import Protocol, runtime_checkable

from incident_response import signing_keys
from incident_response.config import INTEGRATIONS, Settings
from incident_response.domain.audit import AuditKey
from incident_response.domain.clock import Clock
from incident_response.http import OutboundHttp
from incident_response.ports import (
    LLM,
    AuditLog,
    CodeHost,
    Credentials,
    Directory,
    EventQueue,
    IncidentStore,
    IssueTracker,
    OnCall,
    Scheduler,
    Secrets,
    StatusPage,
    Telemetry,
)


@dataclass(frozen=True)
class Wiring:
    """What a factory may use. `oncall` and `drafter` are the embedded adapters (roster file,
    built-in drafter), for adapters that fall back on them; `directory` is the roster's, or the
    production Directory once an integration serving it was built (it is built first).
    `secrets` is the production Secrets once built (it is built before the others, which may
    read their keys from it); `audit_key`, when given, seals the audit chains instead of the
    shared key (`sealing_key`); `queue` is the production EventQueue once built (the scheduler
    that fires into it is built after it)."""

    settings: Settings
    http: OutboundHttp
    clock: Clock
    directory: Directory
    oncall: OnCall
    drafter: LLM
    audit_key: AuditKey | None = None
    secrets: Secrets | None = None
    queue: EventQueue | None = None

    async def sealing_key(self) -> AuditKey:
        """The audit chains' key: the one given, else the deployment's (signing_keys)."""
        if self.audit_key is not None:
            return self.audit_key
        found = await signing_keys.audit_key(self.settings, self.secrets)
        assert found is not None  # created, or ConfigurationError
        return found


@dataclass
class Contribution:
    """The adapters one integration provides, by port; `closers` run at shutdown."""

    directory: Directory | None = None
    oncall: OnCall | None = None
    telemetry: Telemetry | None = None
    status_page: StatusPage | None = None
    issue_tracker: IssueTracker | None = None
    code_host: CodeHost | None = None
    llm: LLM | None = None
    store: IncidentStore | None = None
    audit: AuditLog | None = None
    queue: EventQueue | None = None
    scheduler: Scheduler | None = None
    secrets: Secrets | None = None
    credentials: Credentials | None = None
    # the name the webhook verifier asks `secrets` for (the Secrets Manager integration's own)
    webhook_secret_name: str | None = None
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def adapters(self) -> list[object]:
        return [
            a
            for a in (
                self.directory,
                self.oncall,
                self.telemetry,
                self.status_page,
                self.issue_tracker,
                self.code_host,
                self.llm,
                self.store,
                self.audit,
                self.queue,
                self.scheduler,
                self.secrets,
                self.credentials,
            )
            if a is not None
        ]


@runtime_checkable
class Probe(Protocol):
    async def probe(self) -> str:
        """One cheap authenticated call; returns what it found (e.g. "page 'Acme' reachable")
        or raises an error whose message says what failed and what to check."""
        ...


@runtime_checkable
class PublicAddress(Protocol):
    """A hosted public status page that can say where customers read it."""

    async def public_url(self) -> str | None:
        """The page's public URL, or None when the vendor cannot say now; never raises."""
        ...


Factory = Callable[[Wiring], Awaitable[Contribution]]

# integration name -> "module:function" of its factory; the Slack integration is wired in
# bootstrap. Keep the lines sorted.
FACTORIES: dict[str, str] = {
    "anthropic": "incident_response.adapters.llm.factory:build_anthropic",
    "bedrock": "incident_response.adapters.llm.factory:build_bedrock",
    "dynamodb": "incident_response.adapters.aws.factory:build_dynamodb",
    "eventbridge-scheduler": "incident_response.adapters.aws.factory:build_eventbridge_scheduler",
    "github": "incident_response.adapters.github.factory:build",
    "grafana-cloud": "incident_response.adapters.grafana.cloud_factory:build",
    "grafana-oncall": "incident_response.adapters.grafana.oncall:build",
    "linear": "incident_response.adapters.linear.factory:build",
    "openai-compatible": "incident_response.adapters.llm.factory:build_openai_compatible",
    "secrets-manager": "incident_response.adapters.aws.factory:build_secrets_manager",
    "sqs": "incident_response.adapters.aws.factory:build_sqs",
    "statuspage": "incident_response.adapters.statuspage.factory:build",
    "workos": "incident_response.adapters.workos.factory:build",
}

WIRED_IN_BOOTSTRAP = frozenset({"slack"})


def available() -> frozenset[str]:
    """Integrations this build has an adapter for."""
    return frozenset(FACTORIES) | WIRED_IN_BOOTSTRAP


def factory(name: str) -> Factory:
    module_name, _, function = FACTORIES[name].partition(":")
    found: Factory = getattr(importlib.import_module(module_name), function)
    return found


async def contributions(
    wiring: Wiring, *, only: Collection[str] | None = None
) -> dict[str, Contribution]:
    """Build every enabled integration's adapters (Slack excepted), by integration name; with
    `only`, just those of the named ones that are enabled (a CLI command's).

    The Secrets are built first and handed on (keys may be read from them), then the
    Directory: an adapter that turns e-mails into people (the
    on-call one) then uses the production directory rather than the roster; likewise the
    EventQueue before the Scheduler that fires into it. If one factory fails, the adapters built
    so far are closed before the error goes on."""
    built: dict[str, Contribution] = {}
    enabled = [
        i.name
        for i in INTEGRATIONS
        if i.name in FACTORIES
        and wiring.settings.enabled(i.name)
        and (only is None or i.name in only)
    ]
    ordered = sorted(
        enabled,
        key=lambda name: (
            not _serves(name, "Secrets"),
            not _serves(name, "Directory"),
            not _serves(name, "EventQueue"),
        ),
    )
    try:
        for name in ordered:
            contribution = await factory(name)(wiring)
            built[name] = contribution
            if contribution.secrets is not None:
                wiring = replace(wiring, secrets=contribution.secrets)
            if contribution.directory is not None:
                wiring = replace(wiring, directory=contribution.directory)
            if contribution.queue is not None:
                wiring = replace(wiring, queue=contribution.queue)
    except BaseException:
        for done in built.values():
            for close in done.closers:
                await close()
        raise
    return built


def _serves(name: str, port: str) -> bool:
    return any(i.name == name and port in i.ports for i in INTEGRATIONS)


@dataclass(frozen=True)
class ProbeResult:
    """One integration's credential check, as `config check --probe` prints it."""

    integration: str
    ok: bool
    detail: str


async def probe(name: str, contribution: Contribution, *, deadline: float) -> list[ProbeResult]:
    """Call `probe()` on each of the integration's adapters that has one, each under `deadline`.
    A failure is reported with its message, never raised: every integration gets its line."""
    results: list[ProbeResult] = []
    probes = [a for a in contribution.adapters() if isinstance(a, Probe)]
    if not probes:
        return [ProbeResult(name, True, "built (this adapter has no credential check)")]
    for adapter in probes:
        try:
            detail = await asyncio.wait_for(adapter.probe(), deadline)
        except TimeoutError:
            results.append(ProbeResult(name, False, f"no answer within {deadline:g} s"))
        except Exception as exc:
            results.append(ProbeResult(name, False, str(exc) or type(exc).__name__))
        else:
            results.append(ProbeResult(name, True, detail))
    return results
