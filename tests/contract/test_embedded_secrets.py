"""EnvSecrets (environment and data dir) against the Secrets conformance suite."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.secrets import EnvSecrets
from tests.contract.secrets_suite import FIRST, NAME, Rotate, SecretsContract


class TestEnvSecrets(SecretsContract):
    @pytest.fixture
    def environ(self) -> dict[str, str]:
        return {NAME: FIRST}

    @pytest.fixture
    def secrets(self, environ: dict[str, str]) -> EnvSecrets:
        return EnvSecrets(environ)

    @pytest.fixture
    def rotate(self, environ: dict[str, str]) -> Rotate:
        async def rotate(name: str, value: str) -> None:
            environ[name + "_PREVIOUS"] = environ[name]
            environ[name] = value

        return rotate
