"""Builds the Grafana Cloud context adapter from settings (integration "grafana-cloud")."""

from __future__ import annotations

import base64

from incident_response.adapters.grafana.cloud import DEFAULT_DEADLINE_SECONDS, GrafanaCloudTelemetry
from incident_response.http import CallPolicy
from incident_response.integrations import Contribution, Wiring


def basic_auth(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode("ascii")


async def build(wiring: Wiring) -> Contribution:
    settings = wiring.settings
    org_id = settings.value_of("GRAFANA_CLOUD_ORG_ID") or ""
    token = settings.value_of("GRAFANA_CLOUD_TOKEN") or ""
    headers = {"Authorization": basic_auth(org_id, token), "Accept": "application/json"}
    # each attempt well inside the snapshot's one deadline, so a retry still fits
    policy = CallPolicy(timeout=DEFAULT_DEADLINE_SECONDS / 2, attempts=2, max_retry_after=2.0)

    telemetry = GrafanaCloudTelemetry(
        mimir=wiring.http.vendor(
            "grafana-mimir",
            base_url=settings.vendor_url("GRAFANA_CLOUD_PROMETHEUS_URL"),
            headers=headers,
            policy=policy,
        ),
        loki=wiring.http.vendor(
            "grafana-loki",
            base_url=settings.vendor_url("GRAFANA_CLOUD_LOKI_URL"),
            headers=headers,
            policy=policy,
        ),
        tempo=wiring.http.vendor(
            "grafana-tempo",
            base_url=settings.vendor_url("GRAFANA_CLOUD_TEMPO_URL"),
            headers=headers,
            policy=policy,
        ),
    )
    return Contribution(telemetry=telemetry)
