"""What every Credentials adapter must do. An adapter's test module subclasses
`CredentialsContract` and provides a `credentials` fixture on the `clock` fixture, plus
`credentials_elsewhere`: a second handle on the same backing store, as another process (the CLI)
would open it (see test_embedded_credentials.py)."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from incident_response.domain.errors import AlreadyExists
from incident_response.ports import ConsoleSessionRecord, Credentials, Generations
from tests.support.clock import ManualClock

ALICE = "alice@example.com"
BOB = "bob@example.com"


def record(
    clock: ManualClock,
    key: str = "k" * 64,
    *,
    email: str = ALICE,
    generation: int = 0,
    hours: float = 12,
) -> ConsoleSessionRecord:
    return ConsoleSessionRecord(
        key=key,
        email=email,
        generation=generation,
        issued_at=clock.now(),
        expires_at=clock.now() + timedelta(hours=hours),
    )


class CredentialsContract:
    @pytest.fixture
    def credentials(self) -> Credentials:
        raise NotImplementedError("the adapter's test class provides a `credentials` fixture")

    @pytest.fixture
    def credentials_elsewhere(self) -> Credentials:
        raise NotImplementedError(
            "the adapter's test class provides `credentials_elsewhere` on the same store"
        )

    async def test_implements_the_port(self, credentials: Credentials) -> None:
        assert isinstance(credentials, Credentials)

    async def test_someone_never_rotated_is_at_generation_zero(
        self, credentials: Credentials
    ) -> None:
        assert await credentials.generations(ALICE) == Generations(email=ALICE)

    async def test_rotating_moves_only_the_token_generation_of_that_person(
        self, credentials: Credentials
    ) -> None:
        assert await credentials.rotate_tokens(ALICE) == Generations(email=ALICE, tokens=1)
        assert await credentials.rotate_tokens(ALICE) == Generations(email=ALICE, tokens=2)

        assert await credentials.generations(ALICE) == Generations(email=ALICE, tokens=2)
        assert await credentials.generations(BOB) == Generations(email=BOB)

    async def test_revoking_moves_both_generations(self, credentials: Credentials) -> None:
        await credentials.rotate_tokens(ALICE)

        assert await credentials.revoke(ALICE) == Generations(email=ALICE, tokens=2, sessions=1)
        assert await credentials.generations(ALICE) == Generations(
            email=ALICE, tokens=2, sessions=1
        )

    async def test_emails_are_compared_without_case(self, credentials: Credentials) -> None:
        await credentials.revoke("Alice@Example.COM")

        assert await credentials.generations(ALICE) == Generations(
            email=ALICE, tokens=1, sessions=1
        )

    async def test_concurrent_rotations_each_count(self, credentials: Credentials) -> None:
        results = await asyncio.gather(*(credentials.rotate_tokens(ALICE) for _ in range(5)))

        assert sorted(r.tokens for r in results) == [1, 2, 3, 4, 5]
        assert (await credentials.generations(ALICE)).tokens == 5

    async def test_a_rotation_elsewhere_is_seen_on_the_next_read(
        self, credentials: Credentials, credentials_elsewhere: Credentials
    ) -> None:
        assert (await credentials.generations(ALICE)).tokens == 0

        await credentials_elsewhere.revoke(ALICE)

        assert await credentials.generations(ALICE) == Generations(
            email=ALICE, tokens=1, sessions=1
        )

    async def test_an_opened_session_reads_back_by_its_key(
        self, credentials: Credentials, clock: ManualClock
    ) -> None:
        session = record(clock, generation=3)

        await credentials.open_session(session)

        assert await credentials.session(session.key) == session
        assert await credentials.session("x" * 64) is None

    async def test_a_session_key_is_taken_once(
        self, credentials: Credentials, clock: ManualClock
    ) -> None:
        first = record(clock)
        await credentials.open_session(first)

        with pytest.raises(AlreadyExists):
            await credentials.open_session(record(clock, email=BOB))

        assert await credentials.session(first.key) == first

    async def test_an_ended_session_is_gone_and_ending_it_again_is_fine(
        self, credentials: Credentials, clock: ManualClock
    ) -> None:
        session = record(clock)
        other = record(clock, "o" * 64)
        await credentials.open_session(session)
        await credentials.open_session(other)

        await credentials.end_session(session.key)
        await credentials.end_session(session.key)

        assert await credentials.session(session.key) is None
        assert await credentials.session(other.key) == other

    async def test_a_session_ended_elsewhere_is_gone_on_the_next_read(
        self,
        credentials: Credentials,
        credentials_elsewhere: Credentials,
        clock: ManualClock,
    ) -> None:
        session = record(clock)
        await credentials.open_session(session)

        await credentials_elsewhere.end_session(session.key)

        assert await credentials.session(session.key) is None

    async def test_a_session_past_its_expiry_is_not_returned(
        self, credentials: Credentials, clock: ManualClock
    ) -> None:
        session = record(clock, hours=1)
        await credentials.open_session(session)

        clock.advance(minutes=59)
        assert await credentials.session(session.key) == session
        clock.advance(minutes=1)
        assert await credentials.session(session.key) is None
