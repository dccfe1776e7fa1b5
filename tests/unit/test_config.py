"""Settings: integrations switch on by their variables; half-configured ones stop start-up."""

from __future__ import annotations

import pytest

from incident_response.bootstrap import adapter_plan, refuse_unavailable
from incident_response.config import (
    INTEGRATIONS,
    PORTS,
    ConfigurationError,
    Integration,
    load_settings,
)
from incident_response.domain.alert import Severity


def test_no_variables_means_the_embedded_default_for_every_port() -> None:
    plan = adapter_plan(load_settings({}))
    assert [c.port for c in plan] == list(PORTS)
    assert all(c.adapter.startswith("embedded") for c in plan)


SPLITTABLE = [i for i in INTEGRATIONS if len(i.required) > 1]


@pytest.mark.parametrize("integration", SPLITTABLE, ids=lambda i: i.name)
def test_each_half_configured_integration_names_what_is_missing(integration: Integration) -> None:
    first = next(v for v in integration.required if v != "AWS_REGION")
    missing = [v for v in integration.required if v != first]
    with pytest.raises(ConfigurationError) as error:
        load_settings({first: "x"})
    message = str(error.value)
    assert integration.name in message
    for variable in missing:
        assert variable in message


def test_aws_region_alone_enables_nothing() -> None:
    plan = adapter_plan(load_settings({"AWS_REGION": "eu-west-1"}))
    assert all(c.adapter.startswith("embedded") for c in plan)


def test_a_fully_configured_integration_without_an_adapter_in_this_build_is_refused() -> None:
    settings = load_settings({"STATUSPAGE_API_KEY": "k", "STATUSPAGE_PAGE_ID": "p"})
    choice = next(c for c in adapter_plan(settings) if c.port == "StatusPage")
    assert choice.adapter.startswith("statuspage")
    if not choice.available:
        with pytest.raises(ConfigurationError, match="statuspage"):
            refuse_unavailable(settings)


def test_severity_map_merges_over_the_defaults() -> None:
    settings = load_settings({"INCIDENT_RESPONSE_SEVERITY_MAP": '{"sev0": "p1", "warning": "P2"}'})
    assert settings.severity_map["sev0"] is Severity.P1
    assert settings.severity_map["warning"] is Severity.P2
    assert settings.severity_map["critical"] is Severity.P1


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("INCIDENT_RESPONSE_SEVERITY_MAP", "{not json", "INCIDENT_RESPONSE_SEVERITY_MAP"),
        ("INCIDENT_RESPONSE_SEVERITY_MAP", '{"x": "P9"}', "P1, P2, P3 or P4"),
        ("INCIDENT_RESPONSE_LOG_LEVEL", "loud", "INCIDENT_RESPONSE_LOG_LEVEL"),
        ("INCIDENT_RESPONSE_MAX_BODY_BYTES", "0", "INCIDENT_RESPONSE_MAX_BODY_BYTES"),
        ("INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE", "many", "PER_MINUTE"),
    ],
)
def test_bad_values_are_refused_naming_the_variable(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigurationError, match=expected):
        load_settings({variable: value})


def test_lists_are_parsed_and_normalised() -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_GROUPING_LABELS": " service , team,, ",
            "INCIDENT_RESPONSE_APPROVERS": "Lead@Example.com, ,comms@example.com",
        }
    )
    assert settings.grouping_labels == ("service", "team")
    assert settings.approvers == frozenset({"lead@example.com", "comms@example.com"})


def test_secret_values_carry_every_configured_secret_and_the_rotations_old_value() -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_WEBHOOK_SECRET": "new",
            "INCIDENT_RESPONSE_WEBHOOK_SECRET_PREVIOUS": "old",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "sig",
        }
    )
    values = settings.secret_values()
    assert values["INCIDENT_RESPONSE_WEBHOOK_SECRET"] == "new"
    assert values["INCIDENT_RESPONSE_WEBHOOK_SECRET_PREVIOUS"] == "old"
    assert values["SLACK_BOT_TOKEN"] == "xoxb-1"
    assert "STATUSPAGE_API_KEY" not in values
