"""Asking the OnCall port about an incident: one place decides which alert group it is given.

Only an alert group of the on-call system itself (an incident opened by a Grafana OnCall
webhook) names an escalation chain there; an Alertmanager group key means nothing to it, so
such incidents (and any declared by hand) are asked about by service alone.
"""

from __future__ import annotations

from datetime import datetime

from incident_response.domain.alert import AlertSource
from incident_response.domain.incident import Incident
from incident_response.domain.people import OnCallShift
from incident_response.ports import OnCall

__all__ = ["oncall_alert_group", "shift_for"]


def oncall_alert_group(incident: Incident) -> str | None:
    """The on-call system's alert group behind the incident, or None."""
    if incident.source is AlertSource.GRAFANA_ONCALL and incident.alert_group_id:
        return incident.alert_group_id
    return None


async def shift_for(oncall: OnCall, incident: Incident, *, at: datetime) -> OnCallShift:
    """Who is on call for the incident at `at`: its alert group's chain where it has one."""
    return await oncall.shift(incident.service, at=at, alert_group_id=oncall_alert_group(incident))
