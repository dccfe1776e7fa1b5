"""Staffing the war room: who responds (and who is IC), and getting them into the channel.

Both are assembly steps that degrade rather than fail: a room without some people is still a
room, and each person's outcome is audited so the gap is visible.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from incident_response.domain.audit import AuditEventType
from incident_response.domain.clock import Clock
from incident_response.domain.incident import ChannelRef, Incident, Responder
from incident_response.domain.people import OnCallShift, Person
from incident_response.ports import NO_METRICS, Chat, Directory, Metrics, OnCall
from incident_response.services.on_call import shift_for
from incident_response.services.war_room_steps import AssemblySteps, Step, person_of, together
from incident_response.telemetry.tracing import failed as mark_failed
from incident_response.telemetry.tracing import span

__all__ = ["invite_responders", "resolve_responders", "responders_from", "team_for"]

A = AuditEventType


async def resolve_responders(
    incident: Incident,
    *,
    oncall: OnCall,
    directory: Directory,
    clock: Clock,
    steps: AssemblySteps,
    metrics: Metrics = NO_METRICS,
) -> dict[str, Any]:
    """Who is already on the incident, on-call primary and secondary, and the service's team,
    one entry per e-mail.

    The IC is the primary on call, else the secondary, else (nobody on call) the first of
    the team: a room without an IC has nobody to approve customer updates.
    """
    if Step.RESOLVE_RESPONDERS in incident.assembly_steps:
        return dict(incident.assembly_steps[Step.RESOLVE_RESPONDERS])
    with span(Step.RESOLVE_RESPONDERS.value, incident_id=incident.id):
        return await _resolve(incident, oncall, directory, clock, steps, metrics)


async def _resolve(
    incident: Incident,
    oncall: OnCall,
    directory: Directory,
    clock: Clock,
    steps: AssemblySteps,
    metrics: Metrics,
) -> dict[str, Any]:
    now = clock.now()
    async with together() as group:
        shift_task = group.create_task(steps.attempt(shift_for(oncall, incident, at=now)))
        team_task = group.create_task(steps.attempt(team_for(directory, incident.service)))
    shift, team = shift_task.result(), team_task.result()
    # people already on the incident (the IC and declarer of a declared one) are invited too
    responders = responders_from(shift.value, team.value or [], already=incident.responders)
    failures = {
        source: tried.error
        for source, tried in (("oncall", shift), ("directory", team))
        if tried.error is not None
    }
    for source, error in failures.items():
        metrics.directory_lookup_failed(source=source)
        mark_failed(f"{source}: {error}")
        key = f"{Step.RESOLVE_RESPONDERS}:{source}"
        await steps.record(incident.id, A.DIRECTORY_LOOKUP_FAILED, key, {"error": error})
    ic = next((r for r in responders if r.role != "team"), responders[0] if responders else None)
    if ic is not None and incident.ic is None:
        await steps.record(
            incident.id,
            A.IC_ASSIGNED,
            f"{Step.RESOLVE_RESPONDERS}:ic",
            {"ic": ic.email, "because": f"{ic.role} for {incident.service}"},
        )
    result = {
        "ok": not failures,
        "failures": failures,
        "responders": [r.model_dump(mode="json") for r in responders],
        "ic": incident.ic or (ic.email if ic else None),
    }
    if shift.value is not None and shift.value.note:
        result["oncall_note"] = shift.value.note

    def staff(i: Incident) -> Incident:
        known = {r.email.lower() for r in i.responders}
        extra = tuple(r for r in responders if r.email.lower() not in known)
        return i.update(responders=(*i.responders, *extra), ic=i.ic or result["ic"])

    await steps.complete(incident.id, Step.RESOLVE_RESPONDERS, result, change=staff)
    return result


def responders_from(
    shift: OnCallShift | None, team: Sequence[Person], *, already: Sequence[Responder] = ()
) -> list[Responder]:
    """Who an incident calls for: the people `already` on it, the primary and secondary on
    call, then the service's team; one entry per e-mail, the earlier role winning. Assembly
    staffs the room with them, and a severity raise calls them again."""
    candidates = [
        (shift.primary if shift else None, "primary"),
        (shift.secondary if shift else None, "secondary"),
        *((p, "team") for p in team),
    ]
    found: dict[str, Responder] = {r.email.lower(): r for r in already}
    for person, role in candidates:
        if person is not None and person.email.lower() not in found:
            found[person.email.lower()] = Responder(
                email=person.email, name=person.name, chat_id=person.chat_id, role=role
            )
    return list(found.values())


async def team_for(directory: Directory, service: str) -> list[Person]:
    """The service's team in the directory (none when no team owns it)."""
    team = await directory.team_for_service(service)
    return [] if team is None else await directory.team_members(team)


