"""Telemetry (issue 13, point 1): an alert's trace runs from the webhook across the queue hop
into every assembly step, the services record their metrics, and /metrics shows them.

On the embedded default, in process: the real app's routes over ASGI, the real SQLite queue
and processor; spans land in an in-memory exporter, metrics in an InMemoryMetricReader.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client.parser import text_string_to_metric_families

from incident_response.bootstrap import Container, Overrides, build
from incident_response.config import load_settings
from incident_response.domain.incident import Incident
from incident_response.domain.messages import EventType
from incident_response.ports import Directory
from incident_response.server import routers_for
from incident_response.web.app import create_app
from tests.support.payloads import oncall_payload
from tests.support.telemetry import recorded_spans

SECRET = "s" * 32
STEPS = (
    "create_channel",
    "resolve_responders",
    "invite_responders",
    "post_context",
    "pin_checklist",
    "schedule_nudge",
)
# the alert sender's own trace: the service continues it
SENDER_TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
SENDER_TRACEPARENT = f"00-{SENDER_TRACE_ID}-00f067aa0ba902b7-01"


class UnreachableDirectory:
    """The roster's directory, except that team lookups fail (a WorkOS outage)."""

    def __init__(self, inner: Directory) -> None:
        self._inner = inner

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    async def team_for_service(self, service: str) -> str | None:
        raise ConnectionError("directory unreachable")


@dataclass
class Service:
    container: Container
    client: httpx.AsyncClient
    reader: InMemoryMetricReader
    spans: InMemorySpanExporter

    async def alert(self, headers: Mapping[str, str] | None = None) -> Incident:
        response = await self.client.post(
            "/webhooks/grafana-oncall",
            content=json.dumps(oncall_payload()).encode(),
            headers={"Authorization": f"Bearer {SECRET}", **(headers or {})},
        )
        assert response.status_code == 202, response.text
        await self.drain()
        [incident] = await self.container.store.recent()
        return incident

    async def drain(self) -> None:
        await self.container.processor.drain(within_seconds=20)

    def metrics(self) -> dict[str, list[Any]]:
        """Each metric's data points by name, as the in-memory reader collects them now."""
        data = self.reader.get_metrics_data()
        assert data is not None
        found: dict[str, list[Any]] = {}
        for rm in data.resource_metrics:
            for sm in rm.scope_metrics:
                for metric in sm.metrics:
                    found.setdefault(metric.name, []).extend(metric.data.data_points)
        return found


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[Service]:
    spans = recorded_spans()
    reader = InMemoryMetricReader()
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
            "INCIDENT_RESPONSE_WEBHOOK_SECRET": SECRET,
            "INCIDENT_RESPONSE_ENVIRONMENT": "staging",
        }
    )
    container = await build(
        settings,
        base_url="http://t",
        overrides=Overrides(directory=UnreachableDirectory, metric_readers=(reader,)),
    )
    app = create_app(routers=routers_for(container, "all"))
    transport = httpx.ASGITransport(app=app)
    container.processor.start()
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            yield Service(container, client, reader, spans)
    finally:
        await container.processor.stop()
        await container.aclose()


def _ancestors(spans: list[ReadableSpan], span: ReadableSpan) -> list[int]:
    """The span ids above `span`, nearest first, as far as the recorded spans go."""
    by_id = {s.context.span_id: s for s in spans}
    found = []
    parent = span.parent
    while parent is not None:
        found.append(parent.span_id)
        above = by_id.get(parent.span_id)
        parent = above.parent if above is not None else None
    return found


def _named(spans: list[ReadableSpan], name: str) -> ReadableSpan:
    [found] = [s for s in spans if s.name == name]
    return found


async def test_one_trace_runs_from_the_webhook_across_the_queue_into_every_assembly_step(
    service: Service,
) -> None:
    await service.alert({"traceparent": SENDER_TRACEPARENT})
    await service.container.assembler.settle(grace_seconds=10)
    spans = list(service.spans.get_finished_spans())

    intake = _named(spans, "alert intake")
    process = _named(spans, f"process {EventType.ALERT_RECEIVED.value}")
    assemble = _named(spans, "assemble")
    steps = {name: _named(spans, name) for name in STEPS}
    # one trace, the sender's, from the webhook through the queue hop to every step
    traced = [intake, process, assemble, *steps.values()]
    assert {format(s.context.trace_id, "032x") for s in traced} == {SENDER_TRACE_ID}
    assert process.kind is SpanKind.CONSUMER
    # the processor's span is the intake span's child: the context rode the queue message
    assert process.parent is not None
    assert process.parent.span_id == intake.context.span_id
    assert assemble.parent is not None
    assert assemble.parent.span_id == process.context.span_id
    for name, step in steps.items():
        assert assemble.context.span_id in _ancestors(spans, step), name
    # the directory was down: its step says so, the others succeeded
    assert steps["resolve_responders"].status.status_code is StatusCode.ERROR
    assert steps["create_channel"].status.status_code is not StatusCode.ERROR
    attributes = intake.resource.attributes
    assert attributes["service.name"] == "incident-response"
    assert attributes["service.namespace"] == "agents.platform"
    # the resource is the provider's: the process-wide one the first test installed
    assert "deployment.environment" in attributes


