"""Conformance suite for the CodeHost port.

Subclass `CodeHostContract` and provide `code_host`, the adapter under test. Adapters that know
repositories should seed changes for service `checkout` around `WINDOW`, some inside and some
outside it; the suite checks that only changes inside the window come back.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from incident_response.ports import CodeHost

WINDOW_END = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)
WINDOW = (WINDOW_END - timedelta(hours=24), WINDOW_END)


class CodeHostContract:
    async def test_adapter_implements_the_port(self, code_host: CodeHost) -> None:
        assert isinstance(code_host, CodeHost)

    async def test_changes_fall_inside_the_window(self, code_host: CodeHost) -> None:
        since, until = WINDOW
        changes = await code_host.recent_changes(service="checkout", since=since, until=until)
        for change in changes:
            assert change.at.tzinfo is not None
            assert since <= change.at <= until
            assert change.sha
            assert change.title

    async def test_an_unknown_service_has_no_changes(self, code_host: CodeHost) -> None:
        since, until = WINDOW
        assert (
            await code_host.recent_changes(service="no-such-service", since=since, until=until)
            == []
        )

    async def test_an_empty_window_has_no_changes(self, code_host: CodeHost) -> None:
        _, until = WINDOW
        assert (
            await code_host.recent_changes(
                service="checkout", since=until, until=until - timedelta(hours=1)
            )
            == []
        )