async def invite_responders(
    incident: Incident,
    channel: ChannelRef,
    people: dict[str, Any],
    *,
    chat: Chat,
    steps: AssemblySteps,
    already: Collection[str] = (),
) -> None:
    """Everyone in one batched invite; each person's outcome audited under their e-mail.

    A batch that fails on an outage is sent again, with backoff until the step's deadline, for
    the people not yet in; a person Slack refuses (no account, deactivated) is not retried.
    `already` are e-mails a previous round invited (a repair).
    """
    if Step.INVITE_RESPONDERS in incident.assembly_steps:
        return
    with span(Step.INVITE_RESPONDERS.value, incident_id=incident.id):
        await _invite(incident, channel, people, chat=chat, steps=steps, already=already)


async def _invite(
    incident: Incident,
    channel: ChannelRef,
    people: dict[str, Any],
    *,
    chat: Chat,
    steps: AssemblySteps,
    already: Collection[str],
) -> None:
    skip = {e.lower() for e in already}
    pending = [
        r
        for r in (Responder.model_validate(r) for r in people.get("responders", []))
        if r.email.lower() not in skip
    ]
    invited: dict[str, Responder] = {}
    failed: dict[str, str] = {}
    retry: set[str] = set()
    user_ids: dict[str, str] = {}
    backoff = steps.backoff(incident.id, Step.INVITE_RESPONDERS)
    while True:
        await _invite_round(pending, channel, chat, steps, user_ids, invited, failed, retry)
        pending = [r for r in pending if r.email in retry]
        if not pending or not await backoff.again(failed[pending[0].email]):
            break
    for r in invited.values():
        data = {"email": r.email, "chat_id": r.chat_id, "role": r.role}
        key = f"{Step.INVITE_RESPONDERS}:{r.email.lower()}"
        await steps.record(incident.id, A.RESPONDER_INVITED, key, data)
    for email, reason in failed.items():
        key = f"{Step.INVITE_RESPONDERS}:failed:{email.lower()}"
        await steps.record(
            incident.id, A.RESPONDER_INVITE_FAILED, key, {"email": email, "error": reason}
        )
    ids = {r.email.lower(): r.chat_id for r in invited.values()}

    def with_chat_ids(i: Incident) -> Incident:
        return i.update(
            responders=tuple(
                r.model_copy(update={"chat_id": ids.get(r.email.lower(), r.chat_id)})
                for r in i.responders
            )
        )

    if failed:
        mark_failed(f"{len(failed)} not invited")
    result = {
        "ok": not failed,
        "invited": sorted(skip | set(ids)),
        "failed": failed,
        "retry": bool(retry),
        "attempts": backoff.attempts,
    }
    await steps.complete(incident.id, Step.INVITE_RESPONDERS, result, change=with_chat_ids)


async def _invite_round(
    pending: list[Responder],
    channel: ChannelRef,
    chat: Chat,
    steps: AssemblySteps,
    user_ids: dict[str, str],
    invited: dict[str, Responder],
    failed: dict[str, str],
    retry: set[str],
) -> None:
    """One try for the `pending` people: look up the chat ids not known yet, then one batched
    invite. Fills in who is in, who failed and which failures were outages."""
    for r in pending:
        failed.pop(r.email, None)
        retry.discard(r.email)
    unknown = [r for r in pending if r.email not in user_ids]
    async with together() as group:
        lookups = [
            group.create_task(steps.attempt(chat.user_id_for(person_of(r)))) for r in unknown
        ]
    for responder, lookup in zip(unknown, lookups, strict=True):
        tried = lookup.result()
        if tried.value:
            user_ids[responder.email] = tried.value
        else:
            failed[responder.email] = tried.error or "no chat account"
            if tried.transient:
                retry.add(responder.email)
    batch = [r for r in pending if r.email in user_ids]
    if not batch:
        return
    sent = await steps.attempt(chat.invite(channel.id, [user_ids[r.email] for r in batch]))
    refused: dict[str, str] = sent.value.failed if sent.error is None else {}
    for r in batch:
        user_id = user_ids[r.email]
        if sent.error is not None:
            failed[r.email] = sent.error
            if sent.transient:
                retry.add(r.email)
        elif user_id in refused:
            failed[r.email] = refused[user_id]
        else:
            invited[r.email] = r.model_copy(update={"chat_id": user_id})
