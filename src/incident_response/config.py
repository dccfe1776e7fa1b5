"""Settings, validated once at start-up.

Every integration is enabled by its own variables and falls back to its embedded adapter when they
are absent. A half-configured integration (some of its required variables set, others not) stops
start-up with a message naming what is missing, because silently falling back would send a real
incident's war room to the wrong place.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from incident_response.domain.alert import DEFAULT_SEVERITY_MAP, Severity
from incident_response.domain.public import DEFAULT_COMPONENT, ComponentMap, component_problems
from incident_response.domain.routing import Routing, parse_routing


@dataclass(frozen=True)
class Integration:
    """One vendor integration: the variables that switch it on and the port it serves."""

    name: str
    ports: tuple[str, ...]
    required: tuple[str, ...]
    optional: tuple[str, ...] = ()


# The variables of the original service, grouped by the integration they enable. AWS_REGION is
# shared by the AWS integrations and switches none of them on by itself.
INTEGRATIONS: tuple[Integration, ...] = (
    Integration(
        "slack",
        ("Chat",),
        ("SLACK_BOT_TOKEN", "SLACK_SIGNING_SECRET"),
        ("SLACK_APP_TOKEN",),
    ),
    Integration(
        "grafana-oncall",
        ("OnCall",),
        ("GRAFANA_ONCALL_TOKEN",),
        ("GRAFANA_ONCALL_API_URL", "INCIDENT_RESPONSE_ONCALL_ACKNOWLEDGE"),
    ),
    Integration(
        "grafana-cloud",
        ("Telemetry",),
        ("GRAFANA_CLOUD_TOKEN", "GRAFANA_CLOUD_ORG_ID"),
        ("GRAFANA_CLOUD_PROMETHEUS_URL", "GRAFANA_CLOUD_LOKI_URL", "GRAFANA_CLOUD_TEMPO_URL"),
    ),
    Integration(
        "statuspage",
        ("StatusPage",),
        ("STATUSPAGE_API_KEY", "STATUSPAGE_PAGE_ID"),
        ("STATUSPAGE_API_URL",),
    ),
    Integration(
        "linear",
        ("IssueTracker",),
        ("LINEAR_API_KEY", "LINEAR_TEAM_ID"),
        ("LINEAR_PROJECT_ID", "LINEAR_API_URL", "LINEAR_LABEL_IDS"),
    ),
    Integration(
        "workos",
        ("Directory",),
        ("WORKOS_API_KEY", "WORKOS_DIRECTORY_ID", "WORKOS_TEAM_GROUP_MAP"),
        ("WORKOS_API_URL",),
    ),
    Integration(
        "github",
        ("CodeHost",),
        ("GITHUB_TOKEN", "GITHUB_ORG_SLUG", "GITHUB_REPO_NAMES"),
        ("GITHUB_API_URL",),
    ),
    Integration(
        "bedrock",
        ("LLM",),
        ("BEDROCK_MODEL_ID", "AWS_REGION"),
        ("BEDROCK_CLASSIFIER_MODEL_ID",),
    ),
    Integration(
        "anthropic",
        ("LLM",),
        ("ANTHROPIC_API_KEY",),
        ("ANTHROPIC_BASE_URL", "ANTHROPIC_MODEL", "ANTHROPIC_CLASSIFIER_MODEL"),
    ),
    Integration(
        "openai-compatible",
        ("LLM",),
        ("OPENAI_MODEL",),
        ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_CLASSIFIER_MODEL"),
    ),
    Integration(
        "dynamodb",
        ("IncidentStore", "AuditLog", "Credentials"),
        ("INCIDENTS_TABLE_NAME", "AUDIT_TABLE_NAME", "AWS_REGION"),
    ),
    Integration(
        "sqs",
        ("EventQueue",),
        ("INCIDENT_EVENTS_QUEUE_URL", "AWS_REGION"),
        ("NUDGE_EVENTS_QUEUE_URL", "SLA_CHECK_QUEUE_URL"),
    ),
    Integration("eventbridge-scheduler", ("Scheduler",), ("SCHEDULER_ROLE_ARN", "AWS_REGION")),
    Integration("secrets-manager", ("Secrets",), ("GRAFANA_ONCALL_HMAC_SECRET_ID", "AWS_REGION")),
)

# Each vendor's base URL when its variable is unset: the vendor's public endpoint. Grafana's are
# per stack (the portal shows yours); the defaults are Grafana Cloud's documented us-central ones.
VENDOR_URLS: dict[str, str] = {
    "SLACK_API_URL": "https://slack.com/api/",
    "STATUSPAGE_API_URL": "https://api.statuspage.io",
    "LINEAR_API_URL": "https://api.linear.app/graphql",
    "WORKOS_API_URL": "https://api.workos.com",
    "GRAFANA_ONCALL_API_URL": "https://oncall-prod-us-central-0.grafana.net/oncall",
    "GRAFANA_CLOUD_PROMETHEUS_URL": "https://prometheus-prod-10-prod-us-central-0.grafana.net/api/prom",
    "GRAFANA_CLOUD_LOKI_URL": "https://logs-prod-017.grafana.net",
    "GRAFANA_CLOUD_TEMPO_URL": "https://tempo-prod-04-prod-us-central-0.grafana.net/tempo",
    "GITHUB_API_URL": "https://api.github.com",
    "ANTHROPIC_BASE_URL": "https://api.anthropic.com",
    "OPENAI_BASE_URL": "https://api.openai.com/v1",
}

# A Secrets Manager secret of the service: incident-response/<env>/<name> (docs/aws.md).
SECRET_ID = re.compile(r"^incident-response/([a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?)/([^/\s]+)$")

# Only one LLM integration may be enabled at a time: the drafter is one adapter.
LLM_INTEGRATIONS: tuple[str, ...] = ("bedrock", "anthropic", "openai-compatible")

# A shorter INCIDENT_RESPONSE_AUDIT_KEY or _API_TOKEN_KEY is refused: MACs and signatures are
# only as strong as the key.
MIN_AUDIT_KEY_CHARS = 16
# A webhook secret under 16 characters is refused; under 32 it is accepted with a warning.
MIN_WEBHOOK_SECRET_CHARS = 16
GOOD_WEBHOOK_SECRET_CHARS = 32
OWN_PREFIX = "INCIDENT_RESPONSE_"
# read by commands (`incident-response mcp`; `serve`'s --role, for the container image), not
# settings of the service
ROLE_VARIABLE = "INCIDENT_RESPONSE_ROLE"
CLIENT_VARIABLES = frozenset({"INCIDENT_RESPONSE_TOKEN", ROLE_VARIABLE})
EMAIL = re.compile(r"^[^@\s,]+@[^@\s,]+\.[^@\s,]+$")
UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

# Variables that, when set, mean the operator meant to enable that integration.
_SHARED = {"AWS_REGION"}

PORTS: tuple[str, ...] = (
    "IncidentStore",
    "AuditLog",
    "EventQueue",
    "Scheduler",
    "Chat",
    "Directory",
    "OnCall",
    "Telemetry",
    "StatusPage",
    "IssueTracker",
    "CodeHost",
    "LLM",
    "Secrets",
    "Credentials",
)


class ConfigurationError(Exception):
    """Settings that cannot run; the message says which variable to set or fix."""


Role = Literal["all", "webhook", "processor"]


# the platform's collector, where OTLP goes when export is on and no endpoint is named
DEFAULT_OTLP_ENDPOINT = "http://otel-collector.observability.svc.cluster.local:4318"


class Settings(BaseSettings):
    """Everything the service reads from its environment."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_file=None)

    # --- the original service's variables -------------------------------------------------
    slack_bot_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    grafana_oncall_token: SecretStr | None = None
    grafana_cloud_token: SecretStr | None = None
    grafana_cloud_org_id: str | None = None
    statuspage_api_key: SecretStr | None = None
    statuspage_page_id: str | None = None
    linear_api_key: SecretStr | None = None
    linear_project_id: str | None = None
    linear_team_id: str | None = None
    workos_api_key: SecretStr | None = None
    workos_team_group_map: str | None = None
    github_token: SecretStr | None = None
    github_org_slug: str | None = None
    github_repo_names: str | None = None
    incidents_table_name: str | None = None
    audit_table_name: str | None = None
    incident_events_queue_url: str | None = None
    nudge_events_queue_url: str | None = None
    sla_check_queue_url: str | None = None
    scheduler_role_arn: str | None = None
    aws_region: str | None = None
    grafana_oncall_hmac_secret_id: str | None = None
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base (GovSlack, test servers)."
    )

    # --- the production integrations' further variables ------------------------------------
    # Base URLs: unset means the vendor's public endpoint (VENDOR_URLS); read them through
    # `vendor_url(...)`. Setting one without its integration's credentials is half-configured.
    statuspage_api_url: str | None = None
    linear_api_url: str | None = None
    linear_label_ids: str | None = Field(
        default=None, description="Comma-separated Linear label UUIDs put on every postmortem."
    )
    workos_api_url: str | None = None
    workos_directory_id: str | None = None
    grafana_oncall_api_url: str | None = None
    grafana_cloud_prometheus_url: str | None = None
    grafana_cloud_loki_url: str | None = None
    grafana_cloud_tempo_url: str | None = None
    github_api_url: str | None = None
    anthropic_api_key: SecretStr | None = None
    anthropic_base_url: str | None = None
    anthropic_model: str | None = None
    anthropic_classifier_model: str | None = None
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str | None = None
    openai_classifier_model: str | None = None
    bedrock_model_id: str | None = None
    bedrock_classifier_model_id: str | None = None

    # --- this implementation's own -------------------------------------------------------
    incident_response_data_dir: Path = Field(default=Path(".incident-response"))
    incident_response_webhook_secret: SecretStr | None = None
    incident_response_webhook_secret_previous: SecretStr | None = Field(
        default=None, description="The old secret, still accepted while a rotation is under way."
    )
    incident_response_audit_key: SecretStr | None = Field(
        default=None,
        description="Key of the audit log's MACs; set from outside the data dir, so that whoever "
        "can edit the database cannot re-seal it (default: the data dir's audit-key file).",
    )
    incident_response_api_token_key: SecretStr | None = Field(
        default=None,
        description="Key API tokens and console sessions are signed with; every replica must "
        "share it (default: the data dir's api-token-key file, refused with DynamoDB).",
    )
    incident_response_base_url: str | None = Field(
        default=None, description="Public URL of this service, for links in chat and postmortems."
    )
    incident_response_log_level: str = "info"
    incident_response_max_body_bytes: int = Field(default=1_048_576, gt=0)
    incident_response_grouping_labels: str = Field(
        default="service,alertname", description="Labels whose values group an alert storm."
    )
    incident_response_storm_window_seconds: float = Field(default=600, ge=0)
    incident_response_max_new_incidents_per_minute: int = Field(default=10, ge=1)
    incident_response_severity_map: str | None = Field(
        default=None, description='JSON mapping of label values to P1-P4, e.g. {"sev0": "P1"}.'
    )
    incident_response_nudge_interval_seconds: float = Field(default=900, gt=0)
    incident_response_routing: str | None = Field(
        default=None,
        description="JSON list of routing rules, first match wins (docs/routing.md); unset: "
        "P1-P3 open, severity=warning joins an open incident of its service, P4 is recorded.",
    )
    incident_response_approvers: str = Field(
        default="", description="Comma-separated e-mails allowed to approve besides the IC."
    )
    incident_response_queue_max_receives: int = Field(default=5, ge=1)
    incident_response_schedule_group: str = Field(
        default="default",
        pattern=r"^[0-9a-zA-Z\-_.]{1,64}$",
        description="The EventBridge Scheduler schedule group the incidents' timers live in.",
    )
    incident_response_queue_visibility_timeout_seconds: float = Field(
        default=60, gt=0, description="How long a crashed processor's message stays hidden."
    )
    incident_response_processor_concurrency: int = Field(default=16, ge=1)
    incident_response_assembly_step_deadline_seconds: float = Field(
        default=20,
        ge=0,
        description="How long a war-room step failing on a vendor outage is retried before the "
        "room is assembled without it (it is then repaired in the background).",
    )
    incident_response_slack_timeline_emoji: str = Field(
        default="pushpin",
        description="Reacting with this emoji in a war room adds a timeline note.",
    )
    incident_response_http_header_timeout_seconds: float = Field(
        default=10, gt=0, description="A request's head must arrive within this; else closed."
    )
    incident_response_http_body_timeout_seconds: float = Field(
        default=30, gt=0, description="A request's body must arrive within this after its head."
    )
    incident_response_http_max_connections: int = Field(
        default=1000, ge=1, description="Open connections beyond this are answered 503."
    )
    incident_response_status_page_components: str = Field(
        default="",
        description="Service to public status-page component, e.g. "
        '"checkout=Checkout,payments-api=Payments".',
    )
    incident_response_status_page_url: str | None = Field(
        default=None,
        description="The public status page people open (bookmarked in every war room), "
        "when it is not the one the service publishes to (a proxy, a vanity address); "
        "default: the built-in /status, or with Statuspage the page's own address.",
    )
    incident_response_status_page_default_component: str = Field(
        default=DEFAULT_COMPONENT,
        description="The public component for services the map does not name.",
    )
    incident_response_oncall_acknowledge: bool | None = Field(
        default=None,
        description="Acknowledge the Grafana OnCall alert group once its war room is assembled "
        "(stops the escalation paging further people); unset means false.",
    )
    incident_response_http_call_timeout_seconds: float = Field(
        default=5,
        gt=0,
        description="Each outbound vendor call (one attempt) must finish within this.",
    )
    incident_response_llm_timeout_seconds: float = Field(
        default=45,
        gt=0,
        description="How long one LLM draft may take before the built-in drafter's is used.",
    )
    incident_response_announcements_channel: str | None = Field(
        default=None,
        description="Chat channel id for resolution announcements (Slack: C...); the embedded "
        "console uses the roster's announcements channel.",
    )
    # issue 12, point 9: status page controls
    incident_response_status_page_name: str = Field(
        default="Status",
        min_length=1,
        max_length=100,
        description="The built-in public status page's name (its heading, title and JSON).",
    )
    incident_response_status_page_logo_url: str | None = Field(
        default=None, description="An image shown beside the built-in page's name (http/https)."
    )
    incident_response_status_page_home_url: str | None = Field(
        default=None, description="The company's website, linked from the built-in page's logo."
    )
    incident_response_status_webhook_max_tries: int = Field(
        default=5,
        ge=1,
        le=20,
        description="Tries per subscriber webhook delivery before it is given up and recorded.",
    )
    incident_response_status_webhook_allow_private: bool = Field(
        default=False,
        description="Let webhook subscribers be private, loopback or link-local addresses "
        "(tests and closed networks only: otherwise a subscriber could reach internal services).",
    )
    # --- telemetry (issue 13, point 1; docs/observability.md) ---------------------------------
    incident_response_environment: str = Field(
        default="development",
        min_length=1,
        description="deployment.environment on every span and metric (development, staging, "
        "production).",
    )
    incident_response_otlp_export: bool = Field(
        default=False,
        description="Export traces and metrics over OTLP/HTTP to OTEL_EXPORTER_OTLP_ENDPOINT "
        "(on by itself when that variable is set).",
    )
    otel_exporter_otlp_endpoint: str | None = Field(
        default=None,
        description="The OpenTelemetry collector's OTLP/HTTP base URL (the standard variable).",
    )

    @property
    def otlp_endpoint(self) -> str | None:
        """Where telemetry is exported, or None: export is off unless asked for, so a
        one-machine install does not log a failed export to a cluster name every minute."""
        if self.otel_exporter_otlp_endpoint:
            return self.otel_exporter_otlp_endpoint.rstrip("/")
        if self.incident_response_otlp_export:
            return DEFAULT_OTLP_ENDPOINT
        return None

    @field_validator("incident_response_log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.lower()
        if level not in {"debug", "info", "warning", "error"}:
            raise ValueError("must be one of debug, info, warning, error")
        return level

    @field_validator("incident_response_audit_key", "incident_response_api_token_key")
    @classmethod
    def _long_enough_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if len(value.get_secret_value().strip()) < MIN_AUDIT_KEY_CHARS:
            raise ValueError(
                f"must be at least {MIN_AUDIT_KEY_CHARS} characters "
                "(for example the output of `openssl rand -base64 32`)"
            )
        return value

    @field_validator("incident_response_routing")
    @classmethod
    def _valid_routing(cls, value: str | None) -> str | None:
        parse_routing(value)  # a RoutingError (a ValueError) names the bad rule
        return value

    @field_validator("incident_response_severity_map")
    @classmethod
    def _valid_severity_map(cls, value: str | None) -> str | None:
        if value is not None:
            _parse_severity_map(value)
        return value

    @field_validator(
        "incident_response_base_url",
        "incident_response_status_page_url",
        "incident_response_status_page_logo_url",
        "incident_response_status_page_home_url",
        "slack_api_url",
        "statuspage_api_url",
        "linear_api_url",
        "workos_api_url",
        "grafana_oncall_api_url",
        "grafana_cloud_prometheus_url",
        "grafana_cloud_loki_url",
        "grafana_cloud_tempo_url",
        "github_api_url",
        "anthropic_base_url",
        "openai_base_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not _is_http_url(value):
            raise ValueError(f"{value!r} is not an http:// or https:// URL")
        return value

    @field_validator(
        "incident_response_webhook_secret", "incident_response_webhook_secret_previous"
    )
    @classmethod
    def _long_enough_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value().strip()) < MIN_WEBHOOK_SECRET_CHARS:
            raise ValueError(
                f"shorter than {MIN_WEBHOOK_SECRET_CHARS} characters: a guessable secret lets "
                f"anyone open incidents (make one with `openssl rand -base64 32`)"
            )
        return value

    @field_validator("incident_response_approvers")
    @classmethod
    def _approver_emails(cls, value: str) -> str:
        wrong = [e.strip() for e in value.split(",") if e.strip() and not EMAIL.match(e.strip())]
        if wrong:
            raise ValueError(f"not e-mail addresses: {', '.join(repr(w) for w in wrong)}")
        return value

    @field_validator("workos_team_group_map")
    @classmethod
    def _valid_team_group_map(cls, value: str | None) -> str | None:
        if value is not None and value.strip():
            parse_team_group_map(value)
        return value

    @field_validator("workos_directory_id")
    @classmethod
    def _directory_id(cls, value: str | None) -> str | None:
        if value is not None and value.strip() and not WORKOS_DIRECTORY_ID.match(value.strip()):
            raise ValueError(
                f"{value!r} is not a WorkOS directory id (they look like directory_01E...)"
            )
        return value.strip() if value is not None else None

    @field_validator("linear_team_id")
    @classmethod
    def _team_uuid(cls, value: str | None) -> str | None:
        if value is not None and not UUID.match(value.strip()):
            raise ValueError(
                f"{value!r} is not a UUID: Linear's issueCreate takes the team's id, not its key"
            )
        return value

    @field_validator("linear_label_ids")
    @classmethod
    def _label_uuids(cls, value: str | None) -> str | None:
        wrong = [
            p.strip() for p in (value or "").split(",") if p.strip() and not UUID.match(p.strip())
        ]
        if wrong:
            raise ValueError(
                f"{', '.join(repr(w) for w in wrong)} is not a label UUID: Linear's issueCreate "
                "takes label ids, not names"
            )
        return value

    def warnings(self, environ: Mapping[str, str]) -> list[str]:
        """What start-up should point out without refusing: unknown INCIDENT_RESPONSE_*
        variables (most likely typos, silently ignored otherwise) and a short webhook secret."""
        found = []
        known = {name.upper() for name in type(self).model_fields} | CLIENT_VARIABLES
        for name in sorted(environ):
            upper = name.upper()
            if upper.startswith(OWN_PREFIX) and upper not in known:
                close = difflib.get_close_matches(upper, sorted(known), n=1, cutoff=0.6)
                hint = f"; did you mean {close[0]}?" if close else ""
                found.append(f"{name} is not a setting of incident-response and is ignored{hint}")
        secret = self.incident_response_webhook_secret
        if (
            secret is not None
            and len(secret.get_secret_value().strip()) < GOOD_WEBHOOK_SECRET_CHARS
        ):
            found.append(
                f"INCIDENT_RESPONSE_WEBHOOK_SECRET has fewer than {GOOD_WEBHOOK_SECRET_CHARS} "
                "characters; use a longer random one (`openssl rand -base64 32`)"
            )
        return found

    @field_validator("incident_response_status_page_components")
    @classmethod
    def _valid_component_map(cls, value: str) -> str:
        _parse_component_map(value)
        return value

    @field_validator("incident_response_status_page_name")
    @classmethod
    def _one_line_page_name(cls, value: str) -> str:
        name = value.strip()
        if not name or "\n" in name or "\r" in name:
            raise ValueError("the status page's name must be one non-empty line")
        return name

    @field_validator("incident_response_status_page_default_component")
    @classmethod
    def _valid_default_component(cls, value: str) -> str:
        problems = component_problems([value.strip()])
        if problems:
            raise ValueError("; ".join(problems))
        return value.strip()

    @model_validator(mode="after")
    def _no_half_configured_integration(self) -> Settings:
        problems = [problem for i in INTEGRATIONS if (problem := self._half_configured(i))]
        llms = [name for name in LLM_INTEGRATIONS if self.enabled(name)]
        if len(llms) > 1:
            problems.append(
                f"more than one LLM is configured ({', '.join(llms)}): the drafter is one "
                "adapter, so unset the variables of all but one"
            )
        problems.extend(self._aws_problems())
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def _aws_problems(self) -> list[str]:
        """What the AWS backends need of each other: EventBridge Scheduler fires into the SQS
        queue the processors read, in whole minutes; the webhook secret's ID names its env."""
        problems: list[str] = []
        if self.enabled("eventbridge-scheduler"):
            if not self.enabled("sqs"):
                problems.append(
                    "eventbridge-scheduler needs the sqs integration (INCIDENT_EVENTS_QUEUE_URL): "
                    "its schedules put their messages on that queue"
                )
            if self.incident_response_nudge_interval_seconds % 60:
                problems.append(
                    "INCIDENT_RESPONSE_NUDGE_INTERVAL_SECONDS must be a multiple of 60 with "
                    "EventBridge Scheduler (its rates are whole minutes), got "
                    f"{self.incident_response_nudge_interval_seconds:g}"
                )
        secret_id = self.grafana_oncall_hmac_secret_id
        if secret_id and not SECRET_ID.fullmatch(secret_id):
            problems.append(
                f"GRAFANA_ONCALL_HMAC_SECRET_ID {secret_id!r} must be "
                "incident-response/<env>/<name> (e.g. incident-response/production/"
                "grafana-oncall-hmac): the env selects every secret the service reads"
            )
        return problems

    def vendor_url(self, variable: str) -> str:
        """The vendor base URL `variable` names: its setting, else the vendor's public one."""
        return (self.value_of(variable) or VENDOR_URLS[variable]).strip()

    def _half_configured(self, integration: Integration) -> str | None:
        given = [v for v in integration.required + integration.optional if self.value_of(v)]
        if not [v for v in given if v not in _SHARED]:
            return None
        missing = [v for v in integration.required if not self.value_of(v)]
        if not missing:
            return None
        return (
            f"{integration.name} is half-configured: {', '.join(given)} set but "
            f"{', '.join(missing)} missing"
        )

    def value_of(self, variable: str) -> str | None:
        value: Any = getattr(self, variable.lower())
        if isinstance(value, SecretStr):
            value = value.get_secret_value()
        return str(value) if value not in (None, "") else None

    def enabled(self, integration_name: str) -> bool:
        integration = next(i for i in INTEGRATIONS if i.name == integration_name)
        return all(self.value_of(v) for v in integration.required)

    def secret_values(self) -> dict[str, str]:
        """Every secret setting by its variable name, for the environment-backed Secrets adapter.

        `INCIDENT_RESPONSE_WEBHOOK_SECRET_PREVIOUS` is the rotation's old value under the name the
        adapter looks for (`<NAME>_PREVIOUS`)."""
        values: dict[str, str] = {}
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value():
                values[name.upper()] = value.get_secret_value()
        return values

    # --- derived, typed views -------------------------------------------------------------
    @property
    def data_dir(self) -> Path:
        return self.incident_response_data_dir

    @property
    def database_path(self) -> Path:
        return self.data_dir / "incident-response.sqlite3"

    @property
    def roster_path(self) -> Path:
        return self.data_dir / "roster.yaml"

    @property
    def grouping_labels(self) -> tuple[str, ...]:
        return tuple(
            x.strip() for x in self.incident_response_grouping_labels.split(",") if x.strip()
        )

    @property
    def severity_map(self) -> dict[str, Severity]:
        mapping = dict(DEFAULT_SEVERITY_MAP)
        if self.incident_response_severity_map:
            mapping.update(_parse_severity_map(self.incident_response_severity_map))
        return mapping

    @property
    def routing(self) -> Routing:
        return parse_routing(self.incident_response_routing)

    @property
    def approvers(self) -> frozenset[str]:
        return frozenset(
            e.strip().lower() for e in self.incident_response_approvers.split(",") if e.strip()
        )

    @property
    def workos_team_groups(self) -> dict[str, str]:
        """WORKOS_TEAM_GROUP_MAP read: team name -> WorkOS directory group id."""
        raw = self.workos_team_group_map
        return parse_team_group_map(raw) if raw and raw.strip() else {}

    @property
    def status_page_components(self) -> ComponentMap:
        return ComponentMap(
            by_service=_parse_component_map(self.incident_response_status_page_components),
            default=self.incident_response_status_page_default_component,
        )


def _parse_component_map(raw: str) -> dict[str, str]:
    """`service=Component,...`: services are internal names, components what customers see."""
    mapping: dict[str, str] = {}
    for pair in (p.strip() for p in raw.split(",")):
        if not pair:
            continue
        service, sep, component = (x.strip() for x in pair.partition("="))
        if not sep or not service or not component:
            raise ValueError(f"{pair!r} is not service=Component (e.g. checkout=Checkout)")
        problems = component_problems([component])
        if problems:
            raise ValueError("; ".join(problems))
        mapping[service] = component
    return mapping


WORKOS_DIRECTORY_ID = re.compile(r"^directory_[0-9A-Za-z]+$")
WORKOS_GROUP_ID = re.compile(r"^directory_group_[0-9A-Za-z]+$")
TEAM_NAME = re.compile(r"^[^\s=,:\"{}]+$")


def parse_team_group_map(raw: str) -> dict[str, str]:
    """WORKOS_TEAM_GROUP_MAP: which WorkOS directory group holds each team's people.

    Two spellings, the same meaning: a JSON object `{"payments": "directory_group_01H..."}`, or
    `team=group` pairs separated by commas (`payments=directory_group_01H...,platform=...`).
    Team names are those the roster's `services` map to; group ids are WorkOS's
    `directory_group_...` ids (names are not unique in a directory, ids are)."""
    text = raw.strip()
    pairs: list[tuple[str, str]] = []
    if text.startswith(("{", "[")):
        try:
            doc = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not valid JSON ({exc.msg})") from exc
        if not isinstance(doc, dict):
            raise ValueError('must be a JSON object such as {"payments": "directory_group_01H..."}')
        for team, group in doc.items():
            if not isinstance(group, str):
                raise ValueError(f"team {team!r}: the group id must be a string")
            pairs.append((str(team).strip(), group.strip()))
    else:
        for pair in (p.strip() for p in text.split(",")):
            if not pair:
                continue
            team, sep, group = (x.strip() for x in pair.partition("="))
            if not sep or not team or not group:
                raise ValueError(
                    f"{pair!r} is not team=group (e.g. payments=directory_group_01H...)"
                )
            pairs.append((team, group))
    mapping: dict[str, str] = {}
    for team, group in pairs:
        if not TEAM_NAME.match(team):
            raise ValueError(f"{team!r} is not a team name (no spaces, '=', ',' or ':')")
        if not WORKOS_GROUP_ID.match(group):
            raise ValueError(
                f"team {team!r}: {group!r} is not a WorkOS directory group id "
                "(they look like directory_group_01H...)"
            )
        if team in mapping:
            raise ValueError(f"team {team!r} is mapped twice")
        mapping[team] = group
    if not mapping:
        raise ValueError("maps no team to a group")
    return mapping


def _is_http_url(value: str) -> bool:
    parts = urlsplit(value.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def _parse_severity_map(raw: str) -> dict[str, Severity]:
    try:
        doc = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON ({exc.msg})") from exc
    if not isinstance(doc, dict):
        raise ValueError('must be a JSON object such as {"sev0": "P1"}')
    try:
        return {str(k).lower(): Severity(str(v).upper()) for k, v in doc.items()}
    except ValueError as exc:
        raise ValueError("values must be P1, P2, P3 or P4") from exc


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read and validate the settings; raise ConfigurationError with a readable message."""
    try:
        if environ is None:
            return Settings()
        lowered = {k.lower(): v for k, v in environ.items()}
        known = set(Settings.model_fields)
        return Settings.model_validate({k: v for k, v in lowered.items() if k in known})
    except ValidationError as exc:
        raise ConfigurationError(_describe(exc)) from None


def _describe(exc: ValidationError) -> str:
    lines = []
    for error in exc.errors():
        location = ".".join(str(p) for p in error["loc"]).upper()
        message = str(error["msg"]).removeprefix("Value error, ")
        lines.append(f"{location}: {message}" if location else message)
    return "invalid configuration: " + "; ".join(lines)
