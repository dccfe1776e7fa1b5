"""The API's JSON shapes (DESIGN.md "Public interface"). Times are ISO 8601 UTC with a Z."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from incident_response.domain.approval import public_status_for
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.clock import isoformat
from incident_response.domain.incident import Incident
from incident_response.domain.messages import Schedule
from incident_response.domain.people import Person
from incident_response.domain.status_update import DraftKind
from incident_response.domain.timeline import incident_story
from incident_response.services.war_room_steps import unfinished_steps


def _time(value: datetime | None) -> str | None:
    return isoformat(value) if value is not None else None


def person_json(email: str | None, people: dict[str, Person]) -> dict[str, Any] | None:
    if email is None:
        return None
    person = people.get(email.lower())
    return {
        "email": email,
        "name": person.name if person else "",
        "chat_id": person.chat_id if person else "",
    }


def alert_to_assembled(incident: Incident) -> float | None:
    """Seconds from the first alert's arrival at intake to the assembled war room."""
    if incident.assembled_at is None:
        return None
    first = incident.alerts[0].at if incident.alerts else incident.created_at
    return round((incident.assembled_at - first).total_seconds(), 3)


def ic_json(incident: Incident, people: dict[str, Person]) -> dict[str, Any] | None:
    """The IC as a person; the chat id the war room knows them by wins over the directory's."""
    found = person_json(incident.ic, people)
    responder = next((r for r in incident.responders if r.email == incident.ic), None)
    if found is not None and responder is not None and responder.chat_id:
        found["chat_id"] = responder.chat_id
    return found


def roles_json(incident: Incident, people: dict[str, Person]) -> dict[str, Any]:
    """Each role beside the IC (`comms`, `scribe`, `ops`) that someone holds, as a person."""
    return {role.value: person_json(email, people) for role, email in incident.roles.items()}


def timeline_json(records: Sequence[AuditRecord]) -> list[dict[str, Any]]:
    return [
        {
            "at": isoformat(r.at),
            "type": r.type.value,
            "actor": r.actor,
            "data": r.data,
            "seq": r.seq,
        }
        for r in records
    ]


def story_json(incident: Incident, records: Sequence[AuditRecord]) -> list[dict[str, Any]]:
    """The incident's story (domain/timeline.py): the key moments, who and when, in words."""
    return [e.as_json() for e in incident_story(incident, records)]


def nudges_json(incident: Incident, reminder: Schedule | None) -> dict[str, Any]:
    return {
        "scheduled": reminder is not None,
        "enabled": bool(reminder and reminder.enabled),
        "silenced": incident.nudges_silenced,
        "interval_seconds": reminder.every_seconds if reminder else None,
        "next_at": _time(reminder.next_fire_at) if reminder and reminder.enabled else None,
    }


def channel_json(incident: Incident, timeline: Sequence[AuditRecord]) -> dict[str, Any] | None:
    if incident.channel is None:
        return None
    archived = any(r.type is AuditEventType.WAR_ROOM_ARCHIVED for r in timeline)
    return {**incident.channel.model_dump(), "archived": archived}


def incident_json(
    incident: Incident,
    *,
    timeline: Sequence[AuditRecord],
    people: dict[str, Person],
    reminder: Schedule | None,
) -> dict[str, Any]:
    return {
        "id": incident.id,
        "version": incident.version,
        "status": incident.status.value,
        "severity": incident.severity.value,
        # as the room's topic and the next draft have it (at least monitoring while mitigated)
        "stage": public_status_for(incident, DraftKind.UPDATE).value,
        "title": incident.title,
        "source": incident.source.value,
        "alert_group_id": incident.alert_group_id,
        "service": incident.service,
        "labels": incident.labels,
        # a rehearsal (label drill=true): never published, left out of the insights
        "drill": incident.is_drill,
        "links": incident.links,
        "channel": channel_json(incident, timeline),
        "ic": ic_json(incident, people),
        "roles": roles_json(incident, people),
        "responders": [
            {"email": r.email, "name": r.name, "chat_id": r.chat_id, "role": r.role}
            for r in incident.responders
        ],
        "created_at": _time(incident.created_at),
        "assembled_at": _time(incident.assembled_at),
        "mitigated_at": _time(incident.mitigated_at),
        "resolved_at": _time(incident.resolved_at),
        "alert_to_assembled_seconds": alert_to_assembled(incident),
        # war-room steps that degraded or are still under way beside (repaired in the background)
        "unfinished_steps": unfinished_steps(incident),
        "checklist": [
            {
                "id": item.id,
                "text": item.text,
                "done": item.done,
                "done_by": item.done_by,
                "done_at": _time(item.done_at),
            }
            for item in incident.checklist
        ],
        "drafts": [
            {
                "id": d.id,
                "version": d.version,
                "kind": d.kind.value,
                "status": d.status.value,
                "body": d.body,
                "title": d.title,
                "stage": d.stage.value,
                "impact": d.impact.value,
                "components": list(d.component_names),
                "superseded_by": d.superseded_by,
                "content_hash": d.content_hash,
                "created_by": d.created_by,
                "created_at": _time(d.created_at),
                "approved_by": d.approved_by,
                "published_at": _time(d.published_at),
            }
            for d in incident.drafts
        ],
        "alerts": [
            {
                "alert_group_key": a.alert_group_key,
                "title": a.title,
                "kind": a.kind.value,
                "at": _time(a.at),
            }
            for a in incident.alerts
        ],
        "status_page": incident.status_page.model_dump() if incident.status_page else None,
        "postmortem": incident.postmortem.model_dump() if incident.postmortem else None,
        "nudges": nudges_json(incident, reminder),
        "previous_incident_id": incident.previous_incident_id,
        # the story people read; `audit` keeps every record for operators
        "timeline": story_json(incident, timeline),
        "audit": timeline_json(timeline),
        "followups": [
            {
                "id": f.id,
                "text": f.text,
                "owner": f.owner,
                "created_by": f.created_by,
                "created_at": _time(f.created_at),
                "issue": f.issue.model_dump() if f.issue is not None else None,
            }
            for f in incident.followups
        ],
    }
