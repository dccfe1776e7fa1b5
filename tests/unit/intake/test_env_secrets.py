"""EnvSecrets: secrets from the environment, the webhook secret also from the data dir."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from incident_response.adapters.embedded.secrets import (
    WEBHOOK_SECRET,
    EnvSecrets,
    ensure_webhook_secret,
)
from incident_response.domain.errors import NotFound
from incident_response.ports import Secrets


async def test_a_secret_comes_from_its_variable_with_the_previous_value_beside_it() -> None:
    secrets = EnvSecrets({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_BOT_TOKEN_PREVIOUS": "xoxb-0"})

    value = await secrets.get("SLACK_BOT_TOKEN")

    assert isinstance(secrets, Secrets)
    assert (value.value, value.previous) == ("xoxb-1", "xoxb-0")
    assert "xoxb" not in value.version


async def test_the_version_changes_when_the_value_does() -> None:
    environ = {"TOKEN": "one"}
    secrets = EnvSecrets(environ)
    before = await secrets.get("TOKEN")

    environ["TOKEN"] = "two"
    after = await secrets.get("TOKEN", refresh=True)

    assert after.value == "two"
    assert after.version != before.version
    assert (await secrets.get("TOKEN")).version == after.version


@pytest.mark.parametrize("environ", [{}, {"TOKEN": ""}, {"TOKEN": "   "}])
async def test_a_missing_or_blank_secret_is_not_found(environ: dict[str, str]) -> None:
    with pytest.raises(NotFound, match="TOKEN"):
        await EnvSecrets(environ).get("TOKEN")


async def test_the_environment_wins_over_the_webhook_secret_file(tmp_path: Path) -> None:
    (tmp_path / "webhook-secret").write_text("from-file\n")

    from_env = await EnvSecrets({WEBHOOK_SECRET: "from-env"}, data_dir=tmp_path).get(WEBHOOK_SECRET)
    from_file = await EnvSecrets({}, data_dir=tmp_path).get(WEBHOOK_SECRET)

    assert from_env.value == "from-env"
    assert from_file.value == "from-file"


async def test_only_the_webhook_secret_is_read_from_the_data_dir(tmp_path: Path) -> None:
    (tmp_path / "webhook-secret").write_text("from-file\n")

    with pytest.raises(NotFound):
        await EnvSecrets({}, data_dir=tmp_path).get("SLACK_BOT_TOKEN")
    with pytest.raises(NotFound):
        await EnvSecrets({}, data_dir=tmp_path / "elsewhere").get(WEBHOOK_SECRET)


async def test_ensure_webhook_secret_creates_a_private_random_secret_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    path = ensure_webhook_secret(data_dir)
    first = await EnvSecrets({}, data_dir=data_dir).get(WEBHOOK_SECRET)

    ensure_webhook_secret(data_dir)
    second = await EnvSecrets({}, data_dir=data_dir).get(WEBHOOK_SECRET)

    assert len(first.value) >= 32
    assert second.value == first.value
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    other = ensure_webhook_secret(tmp_path / "other")
    assert other.read_text() != path.read_text()
