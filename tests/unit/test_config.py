"""Settings: integrations switch on by their variables; half-configured ones stop start-up."""

from __future__ import annotations

import pytest

from incident_response.adapter_plan import adapter_plan
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


def test_the_aws_backends_are_chosen_when_configured() -> None:
    settings = load_settings(
        {
            "INCIDENTS_TABLE_NAME": "i",
            "AUDIT_TABLE_NAME": "a",
            "AWS_REGION": "eu-west-1",
            "INCIDENT_EVENTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/e.fifo",
            "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/s",
            "GRAFANA_ONCALL_HMAC_SECRET_ID": "incident-response/production/oncall-hmac",
        }
    )
    chosen = {c.port: c.adapter for c in adapter_plan(settings)}

    assert chosen["IncidentStore"] == chosen["AuditLog"] == "dynamodb"
    assert chosen["EventQueue"] == "sqs"
    assert chosen["Scheduler"] == "eventbridge-scheduler"
    assert chosen["Secrets"] == "secrets-manager"


EVENTBRIDGE = {
    "AWS_REGION": "eu-west-1",
    "INCIDENT_EVENTS_QUEUE_URL": "https://sqs.eu-west-1.amazonaws.com/1/e.fifo",
    "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/s",
}


def test_eventbridge_refuses_a_nudge_interval_that_is_not_whole_minutes() -> None:
    with pytest.raises(ConfigurationError, match="multiple of 60 with EventBridge"):
        load_settings({**EVENTBRIDGE, "INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS": "90"})

    assert load_settings({**EVENTBRIDGE, "INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS": "120"})
    # the embedded timers take any interval
    assert load_settings({"INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS": "90"})


def test_eventbridge_needs_the_sqs_queue_it_fires_into() -> None:
    with pytest.raises(ConfigurationError, match="eventbridge-scheduler needs the sqs"):
        load_settings({"AWS_REGION": "eu-west-1", "SCHEDULER_ROLE_ARN": "arn:aws:iam::1:role/s"})


@pytest.mark.parametrize(
    "secret_id", ["oncall-hmac", "incident-response/oncall-hmac", "other/prod/oncall-hmac"]
)
def test_a_secret_id_outside_incident_response_env_name_is_refused(secret_id: str) -> None:
    with pytest.raises(ConfigurationError, match="incident-response/<env>/<name>"):
        load_settings({"AWS_REGION": "eu-west-1", "GRAFANA_ONCALL_HMAC_SECRET_ID": secret_id})


def test_vendor_urls_default_to_the_vendors_own_and_can_point_elsewhere() -> None:
    default = load_settings({})
    moved = load_settings(
        {
            "GITHUB_API_URL": "https://ghe.example.com/api/v3",
            "GITHUB_TOKEN": "t",
            "GITHUB_ORG_SLUG": "acme",
            "GITHUB_REPO_NAMES": "shop",
        }
    )

    assert default.vendor_url("GITHUB_API_URL") == "https://api.github.com"
    assert default.vendor_url("STATUSPAGE_API_URL") == "https://api.statuspage.io"
    assert default.vendor_url("LINEAR_API_URL") == "https://api.linear.app/graphql"
    assert moved.vendor_url("GITHUB_API_URL") == "https://ghe.example.com/api/v3"


def test_a_vendor_url_that_is_not_http_is_refused_by_name() -> None:
    with pytest.raises(ConfigurationError, match="OPENAI_BASE_URL: 'localhost:11434' is not"):
        load_settings({"OPENAI_MODEL": "llama3", "OPENAI_BASE_URL": "localhost:11434"})


def test_a_vendor_url_without_credentials_is_half_configured() -> None:
    with pytest.raises(ConfigurationError, match="STATUSPAGE_API_KEY, STATUSPAGE_PAGE_ID missing"):
        load_settings({"STATUSPAGE_API_URL": "http://127.0.0.1:9000"})


def test_only_one_llm_may_be_configured() -> None:
    with pytest.raises(
        ConfigurationError,
        match=r"more than one LLM is configured \(anthropic, openai-compatible\)",
    ):
        load_settings({"ANTHROPIC_API_KEY": "k", "OPENAI_MODEL": "llama3"})


