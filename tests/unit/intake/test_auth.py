"""Webhook authentication: bearer secret or signed body, replay window, rotation, never open."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path

import pytest

from incident_response.adapters.embedded.secrets import EnvSecrets
from incident_response.intake.auth import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WEBHOOK_SECRET,
    Unauthorized,
    WebhookVerifier,
    sign,
)
from incident_response.ports import SecretValue
from tests.support.clock import ManualClock

BODY = b'{"event": {"type": "alert group created"}}'
SECRET = "s3cret-current-0123456789"
OLD = "s3cret-previous-0123456789"


class RecordingSecrets:
    """The real EnvSecrets over a mutable environment, counting how often it is asked."""

    def __init__(self, environ: dict[str, str]) -> None:
        self.environ = environ
        self.calls: list[bool] = []
        self._inner = EnvSecrets(environ)

    async def get(self, name: str, *, refresh: bool = False) -> SecretValue:
        self.calls.append(refresh)
        return await self._inner.get(name, refresh=refresh)

    @property
    def forced(self) -> int:
        return sum(self.calls)


@pytest.fixture
def secrets() -> RecordingSecrets:
    return RecordingSecrets({WEBHOOK_SECRET: SECRET})


@pytest.fixture
def verifier(secrets: RecordingSecrets, clock: ManualClock) -> WebhookVerifier:
    return WebhookVerifier(secrets=secrets, clock=clock)


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def signed(secret: str, timestamp: float, body: bytes = BODY) -> dict[str, str]:
    return {
        "X-Incident-Response-Timestamp": str(int(timestamp)),
        "X-Incident-Response-Signature": sign(secret, int(timestamp), body),
    }


async def refused(verifier: WebhookVerifier, headers: Mapping[str, str], body: bytes = BODY) -> str:
    with pytest.raises(Unauthorized) as caught:
        await verifier.verify(headers, body)
    return str(caught.value)


async def test_the_bearer_secret_is_accepted(verifier: WebhookVerifier) -> None:
    await verifier.verify(bearer(SECRET), BODY)
    await verifier.verify({"authorization": f"bearer  {SECRET} "}, BODY)


async def test_a_wrong_bearer_secret_is_refused(verifier: WebhookVerifier) -> None:
    assert await refused(verifier, bearer("wrong")) == "invalid credentials"
    assert await refused(verifier, bearer(SECRET[:-1])) == "invalid credentials"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": ""}, {"Authorization": "Bearer "}, {"Authorization": f"Basic {SECRET}"}],
    ids=["none", "empty", "empty-bearer", "basic"],
)
async def test_missing_credentials_are_refused(
    verifier: WebhookVerifier, headers: dict[str, str]
) -> None:
    assert (await refused(verifier, headers)).startswith("missing credentials")


async def test_a_fresh_signature_is_accepted(verifier: WebhookVerifier, clock: ManualClock) -> None:
    await verifier.verify(signed(SECRET, clock.now().timestamp()), BODY)
    await verifier.verify(signed(SECRET, clock.now().timestamp() - 299), BODY)
    await verifier.verify(signed(SECRET, clock.now().timestamp() + 299), BODY)


@pytest.mark.parametrize("offset_seconds", [-360, 360], ids=["stale", "future"])
async def test_a_signature_outside_the_replay_window_is_refused(
    verifier: WebhookVerifier, clock: ManualClock, offset_seconds: int
) -> None:
    headers = signed(SECRET, clock.now().timestamp() + offset_seconds)

    assert "replay window" in await refused(verifier, headers)


async def test_a_captured_request_cannot_be_replayed_after_the_window(
    verifier: WebhookVerifier, clock: ManualClock
) -> None:
    headers = signed(SECRET, clock.now().timestamp())
    await verifier.verify(headers, BODY)

    clock.advance(minutes=6)

    assert "replay window" in await refused(verifier, headers)


async def test_a_wrong_signature_is_refused(verifier: WebhookVerifier, clock: ManualClock) -> None:
    now = clock.now().timestamp()

    assert await refused(verifier, signed("wrong", now)) == "invalid credentials"
    tampered = BODY.replace(b"created", b"resolved")
    assert await refused(verifier, signed(SECRET, now), tampered) == "invalid credentials"
    moved = {**signed(SECRET, now), TIMESTAMP_HEADER: str(int(now) + 1)}
    assert await refused(verifier, moved) == "invalid credentials"


@pytest.mark.parametrize(
    ("headers", "problem"),
    [
        ({TIMESTAMP_HEADER: "1700000000"}, "needs both"),
        ({SIGNATURE_HEADER: "sha256=00"}, "needs both"),
        ({TIMESTAMP_HEADER: "soon", SIGNATURE_HEADER: "sha256=00"}, "unix seconds"),
    ],
)
async def test_a_malformed_signature_says_what_is_wrong(
    verifier: WebhookVerifier, headers: dict[str, str], problem: str
) -> None:
    assert problem in await refused(verifier, headers)


async def test_a_signature_without_its_prefix_is_refused(
    verifier: WebhookVerifier, clock: ManualClock
) -> None:
    now = int(clock.now().timestamp())
    headers = {
        TIMESTAMP_HEADER: str(now),
        SIGNATURE_HEADER: sign(SECRET, now, BODY).removeprefix("sha256="),
    }

    assert "expected sha256=" in await refused(verifier, headers)


async def test_the_previous_secret_is_accepted_during_a_rotation(
    secrets: RecordingSecrets, verifier: WebhookVerifier, clock: ManualClock
) -> None:
    secrets.environ[WEBHOOK_SECRET + "_PREVIOUS"] = OLD

    await verifier.verify(bearer(OLD), BODY)
    await verifier.verify(signed(OLD, clock.now().timestamp()), BODY)
    await verifier.verify(bearer(SECRET), BODY)


async def test_a_secret_rotated_after_caching_is_accepted_after_one_refresh(
    secrets: RecordingSecrets, verifier: WebhookVerifier
) -> None:
    await verifier.verify(bearer(SECRET), BODY)
    secrets.environ[WEBHOOK_SECRET] = "rotated-secret-abcdef"

    await verifier.verify(bearer("rotated-secret-abcdef"), BODY)
    await verifier.verify(bearer("rotated-secret-abcdef"), BODY)

    assert secrets.calls == [False, True]
    assert await refused(verifier, bearer(SECRET)) == "invalid credentials"


async def test_the_secret_is_cached_for_the_ttl(
    secrets: RecordingSecrets, verifier: WebhookVerifier, clock: ManualClock
) -> None:
    for _ in range(5):
        await verifier.verify(bearer(SECRET), BODY)
    assert secrets.calls == [False]

    clock.advance(seconds=301)
    await verifier.verify(bearer(SECRET), BODY)

    assert secrets.calls == [False, False]


class SlowSecrets(RecordingSecrets):
    """A secret store a fetch from takes a moment (a file read, a network call)."""

    async def get(self, name: str, *, refresh: bool = False) -> SecretValue:
        await asyncio.sleep(0.01)
        return await super().get(name, refresh=refresh)


async def test_a_burst_of_bad_requests_shares_one_refresh(clock: ManualClock) -> None:
    secrets = SlowSecrets({WEBHOOK_SECRET: SECRET})
    verifier = WebhookVerifier(secrets=secrets, clock=clock)
    await verifier.verify(bearer(SECRET), BODY)  # cached

    results = await asyncio.gather(
        *(verifier.verify(bearer(f"guess-{i}"), BODY) for i in range(20)), return_exceptions=True
    )

    assert all(isinstance(r, Unauthorized) for r in results)
    # requests that failed while a refresh was under way share it; a request that began after
    # it may force one more (the secret may have changed since): never one each
    assert secrets.forced <= 2


async def test_bad_requests_one_after_another_refresh_at_a_bounded_rate(
    secrets: RecordingSecrets, clock: ManualClock
) -> None:
    verifier = WebhookVerifier(secrets=secrets, clock=clock, min_refresh_interval_seconds=0.05)
    loop = asyncio.get_running_loop()
    started = loop.time()

    for _ in range(5):
        await refused(verifier, bearer("guess"))

    assert secrets.forced == 5
    assert loop.time() - started >= 4 * 0.05  # spaced: a flood costs the store a few a second


async def test_a_rotation_right_after_bad_requests_is_still_accepted(
    secrets: RecordingSecrets, verifier: WebhookVerifier
) -> None:
    await verifier.verify(bearer(SECRET), BODY)
    for _ in range(3):
        await refused(verifier, bearer("attacker-guess"))

    secrets.environ[WEBHOOK_SECRET] = "rotated-secret-abcdef"  # rotated a moment later

    await verifier.verify(bearer("rotated-secret-abcdef"), BODY)


async def test_a_secret_removed_from_the_store_stops_working_within_seconds(
    secrets: RecordingSecrets, verifier: WebhookVerifier, clock: ManualClock
) -> None:
    secrets.environ[WEBHOOK_SECRET + "_PREVIOUS"] = OLD
    await verifier.verify(bearer(OLD), BODY)

    del secrets.environ[WEBHOOK_SECRET + "_PREVIOUS"]  # the rotation is over
    clock.advance(seconds=6)

    assert await refused(verifier, bearer(OLD)) == "invalid credentials"


async def test_with_no_secret_configured_everything_is_refused(clock: ManualClock) -> None:
    verifier = WebhookVerifier(secrets=RecordingSecrets({}), clock=clock)

    assert (await refused(verifier, bearer(""))).startswith("missing credentials")
    assert await refused(verifier, bearer("anything")) == "invalid credentials"
    assert await refused(verifier, {"Authorization": "Bearer None"}) == "invalid credentials"
    assert await refused(verifier, signed("", clock.now().timestamp())) == "invalid credentials"


async def test_a_secret_configured_later_is_picked_up(clock: ManualClock) -> None:
    secrets = RecordingSecrets({})
    verifier = WebhookVerifier(secrets=secrets, clock=clock)
    await refused(verifier, bearer(SECRET))

    secrets.environ[WEBHOOK_SECRET] = SECRET
    clock.advance(seconds=6)

    await verifier.verify(bearer(SECRET), BODY)


class FlakySecrets(RecordingSecrets):
    def __init__(self, environ: dict[str, str]) -> None:
        super().__init__(environ)
        self.down = False

    async def get(self, name: str, *, refresh: bool = False) -> SecretValue:
        if self.down:
            raise ConnectionError("secret store unreachable")
        return await super().get(name, refresh=refresh)


async def test_a_secret_store_outage_keeps_the_cached_secret_working(clock: ManualClock) -> None:
    secrets = FlakySecrets({WEBHOOK_SECRET: SECRET})
    verifier = WebhookVerifier(secrets=secrets, clock=clock)
    await verifier.verify(bearer(SECRET), BODY)

    secrets.down = True
    clock.advance(seconds=400)

    await verifier.verify(bearer(SECRET), BODY)
    assert await refused(verifier, bearer("wrong")) == "invalid credentials"


async def test_a_secret_store_outage_with_nothing_cached_is_an_error_not_an_open_door(
    clock: ManualClock,
) -> None:
    secrets = FlakySecrets({WEBHOOK_SECRET: SECRET})
    secrets.down = True
    verifier = WebhookVerifier(secrets=secrets, clock=clock)

    with pytest.raises(ConnectionError):
        await verifier.verify(bearer(SECRET), BODY)


async def test_the_webhook_secret_file_in_the_data_dir_is_used(
    tmp_path: Path, clock: ManualClock
) -> None:
    (tmp_path / "webhook-secret").write_text(f"{SECRET}\n{OLD}\n")
    verifier = WebhookVerifier(secrets=EnvSecrets({}, data_dir=tmp_path), clock=clock)

    await verifier.verify(bearer(SECRET), BODY)
    await verifier.verify(bearer(OLD), BODY)
