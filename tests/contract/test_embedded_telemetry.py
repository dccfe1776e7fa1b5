"""Embedded telemetry and the absent code host against their suites."""

from __future__ import annotations

import pytest

from incident_response.adapters.embedded.codehost import NoCodeHost
from incident_response.adapters.embedded.telemetry import NOT_CONFIGURED, EmbeddedTelemetry
from incident_response.services import war_room_messages as msgs
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
    (notice,) = snapshot.sources
    assert notice.found.startswith(NOT_CONFIGURED)
    assert snapshot.metrics == snapshot.logs == snapshot.traces == snapshot.deploys == ()


async def test_the_brief_shows_the_labels_once_on_one_line_and_the_notice_once() -> None:
    incident = sample_incident()
    snapshot = await EmbeddedTelemetry().snapshot(incident, at=STARTED)
    text = "\n".join(msgs.context(incident, {}, snapshot, None).sections)
    label_lines = [line for line in text.splitlines() if "alertname=HighErrorRate" in line]
    assert label_lines == ["Labels: " + " · ".join(f"{k}={v}" for k, v in sorted(LABELS.items()))]
    assert text.count("Telemetry: " + NOT_CONFIGURED) == 1
    assert "label alertname" not in text


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
