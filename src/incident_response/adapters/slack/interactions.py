"""SLACK_INTERACTION: what someone did in Slack, done after Slack got its ack.

The Slack front end only verifies, enqueues and acks; this handler does the work, so a restart
between the ack and the work loses nothing. It is the Slack adapter's own queue event, which the
composition root registers only when Slack is configured: everything here that is Slack's
(response URLs, trigger ids, message timestamps, `<@user>` markup, event payloads) stays in the
adapter, and the core is asked only neutral questions. Slash commands and buttons go to the same
CommandRegistry as the console, with Slack's mention markup made plain first; Approve & Publish,
Edit and Reject go to the StatusUpdateGate, which alone decides who may approve. Answers are
shown to the person who acted only (ephemeral); what the room must see (a draft to approve, a
publication) is posted in the room. Pins and reactions with the timeline emoji become
TIMELINE_NOTE_ADDED records by the person who pinned or reacted, quoting the message and its
author, keyed by the message so the same message is noted once; a note the
drafter reads as a status update counts as one for the reminders (services.status_update_notes).
A submitted Declare incident modal goes to the declaration service, the same one the console and
the API call, with the IC picked in the modal mapped to the roster like the person who acted.

The Slack user is mapped to the roster by chat id, else by e-mail (`users.info`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field

from incident_response.adapters.slack.blocks import COMPONENT_STATUS_BLOCK
from incident_response.adapters.slack.declaring import DECLARE_VIEW
from incident_response.adapters.slack.mentions import plain_command_text
from incident_response.commands.context import CommandContext, CommandReply
from incident_response.domain.approval import PublishOutcome
from incident_response.domain.audit import AuditEvent, AuditEventType
from incident_response.domain.chat import ChatMessage
from incident_response.domain.clock import Clock
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.incident import Incident
from incident_response.domain.people import Person
from incident_response.domain.status_update import StatusDraft
from incident_response.ports import AuditLog, Chat, Directory, IncidentStore
from incident_response.services.authority import NotPermitted
from incident_response.services.declaration import Declared
from incident_response.services.draft_card import APPROVE, EDIT, draft_card, parse_draft_value
from incident_response.services.status_update_gate import ApprovalRefused, DraftSuperseded
from incident_response.services.storm_room import SPLIT_OUT
from incident_response.services.war_room_messages import checklist as checklist_message
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

# the queue message type (its value is what queues already hold)
SLACK_INTERACTION = "SLACK_INTERACTION"

# buttons that are a command typed for the person: action -> command text
AS_COMMAND: Mapping[str, str] = {
    "checklist.toggle": "checklist toggle",
    "draft.create": "draft",
    "pulse.rate": "rate",
    "incident.resolve": "resolve",
    SPLIT_OUT: "split",
}
VALUE_IS_ARGUMENT = frozenset({"checklist.toggle", "pulse.rate", SPLIT_OUT})
NOTE_CHARS = 2000


class Interaction(BaseModel):
    """The queue payload: what the front end learnt from Slack's request, nothing decided yet.

    `action` is the button's action (or the modal's callback id), `value` the button's value (or
    the modal's private metadata), `text` what was typed (command or modal input)."""

    model_config = ConfigDict(frozen=True)

    kind: Literal["command", "action", "view", "event"]
    user_id: str
    channel_id: str = ""
    response_url: str = ""
    trigger_id: str = ""
    text: str = ""
    action: str = ""
    value: str = ""
    message_ts: str = ""
    event: dict[str, Any] = Field(default_factory=dict)
    # a submitted Edit modal's public fields (title, stage, impact, components), as typed
    fields: dict[str, str] = Field(default_factory=dict)


class SlackSurface(Protocol):
    """What the handler needs of Slack beyond the Chat port (SlackChat provides it)."""

    async def email_for(self, user_id: str) -> str | None: ...

    async def reply(
        self, *, user_id: str, text: str, response_url: str = "", channel_id: str = ""
    ) -> None: ...

    async def message(self, channel_id: str, ts: str) -> dict[str, Any] | None: ...

    def permalink(self, channel_id: str, ts: str) -> str: ...


class StatusNotes(Protocol):
    async def consider(self, incident_id: str, *, note_key: str, text: str, actor: str) -> bool: ...


class Commands(Protocol):
    async def handle(self, text: str, context: CommandContext) -> CommandReply: ...


