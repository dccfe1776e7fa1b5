"""Embedded telemetry and the absent code host against their suites."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.codehost import NoCodeHost
from incident_response.adapters.embedded.telemetry import NOT_CONFIGURED, EmbeddedTelemetry
from tests.contract.codehost_suite import CodeHostContract
from tests.contract.incident_samples import LABELS, STARTED, sample_incident
from tests.contract.telemetry_suite import TelemetryContract


class TestEmbeddedTelemetry(TelemetryContract):
    @pytest.fixture
    def telemetry(self) -> EmbeddedTelemetry:
        return EmbeddedTelemetry()


class TestNoCodeHost(CodeHostContract):
    @pytest.fixture
    def code_host(self) -> NoCodeHost:
        return NoCodeHost()


async def test_the_snapshot_says_no_backend_is_configured() -> None:
    snapshot = await EmbeddedTelemetry().snapshot(sample_incident(), at=STARTED)
    assert snapshot.metrics[0].value.startswith(NOT_CONFIGURED)
    assert snapshot.logs == snapshot.traces == snapshot.deploys == ()


async def test_the_snapshot_shows_the_alerts_labels() -> None:
    snapshot = await EmbeddedTelemetry().snapshot(sample_incident(), at=STARTED)
    shown = {f.label.removeprefix("label "): f.value for f in snapshot.metrics[1:]}
    assert shown == LABELS


async def test_links_a_browser_cannot_open_are_left_out() -> None:
    incident = sample_incident(
        links={
            "runbook": "https://runbooks.example.com/x",
            "shell": "ssh://bastion",
            "note": "see wiki",
        }
    )
    snapshot = await EmbeddedTelemetry().snapshot(incident, at=STARTED)
    assert snapshot.links == {"runbook": "https://runbooks.example.com/x"}
