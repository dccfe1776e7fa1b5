"""Secrets Manager secrets against the Secrets suite, over real HTTP on a moto server, plus the
cache (counted with a botocore event hook), rotation and the webhook verifier on top."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from incident_response.adapters.aws.secrets_manager import (
    SecretsManagerSecrets,
    secrets_manager_client,
)
from incident_response.domain.errors import NotFound
from incident_response.intake.auth import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_SECRET,
    Unauthorized,
    WebhookVerifier,
    sign,
)
from tests.contract.secrets_suite import FIRST, NAME, Rotate, SecretsContract
from tests.support.clock import ManualClock
from tests.support.moto_server import MotoServer

ENV = "staging"


@pytest.fixture(scope="module")
def aws() -> Iterator[MotoServer]:
    with MotoServer.started() as server:
        yield server


class Calls:
    """Secrets Manager operations the client made, counted by a botocore event hook."""

    def __init__(self, client: Any) -> None:
        self.names: list[str] = []
        client.meta.events.register("before-call.secrets-manager.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.names.append(model.name)

    def take(self) -> list[str]:
        taken, self.names = self.names, []
        return taken


@pytest.fixture
def client(aws: MotoServer, monkeypatch: pytest.MonkeyPatch) -> Any:
    aws.reset()
    for key, value in aws.environ().items():  # the adapter's factory finds moto by these alone
        monkeypatch.setenv(key, value)
    client = secrets_manager_client(region=aws.region)
    client.create_secret(Name=f"incident-response/{ENV}/{NAME}", SecretString=FIRST)
    return client


@pytest.fixture
def calls(client: Any) -> Calls:
    return Calls(client)


@pytest.fixture
def secrets(client: Any, clock: ManualClock) -> SecretsManagerSecrets:
    return SecretsManagerSecrets(client, env=ENV, clock=clock)


@pytest.fixture
def rotate(client: Any) -> Rotate:
    async def rotate(name: str, value: str) -> None:
        await asyncio.to_thread(
            client.put_secret_value,
            SecretId=f"incident-response/{ENV}/{name}",
            SecretString=value,
        )

    return rotate


class TestSecretsManagerSecrets(SecretsContract):
    pass


async def test_a_second_read_within_the_ttl_makes_no_call(
    secrets: SecretsManagerSecrets, calls: Calls, clock: ManualClock
) -> None:
    first = await secrets.get(NAME)
    assert calls.take() == ["DescribeSecret", "GetSecretValue"]

    clock.advance(299)
    assert await secrets.get(NAME) == first
    assert calls.take() == []


async def test_after_the_ttl_an_unchanged_version_costs_one_describe(
    secrets: SecretsManagerSecrets, calls: Calls, clock: ManualClock
) -> None:
    first = await secrets.get(NAME)
    calls.take()

    clock.advance(301)
    assert await secrets.get(NAME) == first
    assert calls.take() == ["DescribeSecret"]


async def test_refresh_sees_a_rotation_at_once_and_keeps_the_old_value_as_previous(
    secrets: SecretsManagerSecrets, calls: Calls, rotate: Rotate
) -> None:
    before = await secrets.get(NAME)
    await rotate(NAME, "second-value")
    calls.take()

    assert await secrets.get(NAME) == before  # the TTL still holds without refresh
    after = await secrets.get(NAME, refresh=True)

    assert (after.value, after.previous) == ("second-value", FIRST)
    assert after.version != before.version
    assert calls.take() == ["DescribeSecret", "GetSecretValue"]  # the old value was cached


async def test_a_missing_secret_names_itself(secrets: SecretsManagerSecrets) -> None:
    with pytest.raises(NotFound, match=f"incident-response/{ENV}/NOT_THERE"):
        await secrets.get("NOT_THERE")


async def test_the_env_is_part_of_the_name(client: Any, clock: ManualClock) -> None:
    production = SecretsManagerSecrets(client, env="production", clock=clock)

    with pytest.raises(NotFound, match=f"incident-response/production/{NAME}"):
        await production.get(NAME)


async def test_the_webhook_verifier_accepts_a_request_signed_with_a_just_rotated_secret(
    client: Any, clock: ManualClock
) -> None:
    client.create_secret(
        Name=f"incident-response/{ENV}/{WEBHOOK_SECRET}", SecretString="old-hook-secret"
    )
    verifier = WebhookVerifier(
        secrets=SecretsManagerSecrets(client, env=ENV, clock=clock), clock=clock
    )
    body = b'{"alert": 1}'

    def signed(secret: str) -> dict[str, str]:
        now = int(clock.now().timestamp())
        return {TIMESTAMP_HEADER: str(now), SIGNATURE_HEADER: sign(secret, now, body)}

    await verifier.verify(signed("old-hook-secret"), body)  # caches the old secret
    client.put_secret_value(
        SecretId=f"incident-response/{ENV}/{WEBHOOK_SECRET}", SecretString="new-hook-secret"
    )

    await verifier.verify(signed("new-hook-secret"), body)
    await verifier.verify(signed("old-hook-secret"), body)  # AWSPREVIOUS, mid-rotation
    with pytest.raises(Unauthorized):
        await verifier.verify(signed("never-the-secret"), body)
