"""What people do in Slack, delivered to the app over Socket Mode or signed HTTP, and the replies
it sends back through response_url.

A response_url may be used five times, as Slack allows; an ephemeral reply (through response_url,
chat.postEphemeral or an ack's payload) is recorded in `ephemerals[channel]` with how it came.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.fakes.slack import payloads, signing
from tests.fakes.slack.socket_mode import Ack, SocketHub
from tests.fakes.slack.state import Ephemeral, Message, ResponsePost, Workspace

RESPONSE_URL_USES = 5


@dataclass
class _ResponseTarget:
    channel: str | None
    user: str | None
    message_ts: str | None
    uses: int = 0


@dataclass
class _Outbox:
    targets: dict[str, _ResponseTarget] = field(default_factory=dict)
    posts: list[ResponsePost] = field(default_factory=list)


class Interactions:
    """Mixed into FakeSlack: builds payloads from the workspace and delivers them."""

    def __init__(self, workspace: Workspace, hub: SocketHub) -> None:
        self.workspace = workspace
        self.hub = hub
        self._outbox = _Outbox()
        self.deliveries: list[signing.Delivery] = []
        self.wait_timeout = 5.0
        self._tick = asyncio.Event()

    @property
    def base_url(self) -> str:
        raise NotImplementedError

    @property
    def acks(self) -> list[Ack]:
        return self.hub.acks

    @property
    def responses(self) -> list[ResponsePost]:
        """Everything the app posted to a response_url, in order."""
        return self._outbox.posts

    def now(self) -> float:
        return time.monotonic()

    def _changed(self) -> None:
        """Wake everyone in `wait_for`: an API call or a response_url post just finished."""
        self._tick.set()
        self._tick = asyncio.Event()

    async def wait_for(self, condition: Callable[[], object]) -> None:
        """Until `condition()` holds, re-checked after every request the app makes; raises
        TimeoutError after `wait_timeout` seconds. For work an app does after its ack."""
        async with asyncio.timeout(self.wait_timeout):
            while not condition():
                await self._tick.wait()

    def _new_response_url(
        self, channel: str | None, user: str, message_ts: str | None = None
    ) -> str:
        response_id = self.workspace.new_id("R")
        self._outbox.targets[response_id] = _ResponseTarget(channel, user, message_ts)
        return f"{self.base_url}hooks/response/{response_id}"

    # -- payloads, usable with either delivery ------------------------------------------------

    def slash_command_payload(
        self, *, text: str, user_id: str, channel_id: str, command: str = "/incident-response"
    ) -> dict[str, str]:
        return payloads.slash_command(
            self.workspace,
            command=command,
            text=text,
            user_id=user_id,
            channel_id=channel_id,
            response_url=self._new_response_url(channel_id, user_id),
            trigger_id=self.workspace.issue_trigger(user_id, channel_id, self.now()),
        )

    def block_action_payload(
        self,
        *,
        user_id: str,
        channel_id: str,
        action_id: str,
        message_ts: str | None = None,
        value: str | list[str] | None = None,
    ) -> dict[str, Any]:
        """Click (or select in) the element `action_id` of the newest message showing it."""
        message, _, _, _ = payloads.find_element(self.workspace, channel_id, action_id, message_ts)
        return payloads.block_action(
            self.workspace,
            user_id=user_id,
            channel_id=channel_id,
            action_id=action_id,
            message_ts=message_ts,
            value=value,
            response_url=self._new_response_url(channel_id, user_id, message.get("ts")),
            trigger_id=self.workspace.issue_trigger(user_id, channel_id, self.now()),
        )

    def view_submission_payload(
        self,
        *,
        user_id: str,
        values: Mapping[str, Mapping[str, Any]],
        view_id: str | None = None,
        callback_id: str | None = None,
    ) -> dict[str, Any]:
        opened = payloads.find_view(self.workspace, view_id=view_id, callback_id=callback_id)
        return payloads.view_submission(
            self.workspace, user_id=user_id, opened=opened, values=values
        )

    def event_payload(self, event: Mapping[str, Any]) -> dict[str, Any]:
        return payloads.event_callback(self.workspace, event, self.workspace.new_id("Ev"))

    # -- people acting in the workspace (for timeline capture) --------------------------------

    def post_as_user(self, *, channel_id: str, user_id: str, text: str) -> dict[str, Any]:
        """A person writes in a channel; returns the `message` event Slack would send."""
        message = Message(ts=self.workspace.next_ts(), text=text, user=user_id)
        self.workspace.messages[channel_id].append(message)
        return {
            "type": "message",
            "channel": channel_id,
            "user": user_id,
            "text": text,
            "ts": message.ts,
            "event_ts": message.ts,
            "channel_type": "group",
        }

    def pin_as_user(self, *, channel_id: str, ts: str, user_id: str) -> dict[str, Any]:
        """A person pins a message; returns the `pin_added` event."""
        message = self.workspace.message(channel_id, ts)
        if ts not in self.workspace.pins[channel_id]:
            self.workspace.pins[channel_id].append(ts)
        return {
            "type": "pin_added",
            "user": user_id,
            "channel_id": channel_id,
            "item": {
                "type": "message",
                "channel": channel_id,
                "message": message.as_json(None),
                "created": int(time.time()),
                "created_by": user_id,
            },
            "item_user": message.user,
            "pin_count": len(self.workspace.pins[channel_id]),
            "event_ts": f"{time.time():.6f}",
        }

    def react_as_user(
        self, *, channel_id: str, ts: str, user_id: str, reaction: str
    ) -> dict[str, Any]:
        """A person reacts to a message; returns the `reaction_added` event."""
        message = self.workspace.message(channel_id, ts)
        return {
            "type": "reaction_added",
            "user": user_id,
            "reaction": reaction,
            "item_user": message.user,
            "item": {"type": "message", "channel": channel_id, "ts": ts},
            "event_ts": f"{time.time():.6f}",
        }

    # -- Socket Mode delivery -----------------------------------------------------------------

    async def wait_for_socket_client(self) -> None:
        """Until the app has connected (raises NoSocketClient after the hub's connect_timeout)."""
        await self.hub.wait_for_client()

    async def send_slash_command(
        self, *, text: str, user_id: str, channel_id: str, command: str = "/incident-response"
    ) -> Ack:
        payload = self.slash_command_payload(
            text=text, user_id=user_id, channel_id=channel_id, command=command
        )
        ack = await self.hub.deliver("slash_commands", payload, accepts_response_payload=True)
        if ack.payload:
            self._record_reply(channel_id, user_id, None, ack.payload, via="ack")
        return ack

    async def send_block_action(
        self,
        *,
        user_id: str,
        channel_id: str,
        action_id: str,
        message_ts: str | None = None,
        value: str | list[str] | None = None,
    ) -> Ack:
        payload = self.block_action_payload(
            user_id=user_id,
            channel_id=channel_id,
            action_id=action_id,
            message_ts=message_ts,
            value=value,
        )
        return await self.hub.deliver("interactive", payload, accepts_response_payload=False)

    async def send_view_submission(
        self,
        *,
        user_id: str,
        values: Mapping[str, Mapping[str, Any]],
        view_id: str | None = None,
        callback_id: str | None = None,
    ) -> Ack:
        payload = self.view_submission_payload(
            user_id=user_id, values=values, view_id=view_id, callback_id=callback_id
        )
        return await self.hub.deliver("interactive", payload, accepts_response_payload=True)

    async def send_event(self, event: Mapping[str, Any]) -> Ack:
        return await self.hub.deliver(
            "events_api", self.event_payload(event), accepts_response_payload=False
        )

    async def disconnect_socket_clients(self, reason: str = "refresh_requested") -> None:
        await self.hub.disconnect_all(reason)

    # -- HTTP delivery ------------------------------------------------------------------------

    async def deliver_http(
        self,
        url: str,
        kind: str,
        payload: dict[str, Any],
        signing_secret: str,
        *,
        corrupt_signature: bool = False,
        stale: bool = False,
        timestamp: int | None = None,
        retry_num: int | None = None,
    ) -> signing.Delivery:
        """POST a signed slash command, interaction or event (`kind` as in Socket Mode envelopes:
        slash_commands, interactive, events_api) to the app, as Slack would."""
        body, content_type = signing.encode(kind, payload)
        headers = signing.signed_headers(
            secret=signing_secret,
            body=body,
            content_type=content_type,
            timestamp=timestamp,
            stale=stale,
            corrupt_signature=corrupt_signature,
            retry_num=retry_num,
        )
        delivery = await signing.post(url, body, headers)
        self.deliveries.append(delivery)
        return delivery

    async def replay(self, delivery: signing.Delivery) -> signing.Delivery:
        """Send the very same bytes and headers again, as an attacker replaying a capture would."""
        again = await signing.post(delivery.url, delivery.body, delivery.headers)
        self.deliveries.append(again)
        return again

    # -- response_url -------------------------------------------------------------------------

    def accept_response(self, response_id: str, body: dict[str, Any]) -> str | None:
        """Apply what the app posted to a response_url; an error code when the URL is spent."""
        target = self._outbox.targets.get(response_id)
        if target is None:
            return "invalid_url"
        if target.uses >= RESPONSE_URL_USES:
            return "used_url"
        target.uses += 1
        self._outbox.posts.append(ResponsePost(response_id, body, target.channel, target.user))
        if target.channel is not None and target.user is not None:
            self._record_reply(
                target.channel, target.user, target.message_ts, body, via="response_url"
            )
        return None

    def _record_reply(
        self, channel: str, user: str, message_ts: str | None, body: Mapping[str, Any], *, via: str
    ) -> None:
        ws = self.workspace
        text = str(body.get("text", ""))
        blocks = body.get("blocks") if isinstance(body.get("blocks"), list) else None
        original = next((m for m in ws.messages.get(channel, []) if m.ts == message_ts), None)
        if body.get("delete_original") and original is not None:
            ws.messages[channel].remove(original)
        elif body.get("replace_original") and original is not None:
            original.text = text or original.text
            original.blocks = blocks if blocks is not None else original.blocks
            original.edits += 1
        elif body.get("response_type") == "in_channel":
            ws.messages[channel].append(Message(ws.next_ts(), text, ws.bot_user_id, blocks))
        elif text or blocks:
            ws.ephemerals[channel].append(Ephemeral(channel, user, text, blocks, via=via))
