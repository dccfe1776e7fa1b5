"""Who may do what to an incident: one policy, asked by every surface.

Commands, the JSON API, the console, Slack and the StatusUpdateGate all ask `decide` before they
change anything, so the rules live here once. The decision is pure: the caller gathers the live
facts about the person (are they in the roster, are they an approver) into an `Actor`, and a
refusal comes back with reasons that say who may do it instead.

Standings, from the incident's point of view:
- not in the roster: the directory does not know them; they may do nothing;
- roster outsider: in the roster, not on this incident; they may read;
- responder: in `incident.responders`; they may work the incident;
- IC: `incident.ic`; approver: named by the roster (or the settings), read live.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from incident_response.domain.incident import Incident


class Action(StrEnum):
    """What a person asks to do; the value reads well in a refusal ("may not <value>")."""

    READ = "read this incident"
    DRAFT = "draft or edit a status update"
    APPROVE = "approve"
    REJECT = "reject"
    HAND_OVER_IC = "hand over the incident commander role"
    RESOLVE = "resolve the incident"
    SILENCE = "silence or resume the status update reminders"
    CHECKLIST = "change the checklist"
    INVITE = "invite people to the war room"
    RATE = "rate how the incident was run"
    NOTE = "add a note to the timeline"
    DECLARE = "declare an incident"
    CHANGE_SEVERITY = "change the severity"
    CHANGE_STAGE = "change the stage"
    ASSIGN_ROLE = "assign an incident role"
    FOLLOW_UP = "record a follow-up"
    SPLIT_ALERT = "split an alert out into its own incident"
    # issue 12, point 9: the status page's webhook subscribers and scheduled maintenance
    MANAGE_STATUS_PAGE = "manage the status page's subscribers and scheduled maintenance"


class Standing(StrEnum):
    NOT_IN_ROSTER = "not in the roster"
    OUTSIDER = "roster outsider"
    RESPONDER = "responder"
    IC = "incident commander"
    APPROVER = "approver"


WORKING = frozenset({Standing.RESPONDER, Standing.IC, Standing.APPROVER})
COMMANDING = frozenset({Standing.IC, Standing.APPROVER})
IN_ROSTER = frozenset({Standing.OUTSIDER, *WORKING})
APPROVERS = frozenset({Standing.APPROVER})

# The rule table: the standings that may take each action. Reading the docs' table from here.
RULES: Mapping[Action, frozenset[Standing]] = {
    Action.READ: IN_ROSTER,
    Action.DRAFT: WORKING,
    Action.APPROVE: COMMANDING,
    Action.REJECT: COMMANDING,
    Action.HAND_OVER_IC: COMMANDING,
    Action.RESOLVE: WORKING,
    Action.SILENCE: WORKING,
    Action.CHECKLIST: WORKING,
    Action.INVITE: WORKING,
    Action.RATE: WORKING,
    Action.NOTE: WORKING,
    Action.DECLARE: IN_ROSTER,  # asked with no incident: anyone the roster knows may declare
    Action.CHANGE_SEVERITY: WORKING,
    Action.CHANGE_STAGE: WORKING,
    Action.ASSIGN_ROLE: COMMANDING,
    Action.FOLLOW_UP: WORKING,
    Action.SPLIT_ALERT: COMMANDING,
    Action.MANAGE_STATUS_PAGE: APPROVERS,  # the page speaks for the company, not one incident
}

WHO: Mapping[frozenset[Standing], str] = {
    IN_ROSTER: "anyone in the roster",
    WORKING: "the incident's responders, its incident commander ({ic}) or an approver",
    COMMANDING: "the incident commander ({ic}) or an approver",
    APPROVERS: "an approver (INCIDENT_RESPONSE_APPROVERS or the roster's approvers)",
}


@dataclass(frozen=True)
class Actor:
    """The live facts about the person acting: gathered by `services.authority`, never here."""

    email: str
    in_roster: bool
    approver: bool = False


@dataclass(frozen=True)
class AuthorityDecision:
    """Whether the actor may act, and every reason they may not (empty when allowed)."""

    allowed: bool
    reasons: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "; ".join(self.reasons)


def normalised(email: str | None) -> str:
    return (email or "").strip().casefold()


def same_person(a: str | None, b: str | None) -> bool:
    return bool(normalised(a)) and normalised(a) == normalised(b)


def standings(incident: Incident | None, actor: Actor) -> frozenset[Standing]:
    """Every standing the actor holds on the incident (an IC may also be an approver)."""
    if not normalised(actor.email) or not actor.in_roster:
        return frozenset({Standing.NOT_IN_ROSTER})
    held = {Standing.OUTSIDER}
    if actor.approver:
        held.add(Standing.APPROVER)
    if incident is not None:
        if same_person(incident.ic, actor.email):
            held.add(Standing.IC)
        if any(same_person(r.email, actor.email) for r in incident.responders):
            held.add(Standing.RESPONDER)
    return frozenset(held)


def who_may(action: Action, incident: Incident | None) -> str:
    ic = (incident.ic if incident is not None else None) or "none assigned"
    return WHO[RULES[action]].format(ic=ic)


def decide(
    action: Action, incident: Incident | None, actor: Actor, *, target: str | None = None
) -> AuthorityDecision:
    """May `actor` take `action` on `incident`? For HAND_OVER_IC, `target` is the new IC.

    The one exception to the table: while an incident has no IC, any of its responders may
    take the role, for themselves only. With `target` unknown yet (the command has not found
    the person), that responder passes, and the command asks again with the target.
    """
    held = standings(incident, actor)
    who = actor.email.strip() or "an anonymous caller"
    if Standing.NOT_IN_ROSTER in held:
        return AuthorityDecision(
            False,
            (
                f"{who} is not in the roster, so may not {action.value}: "
                "ask whoever keeps the roster to add you",
            ),
        )
    if held & RULES[action]:
        return AuthorityDecision(True)
    if action is Action.HAND_OVER_IC and _may_take_ic(incident, held, actor, target):
        return AuthorityDecision(True)
    reason = f"{who} may not {action.value}: only {who_may(action, incident)} can"
    if action is Action.HAND_OVER_IC and incident is not None and incident.ic is None:
        if Standing.RESPONDER in held:
            reason = (
                f"{who} may not hand the incident commander role to {target}: while there is "
                "no incident commander a responder may take the role only for themselves; "
                f"{who_may(action, incident)} can hand it to someone else"
            )
        else:
            reason += ", and while there is none, a responder may take the role themselves"
    return AuthorityDecision(False, (reason,))


def _may_take_ic(
    incident: Incident | None, held: frozenset[Standing], actor: Actor, target: str | None
) -> bool:
    if incident is None or incident.ic is not None or Standing.RESPONDER not in held:
        return False
    return target is None or same_person(target, actor.email)
