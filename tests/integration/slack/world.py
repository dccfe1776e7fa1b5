"""The whole service as the composition root builds it (`bootstrap.build`) with the fake Slack
configured as Slack: what the end-to-end, storm and benchmark runs drive.

The only knobs beyond settings are explicit `Overrides`: the fake's shortened minutes
(`slack_rates`) and the assembly call timeout. The world runs its own Processor over the
container's queue and handlers so messages are picked up within 50 ms, not the production 0.5 s.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from slack_bolt.async_app import AsyncApp

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.adapters.embedded.roster import Roster, RosterDirectory
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.adapters.slack import RateTable, SlackChat, SlackWebApi
from incident_response.adapters.slack.front import SocketMode
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.bootstrap import Container, Overrides, build
from incident_response.commands.registry import CommandRegistry
from incident_response.config import load_settings
from incident_response.domain.clock import Clock
from incident_response.intake.service import AlertIntake
from incident_response.processor import Processor
from incident_response.services.incident_opener import IncidentOpener
from incident_response.services.status_update_gate import StatusUpdateGate
from incident_response.services.war_room import WarRoomAssembler
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import TIME_SCALE

SIGNING_SECRET = "fake-signing-secret-for-tests"
BASE_URL = "http://incident-response.test"


@dataclass
class SlackWorld:
    container: Container
    slack: FakeSlack
    db: Database
    api: SlackWebApi
    chat: SlackChat
    store: SqliteIncidentStore
    audit: SqliteAuditLog
    queue: SqliteEventQueue
    status_page: BuiltinStatusPage
    directory: RosterDirectory
    intake: AlertIntake
    opener: IncidentOpener
    assembler: WarRoomAssembler
    gate: StatusUpdateGate
    commands: CommandRegistry
    processor: Processor
    app: AsyncApp
    announcements: str = ""

    async def aclose(self) -> None:
        await self.processor.stop(grace_seconds=5)
        await self.container.aclose()


async def build_slack_world(
    *,
    slack: FakeSlack,
    data_dir: Path,
    rates: RateTable,
    clock: Clock | None = None,
    call_timeout_seconds: float = 10.0,
    reaction_emoji: str = "pushpin",
    processor_concurrency: int = 16,
    settings: Mapping[str, str] | None = None,
) -> SlackWorld:
    """`bootstrap.build` on `data_dir`, whose roster.yaml the caller has written. The roster's
    announcements channel is set up in the fake beforehand, as an operator sets it up in Slack.
    `settings` add to (or replace) the environment below, e.g. a small cap of new incidents."""
    roster = Roster.load(data_dir / "roster.yaml")
    announcements = slack.add_channel(roster.announcements_channel)
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_DATA_DIR": str(data_dir),
            "SLACK_BOT_TOKEN": slack.bot_token,
            "SLACK_SIGNING_SECRET": SIGNING_SECRET,
            "SLACK_API_URL": slack.api_url,
            "INCIDENT_RESPONSE_ANNOUNCEMENTS_CHANNEL": announcements.id,
            "INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE": "100000",
            "INCIDENT_RESPONSE_SLACK_TIMELINE_EMOJI": reaction_emoji,
            "INCIDENT_RESPONSE_PROCESSOR_CONCURRENCY": str(processor_concurrency),
            **(settings or {}),
        }
    )
    app = await build(
        settings,
        base_url=BASE_URL,
        clock=clock,
        overrides=Overrides(slack_rates=rates, assembly_call_timeout_seconds=call_timeout_seconds),
    )
    assert app.slack is not None, "the Slack settings above enable the Slack adapter"
    processor = Processor(
        queue=app.queue,
        registry=app.events,
        concurrency=processor_concurrency,
        poll_seconds=0.05,
        retry_base_delay=0.1,
    )
    return SlackWorld(
        container=app,
        slack=slack,
        db=app.db,
        api=app.slack.api,
        chat=app.slack.chat,
        store=app.store,
        audit=app.audit,
        queue=app.queue,
        status_page=app.status_page,
        directory=app.directory,
        intake=app.intake,
        opener=app.opener,
        assembler=app.assembler,
        gate=app.gate,
        commands=app.commands,
        processor=processor,
        app=app.slack.app,
        announcements=announcements.id,
    )


@contextlib.asynccontextmanager
async def socket_mode_world(
    slack: FakeSlack, data_dir: Path, roster: str, *, settings: Mapping[str, str] | None = None
) -> AsyncIterator[SlackWorld]:
    """A built world reached over Socket Mode with its processor running, as `serve` runs it:
    `roster` written to the data dir first; stopped in reverse order on the way out."""
    (data_dir / "roster.yaml").write_text(roster)
    built = await build_slack_world(
        slack=slack, data_dir=data_dir, rates=RateTable().scaled(TIME_SCALE), settings=settings
    )
    socket = SocketMode(built.app, app_token=slack.app_token)
    await socket.start()
    await slack.wait_for_socket_client()
    built.processor.start()
    try:
        yield built
    finally:
        await socket.stop()
        await built.aclose()