@pytest.mark.parametrize(
    ("variables", "integration"),
    [
        ({"ANTHROPIC_API_KEY": "k"}, "anthropic"),
        (
            {"OPENAI_MODEL": "llama3", "OPENAI_BASE_URL": "http://127.0.0.1:11434/v1"},
            "openai-compatible",
        ),
        ({"BEDROCK_MODEL_ID": "anthropic.claude", "AWS_REGION": "eu-west-1"}, "bedrock"),
    ],
)
def test_each_llm_is_enabled_by_its_own_variables(
    variables: dict[str, str], integration: str
) -> None:
    settings = load_settings(variables)

    assert settings.enabled(integration)
    choice = next(c for c in adapter_plan(settings) if c.port == "LLM")
    assert choice.adapter.startswith(integration)


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
            "INCIDENT_RESPONSE_WEBHOOK_SECRET": "new-secret-0123456789abcdef-0123",
            "INCIDENT_RESPONSE_WEBHOOK_SECRET_PREVIOUS": "old-secret-0123456789abcdef-0123",
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_SIGNING_SECRET": "sig",
        }
    )
    values = settings.secret_values()
    assert values["INCIDENT_RESPONSE_WEBHOOK_SECRET"] == "new-secret-0123456789abcdef-0123"
    assert values["INCIDENT_RESPONSE_WEBHOOK_SECRET_PREVIOUS"] == "old-secret-0123456789abcdef-0123"
    assert values["SLACK_BOT_TOKEN"] == "xoxb-1"
    assert "STATUSPAGE_API_KEY" not in values


@pytest.mark.parametrize(
    ("variable", "value", "complaint"),
    [
        ("INCIDENT_RESPONSE_BASE_URL", "incidents.example.com", "not an http:// or https:// URL"),
        ("INCIDENT_RESPONSE_BASE_URL", "ftp://incidents.example.com", "not an http"),
        ("SLACK_API_URL", "javascript:alert(1)", "not an http"),
        ("INCIDENT_RESPONSE_WEBHOOK_SECRET", "hunter2", "shorter than 16 characters"),
        ("INCIDENT_RESPONSE_APPROVERS", "alice@example.com, bob", "not e-mail addresses: 'bob'"),
        ("LINEAR_TEAM_ID", "ENG", "is not a UUID"),
        (
            "LINEAR_LABEL_IDS",
            "9cfb482a-81e3-4154-b5b9-2c805e70a02d,Bug",
            "'Bug' is not a label UUID",
        ),
    ],
)
def test_a_bad_value_stops_start_up_naming_its_variable(
    variable: str, value: str, complaint: str
) -> None:
    with pytest.raises(ConfigurationError) as error:
        load_settings({variable: value})

    assert variable in str(error.value)
    assert complaint in str(error.value)
    if "SECRET" in variable:
        assert value not in str(error.value)  # a secret is never echoed


def test_good_values_pass() -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_BASE_URL": "https://incidents.example.com",
            "INCIDENT_RESPONSE_APPROVERS": "alice@example.com, Bob@Example.com",
            "LINEAR_TEAM_ID": "9cfb482a-81e3-4154-b5b9-2c805e70a02d",
            "LINEAR_API_KEY": "lin_api_x",
        }
    )

    assert settings.approvers == {"alice@example.com", "bob@example.com"}


def test_unknown_own_variables_are_pointed_out_with_the_closest_known_name() -> None:
    environ = {
        "INCIDENT_RESPONSE_APROVERS": "alice@example.com",
        "INCIDENT_RESPONSE_DATA_DIR": "/tmp/x",
        "UNRELATED_VARIABLE": "1",
    }

    warnings = load_settings(environ).warnings(environ)

    assert warnings == [
        "INCIDENT_RESPONSE_APROVERS is not a setting of incident-response and is ignored; "
        "did you mean INCIDENT_RESPONSE_APPROVERS?"
    ]


def test_the_mcp_commands_token_variable_is_not_taken_for_a_typo() -> None:
    environ = {"INCIDENT_RESPONSE_TOKEN": "ir_x.y"}  # read by `incident-response mcp`

    assert load_settings(environ).warnings(environ) == []


def test_a_webhook_secret_under_32_characters_is_accepted_with_a_warning() -> None:
    environ = {"INCIDENT_RESPONSE_WEBHOOK_SECRET": "twenty-characters-xx"}

    warnings = load_settings(environ).warnings(environ)

    assert len(warnings) == 1
    assert "fewer than 32 characters" in warnings[0]
    assert "twenty-characters-xx" not in warnings[0]