async def test_an_alert_without_a_traceparent_starts_its_own_trace(service: Service) -> None:
    await service.alert()
    spans = list(service.spans.get_finished_spans())
    intake = _named(spans, "alert intake")
    create_channel = _named(spans, "create_channel")
    # the trace starts at the request: FastAPI's server span, the intake span its child
    [root] = [
        s for s in spans if s.parent is None and s.context.trace_id == intake.context.trace_id
    ]
    assert root.kind is SpanKind.SERVER
    assert root.context.span_id in _ancestors(spans, intake)
    assert create_channel.context.trace_id == intake.context.trace_id
    print([(s.name, s.kind) for s in spans if s.context.span_id in _ancestors(spans, intake)])


async def _run_an_incident(service: Service) -> Incident:
    """Alert, room, a nudge, an approved update, resolution with its postmortem."""
    incident = await service.alert()
    container = service.container
    await container.nudges.nudge(incident.id)
    ic = incident.ic or ""
    draft = await container.gate.create_draft(incident.id, actor=ic)
    outcome = await container.gate.approve_and_publish(
        incident.id, draft.id, version=draft.version, actor=ic
    )
    assert outcome.published_now
    asked = await container.resolver.request(incident.id, actor=ic)
    assert asked.accepted, asked
    await service.drain()
    return incident


async def test_the_services_record_their_metrics(service: Service) -> None:
    await _run_an_incident(service)
    points = service.metrics()

    [assembly] = points["assembly_duration"]
    assert isinstance(assembly, HistogramDataPoint)
    assert assembly.count == 1
    assert 0 <= assembly.sum < 60
    assert dict(assembly.attributes) == {"severity": "P1"}
    assert (assembly.explicit_bounds[0], assembly.explicit_bounds[-1]) == (0.1, 600)
    [approval] = points["approval_gate_latency"]
    assert approval.count == 1
    assert 0 <= approval.sum < 60
    [publishes] = points["statuspage_publish_count"]
    assert (dict(publishes.attributes), publishes.value) == ({"outcome": "published"}, 1)
    [failures] = points["directory_lookup_failure_count"]
    assert (dict(failures.attributes), failures.value) == ({"source": "directory"}, 1)
    [resolved] = points["incident_resolved_count"]
    assert (dict(resolved.attributes), resolved.value) == ({"severity": "P1"}, 1)
    [postmortems] = points["postmortem_created_count"]
    assert postmortems.value == 1
    [nudges] = points["nudges_sent_count"]
    assert nudges.value == 1


async def test_metrics_serves_them_as_prometheus_text(service: Service) -> None:
    incident = await _run_an_incident(service)
    response = await service.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=")
    families = {f.name: f for f in text_string_to_metric_families(response.text)}
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in families.values()
        for s in family.samples
    }
    assert samples[("assembly_duration_seconds_count", (("severity", "P1"),))] == 1
    assert samples[("approval_gate_latency_seconds_count", (("severity", "P1"),))] == 1
    assert samples[("statuspage_publish_count_total", (("outcome", "published"),))] == 1
    assert samples[("directory_lookup_failure_count_total", (("source", "directory"),))] == 1
    assert samples[("incident_resolved_count_total", (("severity", "P1"),))] == 1
    assert samples[("postmortem_created_count_total", (("severity", "P1"),))] == 1
    assert samples[("nudges_sent_count_total", (("severity", "P1"),))] == 1
    assert samples[("queue_depth", ())] == 0
    assert samples[("queue_dead_letters", ())] == 0
    [target] = families["target_info"].samples
    assert target.labels["deployment_environment"] == "staging"
    assert target.labels["service_namespace"] == "agents.platform"
    # no incident data in any label: an id, a title or a service never appears
    assert incident.id not in response.text
    assert "checkout" not in response.text
    assert "HighErrorRate" not in response.text
