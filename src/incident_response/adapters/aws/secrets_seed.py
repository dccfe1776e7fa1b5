"""`incident-response secrets seed --env E`: put the environment's secret values into Secrets
Manager as `incident-response/<env>/<name>`, where the running service (the Secrets port) and the
chart's ExternalSecret (the vendor tokens, projected into env) read them.

Idempotent: a secret that is missing is created, one whose current value differs gets a new
version (PutSecretValue; the old one stays AWSPREVIOUS, which the webhook verifier still
accepts), and one whose value is unchanged is left alone - no new version. Every value is
checked before anything is written, so bad input changes nothing. Values are never printed:
progress lines name the secret and what happened to it.

`SEEDED` is the seeder's own list of the names it knows and the setting each one feeds (the
setting is where a value is read from with `--from-env`). deploy/secrets.template.json documents
the same names, and scripts/check_secrets_drift.py fails CI when the two (or the chart's
ExternalSecret) disagree. Like `aws bootstrap`, a one-shot operator command: plain boto3.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3  # type: ignore[import-untyped]
from botocore.exceptions import BotoCoreError, ClientError  # type: ignore[import-untyped]

from incident_response.adapters.aws.provisioning import ENV, PREFIX, WEBHOOK_SECRET_NAME
from incident_response.signing_keys import AUDIT, TOKENS

Progress = Callable[[str], None]
MIN_KEY_LENGTH = 16  # what the service itself refuses below (config.py, signing_keys.py)


@dataclass(frozen=True)
class Seeded:
    """One secret the seeder knows: the setting it feeds, whether a production deployment
    needs it, and the shortest value accepted."""

    setting: str
    required: bool = False
    min_length: int = 1


SEEDED: dict[str, Seeded] = {
    AUDIT.secret_name: Seeded(AUDIT.variable, True, MIN_KEY_LENGTH),
    TOKENS.secret_name: Seeded(TOKENS.variable, True, MIN_KEY_LENGTH),
    WEBHOOK_SECRET_NAME: Seeded("INCIDENT_RESPONSE_WEBHOOK_SECRET", True, MIN_KEY_LENGTH),
    "anthropic-api-key": Seeded("ANTHROPIC_API_KEY"),
    "github-token": Seeded("GITHUB_TOKEN"),
    "grafana-cloud-token": Seeded("GRAFANA_CLOUD_TOKEN"),
    "grafana-oncall-token": Seeded("GRAFANA_ONCALL_TOKEN"),
    "linear-api-key": Seeded("LINEAR_API_KEY"),
    "openai-api-key": Seeded("OPENAI_API_KEY"),
    "slack-app-token": Seeded("SLACK_APP_TOKEN"),
    "slack-bot-token": Seeded("SLACK_BOT_TOKEN", True),
    "slack-signing-secret": Seeded("SLACK_SIGNING_SECRET", True),
    "statuspage-api-key": Seeded("STATUSPAGE_API_KEY"),
    "workos-api-key": Seeded("WORKOS_API_KEY"),
}


class SeedError(Exception):
    """Bad input or an AWS refusal; the message names the secret, never its value."""


def secret_id(env: str, name: str) -> str:
    return f"{PREFIX}/{env}/{name}"


def from_settings(environ: Mapping[str, str]) -> dict[str, str]:
    """The values the environment holds, by secret name (each from the setting it feeds)."""
    return {
        name: environ[known.setting]
        for name, known in SEEDED.items()
        if environ.get(known.setting, "").strip()
    }


def checked(values: Mapping[str, str]) -> dict[str, str]:
    """The values stripped, or SeedError naming every unknown name and short value."""
    problems: list[str] = []
    clean: dict[str, str] = {}
    for name, value in values.items():
        known = SEEDED.get(name)
        if known is None:
            problems.append(f"{name!r} is not a secret the service reads")
            continue
        if not isinstance(value, str):
            problems.append(f"{name}: the value must be a string")
            continue
        value = value.strip()
        if len(value) < known.min_length:
            problems.append(f"{name}: needs {known.min_length} characters or more")
            continue
        clean[name] = value
    if problems:
        raise SeedError(
            "nothing was written: " + "; ".join(problems) + f" (known: {', '.join(sorted(SEEDED))})"
        )
    return clean


def seed(
    client: Any, env: str, values: Mapping[str, str], progress: Progress, *, dry_run: bool = False
) -> dict[str, str]:
    """Put each value; return name -> what happened (created, updated, unchanged, what would
    happen on a dry run, which only reads; "missing" for a required secret neither given nor
    in Secrets Manager)."""
    if not ENV.fullmatch(env):
        raise SeedError(f"--env {env!r}: use 1 to 24 of a-z 0-9 and '-', e.g. staging")
    clean = checked(values)
    outcomes: dict[str, str] = {}
    try:
        for name in sorted(clean):
            outcome = _put(client, secret_id(env, name), clean[name], dry_run=dry_run)
            outcomes[name] = outcome
            progress(f"secret {secret_id(env, name)}: {outcome}")
        for name in sorted(set(SEEDED) - set(clean)):
            if SEEDED[name].required and not _exists(client, secret_id(env, name)):
                outcomes[name] = "missing"
                progress(f"secret {secret_id(env, name)}: missing, and the service needs it")
    except (ClientError, BotoCoreError) as exc:
        raise SeedError(f"AWS refused: {exc}") from exc
    return outcomes


def _exists(client: Any, sid: str) -> bool:
    try:
        client.describe_secret(SecretId=sid)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
            raise
        return False
    return True


def _put(client: Any, sid: str, value: str, *, dry_run: bool) -> str:
    try:
        current = client.get_secret_value(SecretId=sid)
    except ClientError as exc:
        code = exc.response.get("Error", {}).get("Code")
        if code != "ResourceNotFoundException":
            raise
        if dry_run:
            return "would be created"
        try:
            client.create_secret(Name=sid, Description="incident-response", SecretString=value)
        except ClientError as race:  # there, but without a current value
            if race.response.get("Error", {}).get("Code") != "ResourceExistsException":
                raise
            client.put_secret_value(SecretId=sid, SecretString=value)
            return "updated (new version)"
        return "created"
    if str(current.get("SecretString", "")).strip() == value:
        return "unchanged"
    if dry_run:
        return "would get a new version"
    client.put_secret_value(SecretId=sid, SecretString=value)
    return "updated (new version)"


def client_for(region: str) -> Any:
    """A `secretsmanager` client of its own Session (AWS_ENDPOINT_URL reaches moto)."""
    return boto3.session.Session(region_name=region).client("secretsmanager")
