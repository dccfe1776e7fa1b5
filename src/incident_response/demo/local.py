"""The demo on the server's own machine: credentials read from the server's data dir."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from rich.console import Console

from incident_response.adapters.embedded.roster import Roster, RosterError
from incident_response.adapters.embedded.secrets import WEBHOOK_SECRET_FILE
from incident_response.bootstrap import issue_token
from incident_response.config import Settings
from incident_response.demo.walk import DemoError, DemoResult, TokenIssuer, check_server, run_demo
from incident_response.http import own_service_client


@dataclass(frozen=True)
class LocalCredentials:
    """What a demo on the server's own machine reads from the server's data dir."""

    webhook_secret: str
    viewer_email: str
    tokens: TokenIssuer


def local_credentials(settings: Settings) -> LocalCredentials:
    """The webhook secret and token issuer of the `serve` that shares this data dir; nothing is
    created, so a demo run from the wrong directory says so instead of starting a new data dir."""
    data_dir = settings.data_dir
    if not (data_dir / "api-token-key").exists() or not settings.roster_path.exists():
        raise DemoError(
            f"{data_dir.resolve()} is not the data dir of a running `serve`: run the demo from "
            "the directory you ran `make run` in, or set INCIDENT_RESPONSE_DATA_DIR"
        )
    try:
        viewer = Roster.load(settings.roster_path).data().people[0].email
    except RosterError as exc:
        raise DemoError(str(exc)) from None
    secret = settings.incident_response_webhook_secret
    value = secret.get_secret_value() if secret is not None else _first_line(data_dir)
    if not value:
        raise DemoError(
            f"no webhook secret: set INCIDENT_RESPONSE_WEBHOOK_SECRET as for `serve`, or keep it "
            f"in {data_dir / WEBHOOK_SECRET_FILE}"
        )

    async def tokens(email: str) -> str:
        return await issue_token(settings, email)

    return LocalCredentials(webhook_secret=value, viewer_email=viewer, tokens=tokens)


def _first_line(data_dir: Path) -> str:
    path = data_dir / WEBHOOK_SECRET_FILE
    lines = path.read_text().split() if path.exists() else []
    return lines[0] if lines else ""


async def demo_on_this_machine(
    settings: Settings, base_url: str, *, keep_open: bool, console: Console, step_timeout: float
) -> DemoResult:
    """The CLI's demo: server first (the likeliest problem), then the local data dir."""
    base = base_url.rstrip("/")
    async with own_service_client(timeout=10) as http:
        await check_server(http, base)
    credentials = local_credentials(settings)
    return await run_demo(
        base,
        webhook_secret=credentials.webhook_secret,
        tokens=credentials.tokens,
        viewer_email=credentials.viewer_email,
        keep_open=keep_open,
        console=console,
        step_timeout=step_timeout,
    )
