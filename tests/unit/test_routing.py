"""Routing rules as data: matching, first match wins, the shipped default, and bad rules named."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.config import ConfigurationError, load_settings
from incident_response.domain.alert import Alert, AlertEventKind, AlertSource, Severity
from incident_response.domain.routing import (
    RouteAction,
    Routing,
    RoutingError,
    RoutingRule,
    parse_routing,
)

AT = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


def alert(
    *,
    source: AlertSource = AlertSource.ALERTMANAGER,
    level: Severity = Severity.P2,
    **labels: str,
) -> Alert:
    return Alert(
        source=source,
        kind=AlertEventKind.FIRING,
        source_event="firing",
        alert_group_id="g1",
        title="Something",
        labels=labels,
        severity=level,
        fired_at=AT,
        received_at=AT,
        delivery_id="d1",
    )


def test_a_rule_matches_on_source_labels_and_minimum_severity_together() -> None:
    rule = RoutingRule(
        source=AlertSource.ALERTMANAGER,
        labels={"env": "staging-*", "team": "payments"},
        min_severity=Severity.P2,
        action=RouteAction.IGNORE,
    )

    assert rule.matches(alert(env="staging-eu", team="payments", level=Severity.P1))
    assert rule.matches(alert(env="staging-eu", team="payments", level=Severity.P2))
    assert not rule.matches(alert(env="staging-eu", team="payments", level=Severity.P3))
    assert not rule.matches(alert(env="production", team="payments"))
    assert not rule.matches(alert(env="staging-eu"))  # a missing label never matches
    assert not rule.matches(
        alert(source=AlertSource.GRAFANA_ONCALL, env="staging-eu", team="payments")
    )


def test_the_first_matching_rule_wins_and_no_match_opens() -> None:
    routing = parse_routing(
        [
            {"name": "quiet staging", "labels": {"env": "staging"}, "action": "ignore"},
            {"name": "staging pages", "labels": {"env": "staging"}, "action": "open"},
            {"name": "low", "labels": {"severity": "info"}, "action": "attach"},
        ]
    )

    assert routing.route(alert(env="staging")).rule == "quiet staging"
    assert routing.route(alert(env="staging")).action is RouteAction.IGNORE
    assert routing.route(alert(severity="info")).action is RouteAction.ATTACH
    fallback = routing.route(alert(env="production"))
    assert (fallback.action, fallback.rule) == (RouteAction.OPEN, None)


def test_the_shipped_default_opens_pages_joins_warnings_and_records_info() -> None:
    routing = parse_routing(None)

    def action(level: Severity, **labels: str) -> RouteAction:
        return routing.route(alert(level=level, **labels)).action

    assert action(Severity.P1, severity="critical") is RouteAction.OPEN
    assert action(Severity.P2) is RouteAction.OPEN
    assert action(Severity.P3) is RouteAction.OPEN  # no severity label: P3, still opens
    assert action(Severity.P3, severity="warning") is RouteAction.ATTACH
    assert action(Severity.P4, severity="info") is RouteAction.IGNORE
    assert parse_routing("[]").route(alert(level=Severity.P4)).action is RouteAction.OPEN


@pytest.mark.parametrize(
    ("raw", "named"),
    [
        ('[{"action": "open"}, {"name": "drop", "action": "drop"}]', "routing rule 2 ('drop')"),
        ('[{"action": "open", "min_severity": "P9"}]', "routing rule 1: min_severity"),
        ('[{"action": "open", "labels": {"env": 3}}]', "routing rule 1: labels.env"),
        ('[{"action": "open", "severity": "P2"}]', "routing rule 1: severity"),
        ('[{"source": "pagerduty", "action": "open"}]', "routing rule 1: source"),
        ('[{"labels": {"env": "x"}}]', "routing rule 1: action"),
        ('[{"name": "a", "action": "open"}, {"name": "a", "action": "ignore"}]', "used twice"),
        ('[["open"]]', "routing rule 1: a rule is an object"),
        ('{"action": "open"}', "must be a JSON list"),
        ("[{", "not valid JSON"),
    ],
)
def test_a_bad_rule_is_refused_naming_it(raw: str, named: str) -> None:
    with pytest.raises(RoutingError, match=None) as refused:
        parse_routing(raw)

    assert named in str(refused.value)


def test_settings_refuse_a_bad_rule_at_start_up_naming_it() -> None:
    bad = json.dumps([{"name": "noisy", "action": "silence"}])

    with pytest.raises(ConfigurationError) as refused:
        load_settings({"INCIDENT_RESPONSE_ROUTING": bad})

    assert "INCIDENT_RESPONSE_ROUTING" in str(refused.value)
    assert "routing rule 1 ('noisy')" in str(refused.value)
    assert "'open', 'attach' or 'ignore'" in str(refused.value)


def test_settings_hand_over_the_configured_rules() -> None:
    raw = json.dumps([{"name": "staging", "labels": {"env": "staging"}, "action": "ignore"}])

    routing = load_settings({"INCIDENT_RESPONSE_ROUTING": raw}).routing

    assert [r.name for r in routing.rules] == ["staging"]
    assert load_settings({}).routing == parse_routing(None)


# --- properties -------------------------------------------------------------------------------

VALUES = st.sampled_from(["a", "b", "staging", "prod"])
LABELS = st.dictionaries(st.sampled_from(["env", "team", "severity"]), VALUES, max_size=3)
RULES = st.builds(
    RoutingRule,
    source=st.none() | st.sampled_from(AlertSource),
    labels=st.dictionaries(
        st.sampled_from(["env", "team"]), VALUES | st.just("*") | st.just("s*"), max_size=2
    ),
    min_severity=st.none() | st.sampled_from(Severity),
    action=st.sampled_from(RouteAction),
)
ALERTS = st.builds(
    lambda source, level, labels: alert(source=source, level=level, **labels),
    st.sampled_from(AlertSource),
    st.sampled_from(Severity),
    LABELS,
)


@given(rules=st.lists(RULES, max_size=6), alert=ALERTS)
def test_the_route_is_the_first_matching_rules_action_or_open(
    rules: list[RoutingRule], alert: Alert
) -> None:
    routing = Routing(tuple(r.model_copy(update={"name": f"r{i}"}) for i, r in enumerate(rules)))

    route = routing.route(alert)

    matching = [i for i, r in enumerate(rules) if r.matches(alert)]
    if matching:
        assert route.rule == f"r{matching[0]}"
        assert route.action is rules[matching[0]].action
    else:
        assert (route.action, route.rule) == (RouteAction.OPEN, None)


@given(rules=st.lists(RULES, max_size=6), alert=ALERTS)
def test_an_ignore_rule_in_front_means_the_alert_is_never_opened(
    rules: list[RoutingRule], alert: Alert
) -> None:
    ignore_all = RoutingRule(name="ignore all", action=RouteAction.IGNORE)

    route = Routing((ignore_all, *rules)).route(alert)

    assert route.action is RouteAction.IGNORE
