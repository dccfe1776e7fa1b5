"""How an incident's people are named in what is read beyond the war room: the postmortem.

A postmortem is filed in the issue tracker and read across the company, so it names people the
way colleagues do: by the name the roster knows, or by their role in the incident when it knows
none. E-mail addresses and chat ids are handles for machines and never appear; a handle the
incident does not know becomes "another team member". Every other piece of personal data in
outside text (a customer's e-mail in a note, a host, an IP, a token) is stripped by
`strip_personal_data`, which leaves service names, times and numbers as they were.

Pure: built from the incident alone, no directory lookup, so a postmortem drafted while a
vendor is down names people the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from incident_response.domain.incident import Incident, Responder
from incident_response.domain.privacy import (
    found_personal_data,
    replace_people,
    strip_personal_data,
)

IC_ROLE = "the incident commander"
SYSTEM = "system"
SOMEONE = "another team member"
ROLE_WORDS: Mapping[str, str] = {
    "primary": "the primary on-call",
    "secondary": "the secondary on-call",
    "team": "a team member",
    "invited": "an invited responder",
}


def role_words(responder: Responder, *, ic: str | None) -> str:
    """A responder as a role ("the incident commander", "the primary on-call")."""
    if ic and responder.email.lower() == ic.lower():
        return IC_ROLE
    return ROLE_WORDS.get(responder.role, "a responder")


def known_name(responder: Responder) -> str:
    """The responder's name, or "" when the roster has none (or only a handle in its place)."""
    name = " ".join(responder.name.split())
    return name if name and not found_personal_data(name) else ""


@dataclass(frozen=True)
class ResponderNames:
    """Every handle (e-mail, chat id) of an incident's people -> how a reader knows them."""

    handles: Mapping[str, str]

    @classmethod
    def of(cls, incident: Incident) -> ResponderNames:
        handles: dict[str, str] = {}
        if incident.ic:
            handles[incident.ic.lower()] = IC_ROLE
        for responder in incident.responders:
            shown = known_name(responder) or role_words(responder, ic=incident.ic)
            for handle in (responder.email, responder.chat_id):
                if handle.strip():
                    handles[handle.strip().lower()] = shown
        return cls(handles=handles)

    def who(self, actor: str | None) -> str:
        """An audit record's actor (or whoever ticked a checklist item) as readers know them:
        a name, a role, "system", or "another team member" for a handle the incident lacks."""
        actor = (actor or "").strip()
        if actor in ("", SYSTEM):
            return SYSTEM
        known = self.handles.get(actor.lower())
        if known is not None:
            return known
        return SOMEONE if "@" in actor or found_personal_data(actor) else actor

    def text(self, text: str) -> str:
        """Outside text (alert title, labels, notes, change titles) fit to share: the incident's
        people by name or role, then anything else personal replaced by a placeholder."""
        return strip_personal_data(replace_people(text, self.handles))
