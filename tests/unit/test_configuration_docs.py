"""docs/configuration.md and the README stay true to the settings: every variable the service
reads is documented, and the README's integrations are the ones this build has."""

from __future__ import annotations

from pathlib import Path

from incident_response.config import INTEGRATIONS, VENDOR_URLS, Settings
from incident_response.integrations import available

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_every_setting_is_documented_by_its_variable_name() -> None:
    missing = [name.upper() for name in Settings.model_fields if f"`{name.upper()}`" not in DOC]
    assert missing == []


def test_every_integration_variable_and_vendor_url_is_documented() -> None:
    variables = {v for i in INTEGRATIONS for v in i.required + i.optional} | set(VENDOR_URLS)
    assert sorted(v for v in variables if f"`{v}`" not in DOC) == []


def test_every_integration_this_build_has_is_in_the_readme_and_not_called_missing() -> None:
    readme_names = {
        "slack": "Slack",
        "statuspage": "Statuspage.io",
        "linear": "Linear",
        "workos": "WorkOS",
        "grafana-oncall": "Grafana OnCall",
        "grafana-cloud": "Grafana Cloud",
        "github": "GitHub",
        "bedrock": "Bedrock",
        "anthropic": "Anthropic",
        "openai-compatible": "OpenAI-compatible",
        "dynamodb": "DynamoDB",
        "sqs": "SQS FIFO",
        "eventbridge-scheduler": "EventBridge Scheduler",
        "secrets-manager": "Secrets Manager",
    }
    for name in available():
        assert readme_names[name] in README, name
    assert "Statuspage, Linear" not in README  # the old "not in this build" list
    assert "not in this" not in README
