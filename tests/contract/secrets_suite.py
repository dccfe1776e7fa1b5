"""Conformance suite for the Secrets port.

Subclass `SecretsContract` and provide `secrets` (the adapter under test) and `rotate`, an async
callable `rotate(name, new_value)` that changes the secret in the backing store the way an operator
would (set the variable, put a new Secrets Manager version), keeping the old value as previous.
The secret `WEBHOOK` must exist with the value `first-value` when the test starts.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import pytest

from incident_response.domain.errors import NotFound
from incident_response.ports import Secrets

Rotate = Callable[[str, str], Awaitable[None]]
NAME = "WEBHOOK"
FIRST = "first-value"


class SecretsContract:
    async def test_adapter_implements_the_port(self, secrets: Secrets) -> None:
        assert isinstance(secrets, Secrets)

    async def test_a_secret_has_its_value_and_a_version_that_reveals_nothing(
        self, secrets: Secrets
    ) -> None:
        value = await secrets.get(NAME)
        assert value.value == FIRST
        assert value.version
        assert FIRST not in value.version

    async def test_an_unknown_secret_is_not_found(self, secrets: Secrets) -> None:
        with pytest.raises(NotFound):
            await secrets.get("NO_SUCH_SECRET_ANYWHERE")

    async def test_a_rotation_is_seen_on_refresh_with_the_old_value_still_known(
        self, secrets: Secrets, rotate: Rotate
    ) -> None:
        before = await secrets.get(NAME)
        await rotate(NAME, "second-value")
        after = await secrets.get(NAME, refresh=True)
        assert after.value == "second-value"
        assert after.previous == FIRST
        assert after.version != before.version
