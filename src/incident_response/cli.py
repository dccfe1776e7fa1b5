"""The `incident-response` command: serve, issue tokens, verify the audit log, check configuration."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from incident_response import __version__
from incident_response.config import ROLE_VARIABLE, ConfigurationError, Settings, load_settings

app = typer.Typer(
    name="incident-response",
    help="Incident commander's assistant: alert intake, war rooms, approved status updates, postmortems.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
config_app = typer.Typer(help="Inspect the configuration.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
app.add_typer(config_app, name="config")
aws_app = typer.Typer(help="Provision the AWS backends.", no_args_is_help=True)
app.add_typer(aws_app, name="aws")
secrets_app = typer.Typer(
    help="Put the service's secrets into Secrets Manager.", no_args_is_help=True
)
app.add_typer(secrets_app, name="secrets")

# breaks whose likeliest cause is this command using another key than `serve` (see audit.md)
KEY_SUSPECTS = ("no audit key", "no record matches its hash")

# soft_wrap: an error is one line however long its paths are, never broken mid-phrase
err = Console(stderr=True, soft_wrap=True)
out = Console()


def _settings() -> Settings:
    try:
        return load_settings()
    except ConfigurationError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None


def _version(value: bool) -> None:
    if value:
        print(f"incident-response {__version__}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    """incident-response."""


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8080,
    role: Annotated[
        str,
        typer.Option(
            help="all | webhook (intake + API + pages) | processor (queue + timers).",
            envvar=ROLE_VARIABLE,
        ),
    ] = "all",
) -> None:
    """Run the service: webhook intake, the processor and the web console in one process."""
    from incident_response.server import run

    if role not in ("all", "webhook", "processor"):
        err.print(f"[red]error:[/red] --role must be all, webhook or processor, not {role!r}")
        raise typer.Exit(2)
    settings = _settings()
    try:
        asyncio.run(run(settings, host=host, port=port, role=role))
    except ConfigurationError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


@app.command()
def token(
    email: Annotated[
        str, typer.Argument(help="E-mail of a person in the roster, or `revoke` then the e-mail.")
    ],
    revoke_email: Annotated[
        str | None, typer.Argument(metavar="[EMAIL]", help="With `revoke`: whose tokens.")
    ] = None,
    rotate: Annotated[
        bool, typer.Option("--rotate", help="End every earlier token of this person first.")
    ] = False,
    ttl: Annotated[
        str | None, typer.Option(help="Lifetime of the token: 30m, 12h, 7d (default: no expiry).")
    ] = None,
) -> None:
    """Print a personal API token (alone on stdout) for a person in the roster.

    `token EMAIL --rotate` ends every earlier token of that person; `token revoke EMAIL` ends all
    of them and their console sessions, and prints no token.
    """
    from incident_response.bootstrap import issue_token, revoke_tokens
    from incident_response.tokens import parse_lifetime

    if email == "revoke":
        if revoke_email is None or rotate or ttl is not None:
            _usage("usage: incident-response token revoke EMAIL (no --rotate or --ttl)")
    elif revoke_email is not None:
        _usage(f"usage: incident-response token EMAIL [--rotate] [--ttl 12h], got {revoke_email!r}")
    try:
        lifetime = parse_lifetime(ttl) if ttl is not None else None
    except ValueError as exc:
        _usage(str(exc))
    settings = _settings()
    try:
        if revoke_email is not None:
            revoked = asyncio.run(revoke_tokens(settings, revoke_email))
            err.print(
                f"revoked every token and console session of {revoked}; "
                f"`incident-response token {revoked}` issues a new token",
                soft_wrap=True,
            )
            return
        print(asyncio.run(issue_token(settings, email, rotate=rotate, lifetime=lifetime)))
    except LookupError as exc:
        err.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        raise typer.Exit(1) from None
    except ConfigurationError as exc:  # the roster cannot be read
        _usage(str(exc))
    except sqlite3.Error as exc:
        err.print(
            f"[red]error:[/red] cannot use the database {settings.database_path}: {exc}",
            soft_wrap=True,
        )
        raise typer.Exit(1) from None


def _usage(message: str) -> NoReturn:
    err.print(f"[red]error:[/red] {message}", soft_wrap=True)
    raise typer.Exit(2)


@aws_app.command("bootstrap")
def aws_bootstrap(
    env: Annotated[
        str, typer.Option(help="Environment name, part of every resource name, e.g. staging.")
    ],
    scheduler_role: Annotated[
        bool,
        typer.Option(
            "--scheduler-role/--no-scheduler-role",
            help="Also create the IAM role EventBridge Scheduler sends to the queue with.",
        ),
    ] = True,
) -> None:
    """Create the environment's DynamoDB tables, SQS FIFO queues and schedule group, idempotently,
    and print the settings to use as KEY=VALUE lines (progress goes to stderr). The endpoint is
    boto3's: AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_<SERVICE> reach moto or a VPC endpoint."""
    from incident_response.adapters.aws.provisioning import Plan, ProvisioningError, bootstrap

    settings = _settings()
    region = settings.aws_region or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        _usage("set AWS_REGION to the region to create the resources in")
    try:
        plan = Plan(
            env=env,
            region=region,
            max_receives=settings.incident_response_queue_max_receives,
            visibility_timeout_seconds=settings.incident_response_queue_visibility_timeout_seconds,
            scheduler_role=scheduler_role,
        )
    except ValueError as exc:
        _usage(str(exc))
    try:
        created = bootstrap(plan, lambda line: err.print(line, markup=False, highlight=False))
    except ProvisioningError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    for key, value in created.items():
        print(f"{key}={value}")


