"""`split <alert>`: take an alert out of this incident into an incident of its own.

For the alert storm incident above all (alerts over the cap of new incidents land there), and for
any alert that joined an incident it does not belong to. `<alert>` is its number in the
incident's list of alerts (`status` and the console list them) or its delivery id.
"""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    refused,
)
from incident_response.domain.authority import Action
from incident_response.services.alert_split import CannotSplit
from incident_response.services.storm_room import settle_line


class SplitCommand:
    name = "split"
    usage = "split <alert number or id>"
    summary = "Split an alert out of this incident into its own incident"
    needs_incident = True

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.SPLIT_ALERT

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        splitter = self._services.splitter
        if splitter is None:
            return refused("Splitting alerts is not available here.")
        if not call.args.strip():
            listing = "\n".join(
                f"  {n}. {a.title} ({a.service}, {a.delivery_id[:8]})"
                for n, a in enumerate(incident.alerts, start=1)
            )
            return refused(f"Use `split <number>`. This incident's alerts:\n{listing}")
        try:
            split = await splitter.split(incident, call.args, actor=call.actor)
        except CannotSplit as exc:
            return refused(f"Nothing was split: {exc}.")
        new = split.incident
        data = {
            "incident_id": new.id,
            "from": split.source.id,
            "delivery_id": split.alert.delivery_id,
            "alerts_left": len(split.source.alerts),
            "already": split.already,
        }
        room = f" Its war room: #{new.channel.name}." if new.channel is not None else ""
        # asked again, too: a line left unsettled by a chat failure is settled now
        await settle_line(self._services.chat, split.source, split.alert, new)
        if split.already:  # a second click or a retyped command: answered to the asker only
            return CommandReply(
                text=f"{split.alert.title!r} was split out already, into incident {new.id} "
                f"({new.severity.value}, {new.service}).{room}",
                data=data,
            )
        text = (
            f"Split {split.alert.title!r} out into incident {new.id} "
            f"({new.severity.value}, {new.service})."
        )
        if split.assembly_error:
            text += (
                f" Its war room is not assembled yet ({split.assembly_error}):"
                f" run `split {split.alert.delivery_id}` here again to retry."
            )
        else:
            text += room
        return CommandReply(text=text, ephemeral=False, data=data)
