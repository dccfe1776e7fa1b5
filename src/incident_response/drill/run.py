"""`incident-response drill`: fire a synthetic alert at a deployment, time each stage of the war
room's assembly, then resolve the drill incident and check nothing went public.

Timings come from two clocks, both shown: `observed` is the drill's own (seconds after it sent
the alert, as often as it polls), `server` is the deployment's audit trail (seconds after the
incident was opened), which is exact however slowly the drill polls.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from incident_response.drill.alert import drill_alert, drill_run_id
from incident_response.drill.api import Deployment, DrillError, until
from incident_response.http import own_service_client

Audit = Sequence[Mapping[str, Any]]


def _record(*, type_: str | None = None, step: str | None = None) -> Callable[[Audit], str | None]:
    """The time of the first audit record of `type_` or of the assembly `step`."""

    def find(audit: Audit) -> str | None:
        for r in audit:
            if (type_ is not None and r["type"] == type_) or (
                step is not None and (r.get("data") or {}).get("step") == step
            ):
                at: str = r["at"]
                return at
        return None

    return find


# the stages a drill times, in the order a war room goes through them (after `received`)
STAGES: tuple[tuple[str, Callable[[Audit], str | None]], ...] = (
    ("incident opened", _record(type_="INCIDENT_OPENED")),
    ("room created", _record(step="create_channel")),
    ("responders", _record(step="invite_responders")),
    ("context", _record(step="post_context")),
    ("checklist", _record(step="pin_checklist")),
    ("assembled", _record(type_="WAR_ROOM_ASSEMBLED")),
)


@dataclass(frozen=True)
class StageTime:
    stage: str
    observed: float
    server: float | None


@dataclass
class DrillResult:
    incident_id: str = ""
    console_url: str = ""
    channel: str = ""
    stages: list[StageTime] = field(default_factory=list)
    resolved: bool = False


def _seconds(at: str, since: str) -> float:
    return (datetime.fromisoformat(at) - datetime.fromisoformat(since)).total_seconds()


async def run_drill(
    target: str,
    *,
    token: str,
    webhook_secret: str,
    console: Console,
    service: str = "drill",
    severity: str = "critical",
    limit_seconds: float = 120.0,
    poll: float = 0.25,
    hmac_sign: bool = False,
    join: str | None = None,
    cleanup: bool = True,
) -> DrillResult:
    """The whole drill; raises DrillError (with what to do) on any failure or timeout."""
    async with own_service_client(timeout=10) as http:
        deployment = Deployment(http, target, token)
        await deployment.check()
        await deployment.incidents()  # the token works before anything is fired
        return await _drill(
            deployment,
            webhook_secret=webhook_secret,
            console=console,
            service=service,
            severity=severity,
            limit_seconds=limit_seconds,
            poll=poll,
            hmac_sign=hmac_sign,
            join=join,
            cleanup=cleanup,
        )


async def _drill(
    deployment: Deployment,
    *,
    webhook_secret: str,
    console: Console,
    service: str,
    severity: str,
    limit_seconds: float,
    poll: float,
    hmac_sign: bool,
    join: str | None,
    cleanup: bool,
) -> DrillResult:
    run_id = drill_run_id()
    result = DrillResult()
    console.rule(f"[bold]incident-response drill {run_id}[/bold] → {escape(deployment.base)}")
    started = time.monotonic()
    deadline = started + limit_seconds
    body = drill_alert(run_id=run_id, service=service, severity=severity, at=datetime.now(UTC))
    await deployment.fire(body, secret=webhook_secret, hmac_sign=hmac_sign)
    _tick(console, result, StageTime("received", time.monotonic() - started, None))

    async def opened() -> dict[str, Any] | None:
        return next(
            (i for i in await deployment.incidents() if i["labels"].get("drill_run") == run_id),
            None,
        )

    with console.status("waiting for the incident to open…") as status:
        try:
            listed = await until("the incident to open", opened, deadline=deadline, poll=poll)
            result.incident_id = listed["id"]
            result.console_url = deployment.console_url(result.incident_id)
            seen: set[str] = set()
            incident = await _follow(deployment, result, console, status, seen, deadline, poll)
        except DrillError as exc:
            if cleanup and result.incident_id:  # best effort: a failed drill leaves no open room
                with contextlib.suppress(DrillError):
                    await deployment.command(result.incident_id, "resolve")
            raise DrillError(f"{exc} ({_where(result)})") from None
    if not incident.get("drill"):
        raise DrillError(f"incident {result.incident_id} is not marked as a drill")
    channel = incident.get("channel") or {}
    result.channel = channel.get("url") or (f"#{channel['name']}" if channel.get("name") else "")
    console.print(f"[bold]war room[/bold]  {escape(result.channel or '(no chat room)')}")
    console.print(f"[bold]console[/bold]   {result.console_url}", highlight=False)
    if join:
        reply = await deployment.command(result.incident_id, f"invite {join}")
        console.print(f"[bold]join[/bold]      {escape(str(reply.get('text', '')))}")
    _table(console, result)
    if cleanup:
        await _clean_up(deployment, result, console, deadline, poll)
    return result


async def _follow(
    deployment: Deployment,
    result: DrillResult,
    console: Console,
    status: Any,
    seen: set[str],
    deadline: float,
    poll: float,
) -> dict[str, Any]:
    """Tick each stage off as the audit trail shows it, until the room is assembled."""
    started = time.monotonic() - result.stages[0].observed

    async def assembled() -> dict[str, Any] | None:
        incident = await deployment.incident(result.incident_id)
        audit = incident.get("audit") or []
        opened_at = STAGES[0][1](audit)
        for name, find in STAGES:
            at = find(audit)
            if name in seen or at is None or opened_at is None:
                continue
            seen.add(name)
            _tick(
                console,
                result,
                StageTime(name, time.monotonic() - started, _seconds(at, opened_at)),
            )
        waiting = next((n for n, _ in STAGES if n not in seen), None)
        if waiting is None:
            return incident
        status.update(f"waiting for {waiting}…")
        return None

    return await until("the war room to assemble", assembled, deadline=deadline, poll=poll)


async def _clean_up(
    deployment: Deployment, result: DrillResult, console: Console, deadline: float, poll: float
) -> None:
    """Resolve the drill (the room is archived, reminders stop) and check it never went public."""
    await deployment.command(result.incident_id, "resolve")

    async def resolved() -> dict[str, Any] | None:
        incident = await deployment.incident(result.incident_id)
        return incident if incident["status"] == "resolved" else None

    with console.status("resolving the drill…"):
        try:
            final = await until("the drill to resolve", resolved, deadline=deadline, poll=poll)
        except DrillError as exc:
            raise DrillError(f"{exc}; resolve {result.incident_id} by hand") from None
    if final.get("status_page") is not None:
        raise DrillError(f"drill {result.incident_id} reached the public status page")
    result.resolved = True
    console.print(
        f"[green]✓[/green] resolved {result.incident_id}: room archived, reminders stopped, "
        "nothing on the public status page"
    )


def _tick(console: Console, result: DrillResult, stage: StageTime) -> None:
    result.stages.append(stage)
    server = f", server +{stage.server:.2f} s" if stage.server is not None else ""
    console.print(
        f"[green]✓[/green] {stage.stage:<16} +{stage.observed:.2f} s{server}", highlight=False
    )


def _table(console: Console, result: DrillResult) -> None:
    table = Table(title=f"drill {result.incident_id}: stage timings", title_justify="left")
    table.add_column("stage")
    table.add_column("observed (s after alert)", justify="right")
    table.add_column("server (s after opened)", justify="right")
    for s in result.stages:
        table.add_row(s.stage, f"{s.observed:.2f}", "" if s.server is None else f"{s.server:.2f}")
    console.print(table)


def _where(result: DrillResult) -> str:
    if not result.incident_id:
        return "no incident opened: is the processor running?"
    done = [s.stage for s in result.stages]
    missing = [n for n, _ in STAGES if n not in done]
    return f"incident {result.incident_id} reached {done[-1]}, not {missing[0]}; see {result.console_url}"


__all__ = ["STAGES", "DrillError", "DrillResult", "StageTime", "run_drill"]
