"""The Slack front end: verify, enqueue, ack, return.

`build_app` is the factory of the Bolt `AsyncApp` (nothing is built at import); its listeners
are bound methods of `SlackFront`, which holds no domain logic: each slash command, button,
modal submission and timeline event becomes one SLACK_INTERACTION queue message (deduplicated by
Slack's trigger, view or event id) and the work happens when the processor takes it, so a
restart after the ack loses nothing. The app runs with `process_before_response`, so Slack's ack
goes out only once the message is durably queued; enqueueing takes milliseconds, well inside
Slack's 3 s.

The one thing done in a listener is opening a modal (Edit, Reject, and the Declare incident modal
`/incident-response declare` asks for): `views.open` must use the click's or command's trigger id
within 3 s, which a queue cannot promise. A Declare submission is checked against the same rules
as every surface's (domain.declaration) before it is acked, so a bad field is shown in the modal.

Requests over HTTP are checked by Bolt's v0 signature verification (which refuses timestamps
older than 5 minutes); `ReplayGuard` also refuses a (timestamp, signature) pair seen before
within those 5 minutes. Socket Mode needs neither: the WebSocket is authenticated by the app
token.

The Bolt app is given the adapter's `AsyncWebClient` (client.py): it never builds one itself.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import SecretStr
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_bolt.response import BoltResponse
from slack_sdk.web.async_client import AsyncWebClient

from incident_response.adapters.slack.blocks import (
    BODY_BLOCK,
    BODY_INPUT,
    EDIT_VIEW,
    REASON_BLOCK,
    REASON_INPUT,
    REJECT_VIEW,
    action_of,
    edit_modal,
    reject_modal,
    submitted_public_fields,
    submitted_text,
)
from incident_response.adapters.slack.chat import SlackChat
from incident_response.adapters.slack.client import socket_mode_handler
from incident_response.adapters.slack.declaring import (
    DECLARE_VIEW,
    DECLARE_WORD,
    asks_to_declare,
    block_errors,
    declare_modal,
    submitted_declaration,
)
from incident_response.adapters.slack.interactions import SLACK_INTERACTION, Interaction
from incident_response.domain.declaration import (
    Declaration,
    InvalidDeclaration,
    read_declare_text,
)
from incident_response.domain.messages import QueueMessage
from incident_response.ports import EventQueue, IncidentStore
from incident_response.services.draft_card import parse_draft_value
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

SLASH_COMMAND = "/incident-response"
QUEUED_ACTIONS = re.compile(
    r"^(checklist\.toggle|draft\.create|draft\.approve|pulse\.rate|incident\.resolve"
    r"|alert\.split)(#\d+)?$"
)
MODAL_ACTIONS = re.compile(r"^draft\.(edit|reject)(#\d+)?$")
EVENTS = ("pin_added", "reaction_added")  # the manifest's bot_events
REPLAY_WINDOW_SECONDS = 300
Ack = Callable[..., Awaitable[Any]]


class ReplayGuard:
    """Remembers the (timestamp, signature) of verified requests for the replay window, so the
    very same signed request is accepted once."""

    def __init__(
        self,
        *,
        window_seconds: float = REPLAY_WINDOW_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._window = window_seconds
        self._now = now
        self._seen: dict[tuple[str, str], float] = {}

    def first_time(self, timestamp: str, signature: str) -> bool:
        now = self._now()
        for key in [k for k, at in self._seen.items() if at < now - self._window]:
            del self._seen[key]
        key = (timestamp, signature)
        if key in self._seen:
            return False
        try:
            self._seen[key] = float(timestamp)
        except ValueError:
            return False
        return True

    async def middleware(
        self, req: AsyncBoltRequest, resp: BoltResponse, next: Callable[[], Awaitable[Any]]
    ) -> BoltResponse | None:
        if req.mode == "http":
            stamp = req.headers.get("x-slack-request-timestamp", [""])[0]
            signature = req.headers.get("x-slack-signature", [""])[0]
            if not self.first_time(stamp, signature):
                log.warning("slack.replay_refused", timestamp=stamp)
                return BoltResponse(status=401, body='{"error": "replayed request"}')
        await next()
        return None


class SlackFront:
    """The listeners. `reaction_emoji` is the reaction that files a message in the timeline."""

    def __init__(
        self,
        *,
        queue: EventQueue,
        store: IncidentStore,
        chat: SlackChat,
        reaction_emoji: str = "pushpin",
    ) -> None:
        self._queue = queue
        self._store = store
        self._chat = chat
        self._emoji = reaction_emoji.strip(":")

    async def _enqueue(self, interaction: Interaction, dedup_id: str) -> None:
        group = interaction.channel_id or interaction.user_id or "slack"
        await self._queue.send(
            QueueMessage(type=SLACK_INTERACTION, payload=interaction.model_dump(mode="json")),
            group_id=f"slack:{group}",
            dedup_id=f"slack:{dedup_id}",
        )

    async def on_command(self, ack: Ack, body: Mapping[str, Any]) -> None:
        if asks_to_declare(str(body.get("text", ""))):
            await self._open_declare_modal(ack, body)
            return
        interaction = Interaction(
            kind="command",
            user_id=str(body.get("user_id", "")),
            channel_id=str(body.get("channel_id", "")),
            response_url=str(body.get("response_url", "")),
            trigger_id=str(body.get("trigger_id", "")),
            text=str(body.get("text", "")),
        )
        try:
            await self._enqueue(interaction, interaction.trigger_id)
        except Exception:
            log.exception("slack.enqueue_failed", kind="command")
            await ack(text="Your command could not be recorded, so it was not run. Try again.")
            return
        await ack()

    async def on_action(self, ack: Ack, body: Mapping[str, Any]) -> None:
        action = body.get("actions", [{}])[0]
        interaction = Interaction(
            kind="action",
            user_id=str(body.get("user", {}).get("id", "")),
            channel_id=_channel_of(body),
            response_url=str(body.get("response_url", "")),
            trigger_id=str(body.get("trigger_id", "")),
            action=action_of(str(action.get("action_id", ""))),
            value=str(action.get("value", "")),
            message_ts=str(body.get("container", {}).get("message_ts", "")),
        )
        await self._enqueue(interaction, interaction.trigger_id or str(action.get("action_ts")))
        await ack()

    async def on_open_modal(self, ack: Ack, body: Mapping[str, Any]) -> None:
        """Edit or Reject: open the modal now, while the trigger id is valid."""
        await ack()
        action = body.get("actions", [{}])[0]
        channel_id = _channel_of(body)
        user_id = str(body.get("user", {}).get("id", ""))
        target = parse_draft_value(str(action.get("value", "")))
        incident = await self._store.find_by_channel(channel_id) if channel_id else None
        draft = incident.draft(target[0]) if incident and target else None
        if target is None or draft is None:
            await self._chat.reply(
                user_id=user_id,
                text="That draft is not known here any more.",
                response_url=str(body.get("response_url", "")),
                channel_id=channel_id,
            )
            return
        metadata = {
            "channel_id": channel_id,
            "draft_id": draft.id,
            "version": target[1],
            "message_ts": str(body.get("container", {}).get("message_ts", "")),
        }
        kind = action_of(str(action.get("action_id", "")))
        view = (
            edit_modal(draft=draft, metadata=metadata)
            if kind == EDIT_VIEW
            else reject_modal(metadata=metadata)
        )
        await self._chat.open_view(str(body.get("trigger_id", "")), view)

    async def _open_declare_modal(self, ack: Ack, body: Mapping[str, Any]) -> None:
        """`/incident-response declare [P1-P4] [service:] [title]`: the Declare incident modal,
        opened now, with what was typed filled in."""
        await ack()
        user_id = str(body.get("user_id", ""))
        channel_id = str(body.get("channel_id", ""))
        response_url = str(body.get("response_url", ""))
        typed = str(body.get("text", "")).strip()[len(DECLARE_WORD) :]
        view = declare_modal(
            typed=read_declare_text(typed),
            declarer_user_id=user_id,
            metadata={"channel_id": channel_id, "response_url": response_url},
        )
        try:
            await self._chat.open_view(str(body.get("trigger_id", "")), view)
        except Exception as exc:
            log.warning("slack.declare_modal_failed", user_id=user_id, error=str(exc))
            await self._chat.reply(
                user_id=user_id,
                text="The Declare incident form could not be opened "
                f"({exc}); nothing was declared. Try again.",
                response_url=response_url,
                channel_id=channel_id,
            )

    async def on_declare(self, ack: Ack, body: Mapping[str, Any], view: Mapping[str, Any]) -> None:
        """A submitted Declare modal: refused in the modal when a field is wrong, else queued
        (the view id keeps a redelivery from declaring twice)."""
        entered = submitted_declaration(view)
        try:
            Declaration.parse(
                title=entered.get("title", ""),
                severity=entered.get("severity", ""),
                service=entered.get("service", ""),
                summary=entered.get("summary", ""),
            )
        except InvalidDeclaration as exc:
            await ack(response_action="errors", errors=block_errors(exc.problems))
            return
        metadata = _json_object(str(view.get("private_metadata", "")))
        interaction = Interaction(
            kind="view",
            user_id=str(body.get("user", {}).get("id", "")),
            channel_id=str(metadata.get("channel_id", "")),
            response_url=str(metadata.get("response_url", "")),
            trigger_id=str(body.get("trigger_id", "")),
            action=DECLARE_VIEW,
            value=str(view.get("id", "")),
            fields=entered,
        )
        try:
            await self._enqueue(interaction, f"view:{view.get('id', '')}")
        except Exception:
            log.exception("slack.enqueue_failed", kind="declare")
            problem = {"title": "Not recorded, so nothing was declared: try again."}
            await ack(response_action="errors", errors=block_errors(problem))
            return
        await ack()

    async def on_view(self, ack: Ack, body: Mapping[str, Any], view: Mapping[str, Any]) -> None:
        callback = str(view.get("callback_id", ""))
        block, field = (
            (BODY_BLOCK, BODY_INPUT) if callback == EDIT_VIEW else (REASON_BLOCK, REASON_INPUT)
        )
        text = submitted_text(view, block, field).strip()
        if not text:
            what = "the update customers will read" if callback == EDIT_VIEW else "a reason"
            await ack(response_action="errors", errors={block: f"Write {what}."})
            return
        metadata = str(view.get("private_metadata", ""))
        interaction = Interaction(
            kind="view",
            user_id=str(body.get("user", {}).get("id", "")),
            channel_id=str(_json_object(metadata).get("channel_id", "")),
            trigger_id=str(body.get("trigger_id", "")),
            action=callback,
            value=metadata,
            text=text,
            fields=submitted_public_fields(view) if callback == EDIT_VIEW else {},
        )
        await self._enqueue(interaction, f"view:{view.get('id', '')}")
        await ack()

    async def on_event(self, body: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        """pin_added, and reaction_added with the timeline emoji (others are ignored here)."""
        if event.get("type") == "reaction_added" and event.get("reaction") != self._emoji:
            return
        item = event.get("item", {})
        interaction = Interaction(
            kind="event",
            user_id=str(event.get("user", "")),
            channel_id=str(event.get("channel_id") or item.get("channel") or ""),
            event=dict(event),
        )
        await self._enqueue(interaction, f"event:{body.get('event_id', '')}")


def build_app(
    *,
    front: SlackFront,
    web_client: AsyncWebClient,
    signing_secret: SecretStr | str,
    replay_guard: ReplayGuard | None = None,
) -> AsyncApp:
    """The Bolt app: the one place its listeners are registered."""
    secret = (
        signing_secret.get_secret_value()
        if isinstance(signing_secret, SecretStr)
        else signing_secret
    )
    app = AsyncApp(
        name="incident-response",
        client=web_client,
        signing_secret=secret,
        process_before_response=True,
        logger=logging.getLogger("incident_response.slack.bolt"),
    )
    app.middleware((replay_guard or ReplayGuard()).middleware)
    app.command(SLASH_COMMAND)(front.on_command)
    app.action(QUEUED_ACTIONS)(front.on_action)
    app.action(MODAL_ACTIONS)(front.on_open_modal)
    app.view(EDIT_VIEW)(front.on_view)
    app.view(REJECT_VIEW)(front.on_view)
    app.view(DECLARE_VIEW)(front.on_declare)
    for event in EVENTS:
        app.event(event)(front.on_event)
    return app


def slack_router(app: AsyncApp) -> APIRouter:
    """HTTP mode: Slack's three request URLs, all answered by the Bolt app."""
    handler = AsyncSlackRequestHandler(app)
    router = APIRouter(tags=["slack"])

    async def receive(request: Request) -> Response:
        return await handler.handle(request)

    for path in ("/slack/events", "/slack/commands", "/slack/interactivity"):
        router.add_api_route(path, receive, methods=["POST"], include_in_schema=False)
    return router


class SocketMode:
    """Socket Mode: one WebSocket to Slack, opened by the (single) processor."""

    def __init__(self, app: AsyncApp, *, app_token: SecretStr | str) -> None:
        self._handler = socket_mode_handler(app, app_token=app_token)

    async def start(self) -> None:
        await self._handler.connect_async()  # type: ignore[no-untyped-call]

    async def stop(self) -> None:
        await self._handler.close_async()  # type: ignore[no-untyped-call]


def _channel_of(body: Mapping[str, Any]) -> str:
    channel = body.get("channel") or {}
    container = body.get("container") or {}
    return str(channel.get("id") or container.get("channel_id") or "")


def _json_object(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}
