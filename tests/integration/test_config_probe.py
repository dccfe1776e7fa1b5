"""`incident-response config check` lists every integration and, with `--probe`, checks each
enabled one's credentials against the vendor (here: the Slack fake), one clear line each."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from incident_response.cli import app
from tests.fakes.slack.server import DEFAULT_BOT_TOKEN, FakeSlack

runner = CliRunner()


@pytest.fixture
def slack() -> Iterator[FakeSlack]:
    with FakeSlack.in_thread() as fake:
        yield fake


def env(tmp_path: Path, **more: str) -> dict[str, str]:
    return {"INCIDENT_RESPONSE_DATA_DIR": str(tmp_path / "data"), "COLUMNS": "200", **more}


def test_every_integration_is_listed_with_what_it_lacks(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check"], env=env(tmp_path))

    assert result.exit_code == 0, result.output
    for name in ("slack", "statuspage", "linear", "workos", "grafana-oncall", "github", "bedrock"):
        assert name in result.stdout
    assert "set STATUSPAGE_API_KEY, STATUSPAGE_PAGE_ID" in result.stdout


def test_probe_without_integrations_says_there_is_nothing_to_check(tmp_path: Path) -> None:
    result = runner.invoke(app, ["config", "check", "--probe"], env=env(tmp_path))

    assert result.exit_code == 0, result.output
    assert "no integration is enabled" in result.stdout


def test_probe_reports_working_slack_credentials(tmp_path: Path, slack: FakeSlack) -> None:
    settings = env(
        tmp_path,
        SLACK_BOT_TOKEN=DEFAULT_BOT_TOKEN,
        SLACK_SIGNING_SECRET="s" * 32,
        SLACK_API_URL=slack.api_url,
    )

    result = runner.invoke(app, ["config", "check", "--probe"], env=settings)

    assert result.exit_code == 0, result.output
    assert "ok     slack: bot" in result.stdout
    assert [c.method for c in slack.calls] == ["auth.test"]


def test_probe_names_a_rejected_token_and_exits_1(tmp_path: Path, slack: FakeSlack) -> None:
    settings = env(
        tmp_path,
        SLACK_BOT_TOKEN="xoxb-wrong",
        SLACK_SIGNING_SECRET="s" * 32,
        SLACK_API_URL=slack.api_url,
    )

    result = runner.invoke(app, ["config", "check", "--probe"], env=settings)

    assert result.exit_code == 1
    assert "failed slack: Slack auth.test failed: invalid_auth" in result.output
