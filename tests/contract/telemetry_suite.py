"""Conformance suite for the Telemetry port.

Subclass `TelemetryContract` and provide `telemetry`, the adapter under test.
"""

from __future__ import annotations

from datetime import timedelta, timezone

from incident_response.ports import Telemetry
from tests.contract.incident_samples import LINKS, STARTED, sample_incident


class TelemetryContract:
    async def test_adapter_implements_the_port(self, telemetry: Telemetry) -> None:
        assert isinstance(telemetry, Telemetry)

    async def test_the_snapshot_says_when_it_was_taken(self, telemetry: Telemetry) -> None:
        at = STARTED + timedelta(seconds=20)
        snapshot = await telemetry.snapshot(sample_incident(), at=at)
        assert snapshot.taken_at == at
        assert snapshot.taken_at is not None
        assert snapshot.taken_at.utcoffset() == timedelta(0)

    async def test_a_local_time_is_taken_as_its_utc_instant(self, telemetry: Telemetry) -> None:
        at = (STARTED + timedelta(seconds=20)).astimezone(timezone(timedelta(hours=2)))
        snapshot = await telemetry.snapshot(sample_incident(), at=at)
        assert snapshot.taken_at == at
        assert snapshot.taken_at is not None
        assert snapshot.taken_at.utcoffset() == timedelta(0)

    async def test_the_alerts_own_links_are_kept(self, telemetry: Telemetry) -> None:
        snapshot = await telemetry.snapshot(sample_incident(), at=STARTED)
        for url in (LINKS["dashboard"], LINKS["runbook"]):
            assert url in snapshot.links.values()

    async def test_an_incident_without_labels_or_links_still_gets_a_snapshot(
        self, telemetry: Telemetry
    ) -> None:
        bare = sample_incident(labels={}, links={}, service="unknown")
        snapshot = await telemetry.snapshot(bare, at=STARTED)
        assert snapshot.taken_at == STARTED