@secrets_app.command("seed")
def secrets_seed(
    env: Annotated[str, typer.Option(help="Environment name, e.g. staging.")],
    from_file: Annotated[
        Path | None,
        typer.Option(
            "--from",
            help="A JSON object of secret name -> value (deploy/secrets.template.json's names).",
        ),
    ] = None,
    prompt: Annotated[
        bool, typer.Option("--prompt", help="Ask for each value (hidden); blank skips it.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only read: say what would change.")
    ] = False,
) -> None:
    """Put values into `incident-response/<env>/<name>`, creating missing secrets; an unchanged
    value makes no new version. Values come from --from FILE, --prompt, or else the settings in
    the environment (SLACK_BOT_TOKEN feeds slack-bot-token, ...). Values are never printed.
    Exit 1 when a secret the service needs is still missing."""
    from incident_response.adapters.aws.secrets_seed import (
        SEEDED,
        SeedError,
        client_for,
        from_settings,
        seed,
    )

    if from_file is not None and prompt:
        _usage("use --from FILE or --prompt, not both")
    values: dict[str, str]
    if from_file is not None:
        values = _secret_values(from_file)
    elif prompt:
        values = {}
        for name, known in SEEDED.items():
            given = typer.prompt(
                f"{name} ({known.setting}; blank skips)",
                default="",
                show_default=False,
                hide_input=True,
                err=True,
            )
            if given.strip():
                values[name] = given
    else:
        values = from_settings(os.environ)
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        _usage("set AWS_REGION to the region holding the secrets")
    try:
        outcomes = seed(
            client_for(region),
            env,
            values,
            lambda line: err.print(line, markup=False, highlight=False),
            dry_run=dry_run,
        )
    except SeedError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    if "missing" in outcomes.values():
        raise typer.Exit(1)


def _secret_values(path: Path) -> dict[str, str]:
    import json

    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        _usage(f"--from {path}: {exc}")
    if not isinstance(loaded, dict):
        _usage(f"--from {path}: expected a JSON object of secret name -> value")
    return loaded


@audit_app.command("verify")
def audit_verify(
    incident: Annotated[str | None, typer.Option(help="Check one incident's chain only.")] = None,
) -> None:
    """Check the audit log's keyed hash chains and that every incident has its chain; exit 1 on
    any break (edited, deleted, reordered or re-sealed records, a cut tail, a missing chain)."""
    from incident_response.bootstrap import verify_audit

    settings = _settings()
    report = asyncio.run(verify_audit(settings, incident))
    if report.ok:
        out.print(
            f"[green]audit log intact:[/green] {report.records_checked} records in "
            f"{report.incidents_checked} incident chains verified"
        )
        return
    table = Table("incident", "seq", "problem", title="audit chain breaks")
    for brk in report.breaks:
        table.add_row(brk.incident_id, str(brk.seq), brk.problem)
    out.print(table)
    out.print(f"[red]audit log tampered:[/red] {len(report.breaks)} break(s)")
    if any(brk.problem.startswith(KEY_SUSPECTS) for brk in report.breaks):
        out.print(
            "If every chain is broken, check that this command sees the audit key `serve` uses: "
            "INCIDENT_RESPONSE_AUDIT_KEY, or else the audit-key file in the data dir."
        )
    raise typer.Exit(1)


