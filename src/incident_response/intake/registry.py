"""Which parser reads which alert source: a new source is one module and one line here."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from incident_response.domain.alert import Alert, AlertSource, Severity
from incident_response.intake import alertmanager, grafana_oncall


class AlertParser(Protocol):
    def __call__(
        self, body: bytes, *, received_at: datetime, severity_map: Mapping[str, Severity]
    ) -> list[Alert]:
        """The body's alerts, normalised; raises InvalidAlert naming the bad field."""
        ...


PARSERS: Mapping[str, AlertParser] = {
    AlertSource.GRAFANA_ONCALL.value: grafana_oncall.parse,
    AlertSource.ALERTMANAGER.value: alertmanager.parse,
}
