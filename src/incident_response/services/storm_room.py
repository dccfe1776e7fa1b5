"""StormRoom: the alert storm incident's war room gets a line for each alert that joins it, so
the room, not only the console, shows what the storm holds and how to split an alert out: each
line carries a Split out button (`SPLIT_OUT`, pressed as `split <delivery id>` by whoever
clicks it), and once the alert is split out (`settle_line`, whatever surface asked) the line
says where it went and loses its button."""

from __future__ import annotations

from incident_response.domain.chat import ButtonStyle, ChatButton, ChatMessage
from incident_response.domain.incident import AttachedAlert, Incident
from incident_response.ports import Chat, IncidentStore
from incident_response.services.incident_opener import is_storm
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

ID_CHARS = 12  # enough of a delivery id for `split` (it takes a unique prefix)
# the button on each line: its value is the alert's delivery id, the argument of `split`
SPLIT_OUT = "alert.split"


def _named(alert: AttachedAlert) -> str:
    severity = f", {alert.severity.value}" if alert.severity is not None else ""
    return f"{alert.title} ({alert.service}{severity})"


def storm_line(incident: Incident, alert: AttachedAlert) -> ChatMessage:
    ref = alert.delivery_id[:ID_CHARS]
    return ChatMessage(
        text=f"Alert storm: {_named(alert)} is one of the "
        f"{len(incident.alerts)} alert(s) here. `split {ref}` gives it an incident of its own.",
        buttons=(
            ChatButton(
                action=SPLIT_OUT,
                label="Split out",
                value=alert.delivery_id,
                style=ButtonStyle.PRIMARY,
                confirm=f"Split {alert.title} out into an incident of its own? It gets its own "
                "war room, and its on-call is paged.",
            ),
        ),
        key=f"storm-alert:{alert.delivery_id}",
    )


def split_out_line(alert: AttachedAlert, incident: Incident) -> ChatMessage:
    """The alert's line once it is split out: where it went, and no button to press again."""
    room = f" (war room #{incident.channel.name})" if incident.channel is not None else ""
    return ChatMessage(
        text=f"Alert storm: {_named(alert)} was split out into incident {incident.id}{room}.",
        key=f"storm-alert:{alert.delivery_id}",
    )


async def settle_line(chat: Chat, source: Incident, alert: AttachedAlert, new: Incident) -> bool:
    """After a split out of the storm incident: the alert's line says where it went and loses
    its button, on every surface. The line is found by its key (posting with it returns the
    posted line; a line never posted is posted settled). A chat failure is logged, never
    raised: the split is done, and the line only lags behind."""
    if not is_storm(source) or source.channel is None:
        return False
    line = split_out_line(alert, new)
    try:
        message_id = await chat.post(source.channel.id, line)
        await chat.update(source.channel.id, message_id, line)
    except Exception:
        log.warning("storm_room.settle_failed", incident_id=source.id, delivery=alert.delivery_id)
        return False
    return True


class StormRoom:
    def __init__(self, *, store: IncidentStore, chat: Chat) -> None:
        self._store = store
        self._chat = chat

    async def announce(self, incident_id: str, delivery_id: str) -> bool:
        """Post the alert's line in the storm incident's room, once (the message key); True when
        there was a line to post. A chat failure is logged, never raised: the alert is on the
        incident already, and the console lists it."""
        incident = await self._store.get(incident_id)
        if incident is None or not is_storm(incident) or incident.channel is None:
            return False
        alert = next((a for a in incident.alerts if a.delivery_id == delivery_id), None)
        if alert is None:
            return False
        try:
            await self._chat.post(incident.channel.id, storm_line(incident, alert))
        except Exception:
            log.warning("storm_room.post_failed", incident_id=incident_id, delivery_id=delivery_id)
            return False
        return True
