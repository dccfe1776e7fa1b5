"""`silence` and `unsilence`: switch the status update reminders off and on again.

The two are one switch seen from either side, so they share one implementation and differ only
in their words and the direction they throw it.
"""

from __future__ import annotations

from incident_response.commands.context import (
    CommandCall,
    CommandReply,
    CommandServices,
    closed_reply,
)
from incident_response.domain.authority import Action


class ReminderSwitch:
    name: str
    usage: str
    summary: str
    needs_incident = True
    silences: bool  # the direction: True silences, False resumes
    on_closed: str  # what the request would do, for the answer on a resolved incident
    switched: str
    already: str

    def __init__(self, services: CommandServices) -> None:
        self._services = services

    def action(self, call: CommandCall) -> Action:
        return Action.SILENCE

    async def run(self, call: CommandCall) -> CommandReply:
        incident = call.require_incident()
        if not incident.is_open:
            return closed_reply(incident, self.on_closed)
        reminders = self._services.reminders
        switch = reminders.silence if self.silences else reminders.unsilence
        changed = await switch(incident.id, actor=call.actor)
        return CommandReply(
            text=self.switched if changed else self.already, data={"silenced": self.silences}
        )


class SilenceCommand(ReminderSwitch):
    name = usage = "silence"
    summary = "Stop the status update reminders"
    silences = True
    on_closed = "silencing reminders"
    switched = "Status update reminders are silenced. `unsilence` resumes them."
    already = "Status update reminders were already silenced. `unsilence` resumes them."


class UnsilenceCommand(ReminderSwitch):
    name = usage = "unsilence"
    summary = "Resume the status update reminders"
    silences = False
    on_closed = "resuming reminders"
    switched = "Status update reminders are on again."
    already = "Status update reminders were not silenced: they are on."