@config_app.command("check")
def config_check(
    probe: Annotated[
        bool,
        typer.Option(
            "--probe", help="Also check each enabled integration's credentials with one call."
        ),
    ] = False,
) -> None:
    """Validate the configuration and show each integration and the adapter of each port."""
    from incident_response.adapter_plan import adapter_plan, integration_statuses
    from incident_response.bootstrap import check_startup

    settings = _settings()
    table = Table("port", "adapter", "because")
    for row in adapter_plan(settings):
        table.add_row(row.port, row.adapter, row.reason)
    out.print(table)
    integrations = Table("integration", "port", "enabled", "settings")
    for status in integration_statuses(settings):
        state = "[green]yes[/green]" if status.enabled else "no"
        shown = (
            ", ".join(status.given)
            if status.enabled
            else (f"set {', '.join(status.missing)}" if status.missing else "")
        )
        integrations.add_row(status.name, ", ".join(status.ports), state, shown)
    out.print(integrations)
    out.print(f"data dir: {settings.data_dir.resolve()}")
    for warning in settings.warnings(os.environ):
        err.print(f"[yellow]warning:[/yellow] {warning}", highlight=False)
    problems = check_startup(settings)
    for problem in problems:
        err.print(f"[red]error:[/red] {problem}", highlight=False)
    if problems:
        err.print("`serve` would refuse to start with this configuration.")
        raise typer.Exit(2)
    if probe:
        _probe(settings)


def _probe(settings: Settings) -> None:
    from incident_response.adapter_plan import probe_integrations

    results = asyncio.run(probe_integrations(settings))
    if not results:
        out.print("probe: no integration is enabled; the embedded default needs no credentials")
        return
    for result in results:
        if result.ok:
            out.print(
                f"[green]ok[/green]     {result.integration}: {result.detail}", highlight=False
            )
        else:
            err.print(f"[red]failed[/red] {result.integration}: {result.detail}", highlight=False)
    if not all(r.ok for r in results):
        err.print("some integrations failed their probe: `serve` would start, but those calls fail")
        raise typer.Exit(1)


@app.command("mcp")
def mcp_stdio(
    target: Annotated[
        str, typer.Option(help="URL of the running service, e.g. https://incidents.example.com.")
    ],
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            help="File holding the personal API token (default: $INCIDENT_RESPONSE_TOKEN).",
        ),
    ] = None,
) -> None:
    """Serve the MCP tools on stdin/stdout for an AI agent, against a running service's API.

    The agent reads incidents and drafts status updates and postmortems as the token's owner;
    only the incident commander's approval publishes a draft.
    """
    from incident_response.mcp_server.remote import TokenNotAccepted
    from incident_response.mcp_server.stdio import TargetError, checked_target, serve_stdio
    from incident_response.telemetry.logging import configure_logging

    try:
        base = checked_target(target)
    except TargetError as exc:
        _usage(str(exc))
    if token_file is not None:
        try:
            api_token = token_file.read_text().strip()
        except OSError as exc:
            _usage(f"cannot read --token-file {token_file}: {exc.strerror or exc}")
    else:
        api_token = os.environ.get("INCIDENT_RESPONSE_TOKEN", "").strip()
    if not api_token:
        _usage(
            "a personal API token is required: set INCIDENT_RESPONSE_TOKEN or pass --token-file "
            "(`incident-response token EMAIL` on the service issues one)"
        )
    configure_logging("warning")  # stderr only: stdout carries MCP
    try:
        asyncio.run(serve_stdio(target=base, token=api_token))
    except TokenNotAccepted as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


@app.command()
def demo(
    url: Annotated[
        str | None,
        typer.Option(help="Where `serve` answers (default: INCIDENT_RESPONSE_BASE_URL or :8080)."),
    ] = None,
    keep_open: Annotated[
        bool, typer.Option("--keep-open", help="Stop after publishing; leave the incident open.")
    ] = False,
    step_timeout: Annotated[
        float, typer.Option("--timeout", help="Seconds to wait for each step.")
    ] = 60.0,
) -> None:
    """Fire a realistic Grafana OnCall alert at a running `serve` and walk it to a postmortem."""
    from incident_response.demo import DEFAULT_URL, DemoError, demo_on_this_machine

    settings = _settings()
    base = url or settings.incident_response_base_url or DEFAULT_URL
    try:
        asyncio.run(
            demo_on_this_machine(
                settings, base, keep_open=keep_open, console=out, step_timeout=step_timeout
            )
        )
    except DemoError as exc:
        err.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(1) from None


def _api_token(token_file: Path | None) -> str:
    """The personal API token: --token-file, else $INCIDENT_RESPONSE_TOKEN."""
    if token_file is not None:
        try:
            return token_file.read_text().strip()
        except OSError as exc:
            _usage(f"cannot read --token-file {token_file}: {exc.strerror or exc}")
    value = os.environ.get("INCIDENT_RESPONSE_TOKEN", "").strip()
    if not value:
        _usage(
            "a personal API token is required: set INCIDENT_RESPONSE_TOKEN or pass --token-file "
            "(`incident-response token EMAIL` on the deployment issues one)"
        )
    return value


