"""The CommandRegistry: `/incident-response <command> [args]` -> the command's module.

Adding a command is one module in this package plus one line in COMMANDS. Every invocation is
audited (SLASH_COMMAND_RECEIVED) before it runs, on the incident's chain, or on the
OUTSIDE_INCIDENTS chain when it was typed where no incident is known. Then the policy is asked
whether the person may take the action the command declares for the call (`Command.action`);
a refusal runs nothing and says who may.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping

from incident_response.commands.checklist import ChecklistCommand
from incident_response.commands.context import (
    Command,
    CommandCall,
    CommandContext,
    CommandReply,
    CommandServices,
    audit,
    not_permitted,
)
from incident_response.commands.declare import DeclareCommand
from incident_response.commands.draft import DraftCommand
from incident_response.commands.followup import FollowUpCommand
from incident_response.commands.help import HelpCommand
from incident_response.commands.ic import IcCommand
from incident_response.commands.insights import InsightsCommand
from incident_response.commands.invite import InviteCommand
from incident_response.commands.maintenance import MaintenanceCommand
from incident_response.commands.note import NoteCommand
from incident_response.commands.rate import RateCommand
from incident_response.commands.reminders import SilenceCommand, UnsilenceCommand
from incident_response.commands.resolve import ResolveCommand
from incident_response.commands.role import RoleCommand
from incident_response.commands.severity import SeverityCommand
from incident_response.commands.split import SplitCommand
from incident_response.commands.stage import StageCommand
from incident_response.commands.status import StatusCommand
from incident_response.commands.timeline import TimelineCommand
from incident_response.domain.audit import AuditEventType
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.incident import Incident
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

SLASH = "/incident-response"
OUTSIDE_INCIDENTS = "no-incident"  # the audit chain of commands typed outside any incident

CommandFactory = Callable[[CommandServices], Command]

COMMANDS: Mapping[str, CommandFactory] = {
    "status": StatusCommand,
    "draft": DraftCommand,
    "checklist": ChecklistCommand,
    "ic": IcCommand,
    "invite": InviteCommand,
    "silence": SilenceCommand,
    "unsilence": UnsilenceCommand,
    "timeline": TimelineCommand,
    "note": NoteCommand,
    "resolve": ResolveCommand,
    "rate": RateCommand,
    "help": HelpCommand,
    "insights": InsightsCommand,
    "declare": DeclareCommand,
    "split": SplitCommand,
    "severity": SeverityCommand,
    "stage": StageCommand,
    "role": RoleCommand,
    "followup": FollowUpCommand,
    "maintenance": MaintenanceCommand,
}


def parse(text: str) -> tuple[str, str]:
    """(command name, the rest). Empty text asks for help; a leading `/incident-response`
    (pasted along with the command) is ignored."""
    words = text.strip()
    if words.lower().startswith(SLASH):
        words = words[len(SLASH) :].strip()
    if not words:
        return "help", ""
    name, _, rest = words.partition(" ")
    return name.lower(), rest.strip()


class CommandRegistry:
    def __init__(
        self, *, services: CommandServices, commands: Mapping[str, CommandFactory] = COMMANDS
    ) -> None:
        self._services = services
        self._commands: dict[str, Command] = {}
        for name, factory in commands.items():
            command = factory(services)
            if command.name != name:
                raise ValueError(f"command {command.name!r} is registered as {name!r}")
            self._commands[name] = command

    @property
    def names(self) -> list[str]:
        return list(self._commands)

    def help_text(self) -> str:
        width = max(len(c.usage) for c in self._commands.values())
        lines = [f"`{SLASH} <command>`, where <command> is one of:"]
        lines += [
            f"  {c.usage.ljust(width)}  {c.summary}"
            + ("" if c.needs_incident else "  (works anywhere)")
            for c in self._commands.values()
        ]
        lines.append("The others work in an incident's war room or on its page.")
        return "\n".join(lines)

    async def handle(self, text: str, context: CommandContext) -> CommandReply:
        """Run the command in `text` for `context`; never raises for a person's mistake."""
        name, args = parse(text)
        incident, missing = await self._incident(context)
        try:
            await audit(
                self._services,
                incident.id if incident is not None else OUTSIDE_INCIDENTS,
                AuditEventType.SLASH_COMMAND_RECEIVED,
                f"slash-command:{context.invocation_id or uuid.uuid4().hex}",
                actor=context.actor.email,
                data={
                    "command": name,
                    "args": args,
                    "surface": context.surface,
                    "channel_id": context.channel_id,
                },
            )
        except Exception as exc:
            log.exception("command.audit_failed", command=name)
            return self._reply(
                name,
                CommandReply(
                    text=f"`{name}` was not run: it could not be recorded in the audit log "
                    f"({type(exc).__name__}). Try again.",
                    ok=False,
                ),
            )
        command = self._commands.get(name)
        if command is None:
            return self._reply(
                name,
                CommandReply(text=f"Unknown command `{name}`.\n\n{self.help_text()}", ok=False),
            )
        if command.needs_incident and incident is None:
            where = missing or "there is no incident for this channel"
            return self._reply(
                name,
                CommandReply(
                    text=f"`{name}` works inside an incident, and {where}: type it in the "
                    f"incident's war room.\n\n{self.help_text()}",
                    ok=False,
                ),
            )
        call = CommandCall(
            context=context, name=name, args=args, incident=incident, help_text=self.help_text()
        )
        try:
            permission = await self._services.authority.decide(
                command.action(call), incident, context.actor.email
            )
            reply = (
                await command.run(call) if permission.allowed else not_permitted(name, permission)
            )
        except IncidentResponseError as exc:
            reply = CommandReply(text=f"`{name}` failed: {exc}", ok=False)
        except Exception as exc:
            log.exception(
                "command.failed", command=name, incident_id=call.incident and call.incident.id
            )
            reply = CommandReply(
                text=f"`{name}` failed with an internal error ({type(exc).__name__}); "
                "it may not have completed. The error is logged.",
                ok=False,
            )
        return self._reply(name, reply)

    async def _incident(self, context: CommandContext) -> tuple[Incident | None, str]:
        store = self._services.store
        if context.incident_id:
            incident = await store.get(context.incident_id)
            if incident is None:
                return None, f"there is no incident {context.incident_id}"
            return incident, ""
        if context.channel_id:
            return await store.find_by_channel(context.channel_id), ""
        return None, ""

    @staticmethod
    def _reply(name: str, reply: CommandReply) -> CommandReply:
        if "command" in reply.data:
            return reply
        return CommandReply(
            text=reply.text,
            ok=reply.ok,
            ephemeral=reply.ephemeral,
            data={"command": name, **reply.data},
        )