class Declarer(Protocol):
    async def declare(
        self,
        *,
        declared_by: str,
        title: str,
        severity: str,
        service: str = "",
        summary: str = "",
        ic: str | None = None,
        key: str | None = None,
    ) -> Declared: ...


class DraftDecisions(Protocol):
    async def approve_and_publish(
        self, incident_id: str, draft_id: str, *, version: int, actor: str
    ) -> PublishOutcome: ...

    async def edit(
        self,
        incident_id: str,
        draft_id: str,
        *,
        actor: str,
        expected_version: int,
        body: str | None = None,
        title: str | None = None,
        stage: str | None = None,
        impact: str | None = None,
        components: Sequence[str] | None = None,
        component_statuses: Mapping[str, str] | None = None,
    ) -> StatusDraft: ...

    async def reject(
        self, incident_id: str, draft_id: str, *, actor: str, reason: str = ""
    ) -> StatusDraft: ...


class SlackInteraction:
    event_type = SLACK_INTERACTION

    def __init__(
        self,
        *,
        commands: Commands,
        gate: DraftDecisions,
        store: IncidentStore,
        audit: AuditLog,
        directory: Directory,
        chat: Chat,
        surface: SlackSurface,
        clock: Clock,
        reaction_emoji: str = "pushpin",
        status_notes: StatusNotes | None = None,
        declarations: Declarer | None = None,
    ) -> None:
        self._status_notes = status_notes
        self._declarations = declarations
        self._commands = commands
        self._gate = gate
        self._store = store
        self._audit = audit
        self._directory = directory
        self._chat = chat
        self._surface = surface
        self._clock = clock
        self._emoji = reaction_emoji.strip(":")

    async def handle(self, payload: Mapping[str, Any]) -> None:
        done = Interaction.model_validate(payload)
        if done.kind == "event":
            await self._timeline(done)
            return
        actor = await self._actor(done.user_id)
        if done.kind == "command":
            await self._command(done, actor, done.text)
        elif done.kind == "view" and done.action == DECLARE_VIEW:
            await self._declare(done, actor)
        elif done.kind == "view":
            await self._draft_decision(done, actor)
        elif done.action == APPROVE:
            await self._approve(done, actor)
        elif done.action in AS_COMMAND:
            argument = done.value if done.action in VALUE_IS_ARGUMENT else ""
            await self._command(done, actor, f"{AS_COMMAND[done.action]} {argument}".strip())
        else:
            await self._tell(done, f"This button ({done.action}) does nothing any more.")

    # -- who ------------------------------------------------------------------------------------

    async def _actor(self, user_id: str) -> Person:
        """The roster's person for a Slack user: by chat id, else by the e-mail Slack holds."""
        person = await self._directory.person_by_chat_id(user_id)
        if person is not None:
            return person
        email = await self._surface.email_for(user_id)
        person = await self._directory.person(email) if email else None
        if person is not None:
            return person.model_copy(update={"chat_id": user_id})
        return Person(email=email or f"{user_id}@slack", name=email or user_id, chat_id=user_id)

    # -- commands and buttons -------------------------------------------------------------------

    async def _command(self, done: Interaction, actor: Person, text: str) -> None:
        reply = await self._commands.handle(
            plain_command_text(text),
            CommandContext(
                actor=actor,
                surface="slack",
                channel_id=done.channel_id or None,
                invocation_id=done.trigger_id,
            ),
        )
        # The command has run: what follows only shows its outcome, and a failure there must not
        # make the queue run the command again.
        try:
            await self._show(done, reply)
        except Exception as exc:
            log.exception("slack.command_follow_up_failed", action=done.action)
            await self._tell(done, f"{reply.text}\n\n(It could not be shown in the room: {exc})")

    async def _show(self, done: Interaction, reply: CommandReply) -> None:
        incident = await self._incident(done.channel_id)
        draft = reply.data.get("draft")
        if reply.ok and incident is not None and isinstance(draft, Mapping):
            await self._post_card(incident, str(draft["id"]))
            if reply.data.get("command") == "draft":
                reply = CommandReply(
                    text=f"Draft {draft['id']} (version {draft['version']}) is in the room, "
                    "waiting for the IC's approval.",
                    data=reply.data,
                )
        if reply.ok and done.action == "checklist.toggle" and incident and done.message_ts:
            if reply.data.get("pinned_message_id") != done.message_ts:  # a copy elsewhere
                await self._chat.update(
                    done.channel_id,
                    done.message_ts,
                    checklist_message(incident, incident.checklist),
                )
            return  # the ticked box in the room is the answer
        if reply.ephemeral or incident is None:
            await self._tell(done, reply.text)
        else:
            await self._chat.post(done.channel_id, ChatMessage(text=reply.text))

    async def _approve(self, done: Interaction, actor: Person) -> None:
        incident, target = await self._incident(done.channel_id), parse_draft_value(done.value)
        if incident is None or target is None:
            await self._tell(done, "This draft belongs to no incident known here.")
            return
        draft_id, version = target
        try:
            outcome = await self._gate.approve_and_publish(
                incident.id, draft_id, version=version, actor=actor.email
            )
        except ApprovalRefused as exc:
            await self._tell(done, "You cannot approve this update: " + "; ".join(exc.reasons))
            return
        except DraftSuperseded as exc:
            await self._settle_card(done, incident.id, draft_id, f"superseded by {exc.newer}")
            await self._tell(done, f"Draft {draft_id} version {version} was not published: {exc}")
            return
        except IncidentResponseError as exc:
            await self._tell(done, f"Draft {draft_id} version {version} was not published: {exc}")
            return
        where = f" ({outcome.status_page.url})" if outcome.status_page else ""
        # the room's line ("... approved and published ...") is the gate's (services.draft_lines)
        await self._settle_card(done, incident.id, draft_id, f"{outcome.status.value}{where}")
        await self._tell(done, f"Status update {draft_id} version {version}: {outcome.status}.")

    async def _declare(self, done: Interaction, actor: Person) -> None:
        """A submitted Declare incident modal: `fields` as entered, `value` the view's id."""
        if self._declarations is None:
            await self._tell(done, "Declaring incidents is not set up here; nothing was declared.")
            return
        entered = done.fields
        ic_user = entered.get("ic", "")
        ic = (await self._actor(ic_user)).email if ic_user and ic_user != done.user_id else None
        try:
            declared = await self._declarations.declare(
                declared_by=actor.email,
                title=entered.get("title", ""),
                severity=entered.get("severity", ""),
                service=entered.get("service", ""),
                summary=entered.get("summary", ""),
                ic=ic,
                key=f"slack-view:{done.value}" if done.value else None,
            )
        except NotPermitted as exc:
            await self._tell(done, "You cannot declare an incident: " + "; ".join(exc.reasons))
            return
        except IncidentResponseError as exc:
            await self._tell(done, f"Nothing was declared: {exc}")
            return
        incident = declared.incident
        await self._tell(
            done,
            f"Declared {incident.severity.value} incident {incident.id}: {incident.title}. "
            f"IC: {incident.ic}. Its war room is being assembled; you will be invited.",
        )

    async def _draft_decision(self, done: Interaction, actor: Person) -> None:
        """A submitted Edit or Reject modal; `value` carries the draft, channel and card."""
        meta = _json_object(done.value)
        incident = await self._incident(str(meta.get("channel_id", "")))
        draft_id, version = str(meta.get("draft_id", "")), int(meta.get("version", 0) or 0)
        where = done.model_copy(
            update={
                "channel_id": str(meta.get("channel_id", "")),
                "message_ts": str(meta.get("message_ts", "")),
            }
        )
        if incident is None or not draft_id:
            await self._tell(where, "This draft belongs to no incident known here.")
            return
        try:
            if done.action == EDIT:
                named = done.fields.get("components")
                draft = await self._gate.edit(
                    incident.id,
                    draft_id,
                    body=done.text,
                    title=done.fields.get("title"),
                    stage=done.fields.get("stage"),
                    impact=done.fields.get("impact"),
                    components=[n.strip() for n in named.split(",") if n.strip()]
                    if named is not None
                    else None,
                    component_statuses=picked_statuses(done.fields, named) or None,
                    actor=actor.email,
                    expected_version=version,
                )
                if draft.version != version:
                    await self._settle_card(where, incident.id, draft_id, "replaced by an edit")
                    try:
                        await self._post_card(incident, draft_id)
                    except Exception:  # shown by `status` later; the edit itself is done
                        log.exception("slack.card_post_failed", draft_id=draft_id)
                text = f"Draft {draft_id} is now version {draft.version}."
            else:
                await self._gate.reject(incident.id, draft_id, actor=actor.email, reason=done.text)
                await self._settle_card(where, incident.id, draft_id, f"rejected: {done.text}")
                text = f"Draft {draft_id} rejected."
        except NotPermitted as exc:
            text = "You cannot do that: " + "; ".join(exc.reasons)
        except IncidentResponseError as exc:
            text = f"Draft {draft_id} was not changed: {exc}"
        await self._tell(where, text)

    async def _post_card(self, incident: Incident, draft_id: str) -> None:
        current = await self._store.get(incident.id) or incident
        draft = current.draft(draft_id)
        if draft is not None and current.channel is not None:
            await self._chat.post(current.channel.id, draft_card(current, draft))

    async def _settle_card(
        self, done: Interaction, incident_id: str, draft_id: str, outcome: str
    ) -> None:
        """The card loses its buttons and says what became of the draft."""
        if not done.message_ts:
            return
        incident = await self._store.get(incident_id)
        draft = incident.draft(draft_id) if incident else None
        body = "\n".join(f"> {line}" for line in draft.body.splitlines()) if draft else ""
        try:
            await self._chat.update(
                done.channel_id,
                done.message_ts,
                ChatMessage(
                    text=f"Status update draft {draft_id}: {outcome}",
                    sections=(body,) if body else (),
                ),
            )
        except IncidentResponseError:
            log.warning("slack.card_update_failed", draft_id=draft_id)

    # -- timeline --------------------------------------------------------------------------------

    async def _timeline(self, done: Interaction) -> None:
        event = done.event
        item = _mapping(event.get("item"))
        channel_id = str(event.get("channel_id") or item.get("channel") or "")
        message: Mapping[str, Any]
        if event.get("type") == "pin_added":
            message = _mapping(item.get("message"))
            source = "pin"
        elif event.get("type") == "reaction_added" and event.get("reaction") == self._emoji:
            ts = str(item.get("ts", ""))
            message = await self._surface.message(channel_id, ts) or {"ts": ts}
            source = f"reaction :{self._emoji}:"
        else:
            return
        ts = str(message.get("ts", ""))
        incident = await self._incident(channel_id)
        if incident is None or not ts:
            return
        author_id = str(message.get("user") or event.get("item_user") or "")
        author = await self._actor(author_id) if author_id else None
        noted_by = await self._actor(str(event.get("user", "")))
        text = str(message.get("text", ""))[:NOTE_CHARS]
        key = f"timeline-note:{channel_id}:{ts}"
        await self._audit.append(
            AuditEvent(
                incident_id=incident.id,
                type=AuditEventType.TIMELINE_NOTE_ADDED,
                key=key,
                at=_slack_time(ts) or self._clock.now(),
                # the note is the pinner's, quoting the message and its author
                actor=noted_by.email,
                data={
                    "text": text,
                    "author": author.email if author else "unknown",
                    "source": source,
                    "noted_by": noted_by.email,
                    "message_ts": ts,
                    "link": self._surface.permalink(channel_id, ts),
                },
            )
        )
        if self._status_notes is not None:
            await self._status_notes.consider(
                incident.id,
                note_key=key,
                text=text,
                actor=author.email if author else noted_by.email,
            )

    # -- plumbing --------------------------------------------------------------------------------

    async def _incident(self, channel_id: str) -> Incident | None:
        return await self._store.find_by_channel(channel_id) if channel_id else None

    async def _tell(self, done: Interaction, text: str) -> None:
        """Answer the person; a lost answer is logged, never a reason to redo the work."""
        try:
            await self._surface.reply(
                user_id=done.user_id,
                text=text,
                response_url=done.response_url,
                channel_id=done.channel_id,
            )
        except Exception:
            log.exception("slack.reply_failed", user_id=done.user_id)


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _json_object(text: str) -> dict[str, Any]:
    try:
        found = json.loads(text) if text else {}
    except ValueError:
        return {}
    return found if isinstance(found, dict) else {}


def _slack_time(ts: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(float(ts), tz=UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def picked_statuses(fields: Mapping[str, str], named: str | None) -> dict[str, str]:
    """The component statuses picked in the Edit modal; a component the same edit removed from
    the update (its select still shown) is left out rather than refusing the whole edit."""
    kept = {n.strip().casefold() for n in named.split(",")} if named is not None else None
    return {
        name: value
        for key, value in fields.items()
        if key.startswith(COMPONENT_STATUS_BLOCK)
        and (name := key.removeprefix(COMPONENT_STATUS_BLOCK))
        and (kept is None or name.strip().casefold() in kept)
    }
