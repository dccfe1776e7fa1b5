"""`incident-response secrets seed --env E` against a moto server over real HTTP, as an operator
runs it: values land in `incident-response/<env>/<name>`, a second run makes no new version, and
no value is ever printed."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from tests.support.moto_server import MotoServer
from tests.unit.test_aws_bootstrap import command

VALUES = {
    "audit-key": "audit-key-value-0123456789",
    "api-token-key": "token-key-value-0123456789",
    "grafana-oncall-hmac": "webhook-hmac-value-0123456789",
    "slack-bot-token": "bot-token-value-abc",
    "slack-signing-secret": "signing-secret-value-abc",
    "statuspage-api-key": "statuspage-value-abc",
}


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoServer]:
    with MotoServer.started() as server:
        yield server


@pytest.fixture
def environ(aws: MotoServer) -> dict[str, str]:
    aws.reset()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("SLACK_", "STATUSPAGE_"))}
    return {**clean, **aws.environ()}


@pytest.fixture
def sm(aws: MotoServer, environ: dict[str, str]) -> Any:
    return boto3.client(
        "secretsmanager",
        endpoint_url=aws.url,
        region_name=aws.region,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def seed(environ: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*command(), "secrets", "seed", "--env", "staging", *args],
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def values_file(tmp_path: Path, values: dict[str, str]) -> str:
    path = tmp_path / "values.json"
    path.write_text(json.dumps(values))
    return str(path)


def value(sm: Any, name: str) -> str:
    return str(sm.get_secret_value(SecretId=f"incident-response/staging/{name}")["SecretString"])


def versions(sm: Any, name: str) -> int:
    listed = sm.list_secret_version_ids(SecretId=f"incident-response/staging/{name}")
    return len(listed["Versions"])


def assert_no_value_printed(result: subprocess.CompletedProcess[str]) -> None:
    for secret in VALUES.values():
        assert secret not in result.stdout + result.stderr


def test_seeding_from_a_file_creates_each_secret_and_a_rerun_makes_no_new_version(
    environ: dict[str, str], sm: Any, tmp_path: Path
) -> None:
    first = seed(environ, "--from", values_file(tmp_path, VALUES))
    second = seed(environ, "--from", values_file(tmp_path, VALUES))

    assert first.returncode == 0, first.stderr
    assert second.returncode == 0, second.stderr
    for name, secret in VALUES.items():
        assert value(sm, name) == secret
        assert versions(sm, name) == 1
        assert f"incident-response/staging/{name}: created" in first.stderr
        assert f"incident-response/staging/{name}: unchanged" in second.stderr
    assert_no_value_printed(first)
    assert_no_value_printed(second)


def test_a_changed_value_gets_a_new_version_and_the_old_one_stays_previous(
    environ: dict[str, str], sm: Any, tmp_path: Path
) -> None:
    seed(environ, "--from", values_file(tmp_path, VALUES))

    result = seed(
        environ,
        "--from",
        values_file(tmp_path, {**VALUES, "grafana-oncall-hmac": "rotated-hmac-value-0123456789"}),
    )

    assert result.returncode == 0, result.stderr
    assert "grafana-oncall-hmac: updated (new version)" in result.stderr
    assert value(sm, "grafana-oncall-hmac") == "rotated-hmac-value-0123456789"
    previous = sm.get_secret_value(
        SecretId="incident-response/staging/grafana-oncall-hmac", VersionStage="AWSPREVIOUS"
    )
    assert previous["SecretString"] == VALUES["grafana-oncall-hmac"]
    assert versions(sm, "slack-bot-token") == 1


def test_values_come_from_the_settings_in_the_environment_by_default(
    environ: dict[str, str], sm: Any
) -> None:
    settings = {
        "INCIDENT_RESPONSE_AUDIT_KEY": VALUES["audit-key"],
        "INCIDENT_RESPONSE_API_TOKEN_KEY": VALUES["api-token-key"],
        "INCIDENT_RESPONSE_WEBHOOK_SECRET": VALUES["grafana-oncall-hmac"],
        "SLACK_BOT_TOKEN": VALUES["slack-bot-token"],
        "SLACK_SIGNING_SECRET": VALUES["slack-signing-secret"],
    }

    result = seed({**environ, **settings})

    assert result.returncode == 0, result.stderr
    assert value(sm, "slack-bot-token") == VALUES["slack-bot-token"]
    assert value(sm, "audit-key") == VALUES["audit-key"]
    assert_no_value_printed(result)


def test_bad_input_is_refused_and_writes_nothing(
    environ: dict[str, str], sm: Any, tmp_path: Path
) -> None:
    bad = {**VALUES, "slack-bot-tokn": "typo-value-abc", "audit-key": "short"}

    result = seed(environ, "--from", values_file(tmp_path, bad))

    assert result.returncode == 1
    assert "'slack-bot-tokn' is not a secret the service reads" in result.stderr
    assert "audit-key: needs 16 characters or more" in result.stderr
    assert "nothing was written" in result.stderr
    assert sm.list_secrets()["SecretList"] == []
    assert "short" not in result.stderr.replace("nothing was written", "")


def test_a_dry_run_says_what_would_change_and_writes_nothing(
    environ: dict[str, str], sm: Any, tmp_path: Path
) -> None:
    seed(environ, "--from", values_file(tmp_path, {"slack-bot-token": "bot-token-value-abc"}))

    result = seed(environ, "--dry-run", "--from", values_file(tmp_path, VALUES))

    assert "slack-bot-token: unchanged" in result.stderr
    assert "statuspage-api-key: would be created" in result.stderr
    names = [s["Name"] for s in sm.list_secrets()["SecretList"]]
    assert names == ["incident-response/staging/slack-bot-token"]
    assert_no_value_printed(result)


def test_a_required_secret_left_missing_fails_naming_it(
    environ: dict[str, str], sm: Any, tmp_path: Path
) -> None:
    partial = {k: v for k, v in VALUES.items() if k != "slack-signing-secret"}

    result = seed(environ, "--from", values_file(tmp_path, partial))

    assert result.returncode == 1
    assert (
        "incident-response/staging/slack-signing-secret: missing, and the service needs it"
        in result.stderr
    )
    assert value(sm, "slack-bot-token") == VALUES["slack-bot-token"]


def test_prompted_values_are_put_blank_answers_skip_and_nothing_is_echoed(
    environ: dict[str, str], sm: Any
) -> None:
    from incident_response.adapters.aws.secrets_seed import SEEDED

    answers = {name: VALUES.get(name, "") for name in SEEDED}
    result = subprocess.run(
        [*command(), "secrets", "seed", "--env", "staging", "--prompt"],
        env=environ,
        input="".join(f"{answer}\n" for answer in answers.values()),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        start_new_session=True,  # no terminal: the hidden prompt reads stdin
    )

    assert result.returncode == 0, result.stderr
    assert value(sm, "statuspage-api-key") == VALUES["statuspage-api-key"]
    assert "linear-api-key" not in [
        s["Name"].rsplit("/", 1)[-1] for s in sm.list_secrets()["SecretList"]
    ]
    assert_no_value_printed(result)


def test_from_file_and_prompt_together_are_refused(environ: dict[str, str], tmp_path: Path) -> None:
    result = seed(environ, "--prompt", "--from", values_file(tmp_path, VALUES))

    assert result.returncode == 2
    assert "use --from FILE or --prompt, not both" in result.stderr
