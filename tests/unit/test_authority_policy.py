"""The policy itself, with no I/O: standings, case-insensitive e-mails and the IC exception."""

from __future__ import annotations

from typing import Any

import pytest

from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.authority import (
    RULES,
    Action,
    Actor,
    Standing,
    decide,
    standings,
)
from incident_response.domain.incident import Incident, Responder
from tests.support.clock import ManualClock


def an_incident(clock: ManualClock, **changes: Any) -> Incident:
    fields: dict[str, Any] = {
        "id": "inc-1",
        "severity": Severity.P2,
        "title": "Checkout errors",
        "source": AlertSource.ALERTMANAGER,
        "alert_group_id": "g",
        "alert_group_key": "alertmanager:g",
        "service": "checkout",
        "created_at": clock.now(),
        "updated_at": clock.now(),
        "ic": "Alice@Example.com",
        "responders": (Responder(email="bob@example.com", name="Bob", role="secondary"),),
    }
    fields.update(changes)
    return Incident(**fields)


def person(email: str, *, approver: bool = False, in_roster: bool = True) -> Actor:
    return Actor(email=email, in_roster=in_roster, approver=approver)


def test_standings_compare_emails_without_case(clock: ManualClock) -> None:
    incident = an_incident(clock)
    assert standings(incident, person(" alice@EXAMPLE.com")) == {Standing.OUTSIDER, Standing.IC}
    assert standings(incident, person("BOB@example.com")) == {
        Standing.OUTSIDER,
        Standing.RESPONDER,
    }
    assert standings(incident, person("carol@example.com")) == {Standing.OUTSIDER}
    assert standings(incident, person("dan@example.com", approver=True)) == {
        Standing.OUTSIDER,
        Standing.APPROVER,
    }


def test_someone_not_in_the_roster_may_do_nothing_even_if_named_ic(clock: ManualClock) -> None:
    incident = an_incident(clock)
    gone = person("alice@example.com", in_roster=False, approver=True)
    for action in Action:
        decision = decide(action, incident, gone)
        assert not decision.allowed
        assert "alice@example.com is not in the roster" in decision.text


def test_every_action_has_a_rule_and_reading_is_open_to_the_roster() -> None:
    assert set(RULES) == set(Action)
    assert Standing.OUTSIDER in RULES[Action.READ]
    assert all(Standing.NOT_IN_ROSTER not in allowed for allowed in RULES.values())


@pytest.mark.parametrize(
    ("ic", "actor", "target", "allowed"),
    [
        (None, "bob@example.com", "bob@example.com", True),  # a responder takes it
        (None, "bob@example.com", "BOB@example.com", True),
        (None, "bob@example.com", None, True),  # not knowing the target yet
        (None, "bob@example.com", "carol@example.com", False),  # but gives it to nobody else
        (None, "carol@example.com", "carol@example.com", False),  # not a responder
        ("alice@example.com", "bob@example.com", "bob@example.com", False),  # there is an IC
        ("alice@example.com", "alice@example.com", "carol@example.com", True),
    ],
)
def test_the_ic_role_while_there_is_none(
    clock: ManualClock, ic: str | None, actor: str, target: str | None, allowed: bool
) -> None:
    incident = an_incident(clock, ic=ic)
    decision = decide(Action.HAND_OVER_IC, incident, person(actor), target=target)
    assert decision.allowed is allowed
    assert bool(decision.reasons) is not allowed
