"""`incident-response serve`: build the container, mount the routers the role needs, run uvicorn.

Roles split the process for the two-Deployment production layout: `webhook` takes alerts and serves
the API and pages; `processor` drains the queue and fires timers (and answers health probes);
`all` is both, the embedded default.
"""

from __future__ import annotations

import os
import socket
import sys

import uvicorn
from fastapi import APIRouter

from incident_response.adapters.slack.front import slack_router
from incident_response.bootstrap import Container, build
from incident_response.config import ConfigurationError, Settings
from incident_response.mcp_server.http_endpoint import mcp_router
from incident_response.services.insights import InsightsReader
from incident_response.telemetry.logging import configure_logging, get_logger
from incident_response.telemetry.otel import install_tracing
from incident_response.web.actions import actions_router
from incident_response.web.api import IncidentViews, incidents_router
from incident_response.web.app import create_app
from incident_response.web.auth import person_dependency
from incident_response.web.console import console_routers
from incident_response.web.health import health_router
from incident_response.web.http_limits import HttpLimits, guard
from incident_response.web.insights import insights_router
from incident_response.web.maintenance import maintenance_router
from incident_response.web.postmortems import postmortems_router
from incident_response.web.prometheus import prometheus_router
from incident_response.web.public import status_page_router
from incident_response.web.subscriptions import subscriptions_router
from incident_response.web.webhooks import webhook_router

log = get_logger(__name__)


def routers_for(container: Container, role: str) -> list[APIRouter]:
    routers = [health_router(container.readiness)]
    if container.observability is not None:  # every role: each process has its own figures
        routers.append(prometheus_router(container.observability.prometheus_text))
    if role in ("all", "webhook"):
        person = person_dependency(
            key=container.token_key,
            directory=container.directory,
            credentials=container.credentials,
            clock=container.clock,
        )
        routers += [
            webhook_router(
                container.intake,
                container.verifier,
                max_body_bytes=container.settings.incident_response_max_body_bytes,
            ),
            incidents_router(
                store=container.store,
                audit=container.audit,
                directory=container.directory,
                reminders=container.nudges,
                person=person,
                declarations=container.declarations,
            ),
            actions_router(
                commands=container.commands,
                gate=container.gate,
                person=person,
                announcer=container.draft_announcer,
            ),
            status_page_router(container.status_page),
            *(
                [subscriptions_router(subscriptions=container.subscriptions, person=person)]
                if container.subscriptions is not None
                else []
            ),
            *(
                [maintenance_router(desk=container.maintenance, person=person)]
                if container.maintenance is not None
                else []
            ),
            postmortems_router(
                container.issue_tracker, drafts=container.postmortem_drafts, person=person
            ),
            insights_router(
                reader=InsightsReader(store=container.store, audit=container.audit),
                authority=container.authority,
                person=person,
                clock=container.clock,
            ),
        ]
        routers.append(
            mcp_router(  # AI agents: the same reads and drafts, as the token's owner
                views=IncidentViews(
                    store=container.store,
                    audit=container.audit,
                    directory=container.directory,
                    reminders=container.nudges,
                ),
                gate=container.gate,
                postmortems=container.postmortem_drafts,
                person=person,
                announcer=container.draft_announcer,
            )
        )
        slack = container.slack
        if slack is not None and slack.socket_mode is None:
            # HTTP mode: Slack posts commands, interactions and events to this process
            routers.append(slack_router(slack.app))
        routers += console_routers(container)  # last: it answers unknown /console paths
    return routers


def banner(container: Container, role: str) -> str:
    base = container.base_url
    lines = [
        f"incident-response serving on {base} (role: {role}, data dir: {container.settings.data_dir})"
    ]
    if role in ("all", "webhook"):
        lines += [
            f"  Grafana OnCall webhook: POST {base}/webhooks/grafana-oncall",
            f"  Alertmanager webhook:   POST {base}/webhooks/alertmanager",
        ]
        if container.webhook_secret_file is not None:
            # never the secret itself: start-up output ends up in log collectors
            where = container.webhook_secret_file
            lines += [
                "  header: Authorization: Bearer <the first line of the webhook secret file>",
                f"  (generated into {where}, readable by you only; read it with "
                f"`head -1 {where}`, or set INCIDENT_RESPONSE_WEBHOOK_SECRET to choose your own)",
            ]
        else:
            lines.append("  header: Authorization: Bearer $INCIDENT_RESPONSE_WEBHOOK_SECRET")
        lines += [
            f"  web console:   {base}/console (sign in with `incident-response token EMAIL`)",
            f"  status page:   {base}/status",
            f"  MCP (agents):  {base}/mcp (Authorization: Bearer <personal token>)",
            f"  try it:        incident-response demo --url {base}",
        ]
    return "\n".join(lines)


def listen(host: str, port: int) -> socket.socket:
    """Bind the port before anything else starts, so a busy port is one clear error instead of
    a started service that dies (uvicorn serves on this socket)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio turns Nagle off (TCP_NODELAY) only on sockets that say they
    # are TCP, and with Nagle on every answer waits ~40 ms for the client's delayed ACK
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
        return sock
    except OSError as exc:
        sock.close()
        reason = exc.strerror or type(exc).__name__
        raise ConfigurationError(
            f"cannot listen on {host}:{port}: {reason.lower()} (choose another --port)"
        ) from None


async def run(settings: Settings, *, host: str, port: int, role: str) -> None:
    configure_logging(settings.incident_response_log_level)
    for problem in settings.warnings(os.environ):
        log.warning("config.warning", problem=problem)
    sock = listen(host, port)
    install_tracing(settings)  # once per process, before anything makes a span
    try:
        container = await build(settings, base_url=f"http://{host}:{port}")
    except BaseException:
        sock.close()
        raise

    socket_mode = container.slack.socket_mode if container.slack is not None else None

    async def start() -> None:
        if role in ("all", "processor"):
            container.processor.start()
            if socket_mode is not None:  # a singleton: only the processor holds the socket
                await socket_mode.start()
        print(banner(container, role), file=sys.stderr, flush=True)

    async def stop() -> None:
        if socket_mode is not None and role in ("all", "processor"):
            await socket_mode.stop()
        await container.processor.stop()
        await container.aclose()

    app = create_app(routers=routers_for(container, role), on_startup=[start], on_shutdown=[stop])
    limits = HttpLimits(
        header_timeout=settings.incident_response_http_header_timeout_seconds,
        body_timeout=settings.incident_response_http_body_timeout_seconds,
        max_connections=settings.incident_response_http_max_connections,
    )
    config = uvicorn.Config(
        app,
        **guard(
            {
                "host": host,
                "port": port,
                "log_config": None,
                "access_log": False,
                "lifespan": "on",
                "timeout_graceful_shutdown": 25,
            },
            limits,
        ),
    )
    await uvicorn.Server(config).serve(sockets=[sock])
