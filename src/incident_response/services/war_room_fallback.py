"""The war room's failure path: no channel, so the on-call people are told directly.

Kept apart from the assembler because it is the one place assembly gives up, and what it
promises (the incident is still worked by hand) reads best on its own.
"""

from __future__ import annotations

from typing import Any

from incident_response.domain.audit import AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.incident import Incident, IncidentStatus, Responder
from incident_response.ports import Chat, IncidentStore
from incident_response.services import war_room_messages as msgs
from incident_response.services.compare_and_set import save_change
from incident_response.services.war_room_steps import AssemblySteps, Step, person_of

__all__ = ["fall_back"]

A = AuditEventType
S = IncidentStatus


async def fall_back(
    incident: Incident,
    error: str,
    people: dict[str, Any],
    *,
    chat: Chat,
    store: IncidentStore,
    clock: Clock,
    steps: AssemblySteps,
) -> Incident:
    """No room: record the failure and tell the on-call people directly, so the incident is
    still worked by hand. Keys carry the assembly round, so a retry by hand that fails
    again is recorded again."""
    round_ = int(incident.assembly_steps.get(Step.START, {}).get("round", 0))
    data = {"step": Step.CREATE_CHANNEL, "error": error}
    await steps.record(incident.id, A.ASSEMBLY_FAILED, f"assembly_failed:{round_}", data)
    responders = [Responder.model_validate(r) for r in people.get("responders", [])]
    contacts = [r for r in responders if r.role != "team"] or responders
    key = f"{incident.id}:assembly_failed:{round_}"
    message = msgs.assembly_failed(incident, error, key=key)
    notified: list[str] = []
    failed: dict[str, str] = {}
    for r in contacts:
        user_id = await steps.attempt(chat.user_id_for(person_of(r)))
        sent = user_id
        if user_id.value:
            sent = await steps.attempt(chat.send_direct(user_id.value, message))
        if user_id.value and sent.error is None:
            notified.append(r.email)
        else:
            failed[r.email] = sent.error or "no chat account"
    await steps.record(
        incident.id,
        A.ASSEMBLY_FALLBACK_INITIATED,
        f"assembly_fallback:{round_}",
        {"notified": notified, "failed": failed, "nobody_on_call": not contacts},
    )
    now = clock.now()
    return await save_change(
        store,
        incident.id,
        lambda i: i.transition(S.ASSEMBLY_FAILED, at=now) if i.status is S.ASSEMBLING else i,
    )