def _webhook_secret(secret_file: Path | None) -> str:
    """The intake's shared secret: --webhook-secret-file, else $INCIDENT_RESPONSE_WEBHOOK_SECRET."""
    if secret_file is not None:
        try:
            value = secret_file.read_text().split()
        except OSError as exc:
            _usage(f"cannot read --webhook-secret-file {secret_file}: {exc.strerror or exc}")
        return value[0] if value else ""
    return os.environ.get("INCIDENT_RESPONSE_WEBHOOK_SECRET", "").strip()


TokenFile = Annotated[
    Path | None,
    typer.Option(
        "--token-file",
        help="File holding a personal API token (default: $INCIDENT_RESPONSE_TOKEN).",
    ),
]


@app.command()
def drill(
    target: Annotated[
        str, typer.Option(help="URL of the deployment, e.g. https://incidents.example.com.")
    ],
    token_file: TokenFile = None,
    webhook_secret_file: Annotated[
        Path | None,
        typer.Option(
            "--webhook-secret-file",
            help="File holding the intake's webhook secret (default: "
            "$INCIDENT_RESPONSE_WEBHOOK_SECRET).",
        ),
    ] = None,
    service: Annotated[
        str, typer.Option(help="Service the alert names (its team is paged into the room).")
    ] = "drill",
    severity: Annotated[str, typer.Option(help="The alert's severity label.")] = "critical",
    timeout: Annotated[float, typer.Option(help="Seconds the whole drill may take.")] = 120.0,
    hmac_sign: Annotated[
        bool,
        typer.Option("--hmac", help="Sign the body (HMAC) instead of sending a bearer secret."),
    ] = False,
    join: Annotated[
        str | None, typer.Option(help="Invite this person (e-mail) into the drill's war room.")
    ] = None,
    keep_open: Annotated[
        bool, typer.Option("--keep-open", help="Leave the drill open (resolve it yourself).")
    ] = False,
) -> None:
    """Fire a synthetic alert (label drill=true) at a deployment, time each stage to the assembled
    war room, then resolve it. A drill never reaches the public status page. Exit 1 on failure."""
    from incident_response.drill import DrillError, checked_base, run_drill

    try:
        base = checked_base(target)
    except DrillError as exc:
        _usage(str(exc))
    api_token = _api_token(token_file)
    secret = _webhook_secret(webhook_secret_file)
    if not secret:
        _usage(
            "the intake's webhook secret is required: set INCIDENT_RESPONSE_WEBHOOK_SECRET or "
            "pass --webhook-secret-file"
        )
    try:
        result = asyncio.run(
            run_drill(
                base,
                token=api_token,
                webhook_secret=secret,
                console=out,
                service=service,
                severity=severity,
                limit_seconds=timeout,
                hmac_sign=hmac_sign,
                join=join,
                cleanup=not keep_open,
            )
        )
    except DrillError as exc:
        err.print(f"[red]drill failed:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    out.print(f"[green]drill passed[/green]: {result.incident_id}")


@app.command()
def observe(
    incident: Annotated[str, typer.Argument(help="The incident's id.")],
    target: Annotated[str, typer.Option(help="URL of the deployment.")] = "http://127.0.0.1:8080",
    token_file: TokenFile = None,
    poll: Annotated[float, typer.Option(help="Seconds between reads.")] = 1.0,
    timeout: Annotated[
        float | None, typer.Option(help="Stop after this many seconds (default: never).")
    ] = None,
) -> None:
    """Follow an incident live: status, IC, stage, room, drafts and timeline entries as they
    change, until it is resolved (or Ctrl-C)."""
    from incident_response.drill import DrillError, checked_base
    from incident_response.drill import observe as watch

    try:
        base = checked_base(target)
    except DrillError as exc:
        _usage(str(exc))
    api_token = _api_token(token_file)
    try:
        asyncio.run(
            watch(base, incident, token=api_token, console=out, poll=poll, limit_seconds=timeout)
        )
    except DrillError as exc:
        err.print(f"[red]error:[/red] {escape(str(exc))}", highlight=False)
        raise typer.Exit(1) from None
    except TimeoutError:
        err.print(f"[yellow]stopped:[/yellow] {incident} not resolved after {timeout} s")
        raise typer.Exit(3) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None


def main() -> None:
    try:
        app()
    except BrokenPipeError:  # `incident-response token x | head` closing early
        sys.exit(0)
    except ConfigurationError as exc:  # any command: a bad roster, data dir or setting
        err.print(f"[red]error:[/red] {exc}", markup=True, highlight=False)
        sys.exit(2)
