"""Telemetry plumbing (issue 13, point 1): when OTLP export is on, what reaches a collector,
and JSON log lines stamped with the current span. The end-to-end trace and the metrics the
services record are in tests/integration/test_telemetry.py."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.config import DEFAULT_OTLP_ENDPOINT, load_settings
from incident_response.telemetry import tracing
from incident_response.telemetry.logging import add_trace_context
from incident_response.telemetry.otel import build_observability, tracer_provider
from tests.support.clock import ManualClock
from tests.support.telemetry import recorded_spans


class FakeCollector:
    """An OTLP/HTTP collector on localhost: keeps each protobuf body by path."""

    def __init__(self) -> None:
        self.bodies: dict[str, list[bytes]] = {}
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                body = self.rfile.read(length)
                collector.bodies.setdefault(self.path, []).append(body)
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> FakeCollector:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def collector() -> Iterator[FakeCollector]:
    with FakeCollector() as running:
        yield running


def _attributes(resource: Any) -> dict[str, str]:
    return {a.key: a.value.string_value for a in resource.attributes}


def test_export_is_off_unless_asked_for() -> None:
    assert load_settings({}).otlp_endpoint is None
    on = load_settings({"INCIDENT_RESPONSE_OTLP_EXPORT": "true"})
    assert on.otlp_endpoint == DEFAULT_OTLP_ENDPOINT
    named = load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318/"})
    assert named.otlp_endpoint == "http://collector:4318"


def test_spans_reach_the_collector_with_the_service_resource(collector: FakeCollector) -> None:
    settings = load_settings(
        {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url, "INCIDENT_RESPONSE_ENVIRONMENT": "staging"}
    )
    provider = tracer_provider(settings)
    with provider.get_tracer("t").start_as_current_span("create_channel"):
        pass
    assert provider.force_flush()
    provider.shutdown()
    [body] = collector.bodies["/v1/traces"]
    request = ExportTraceServiceRequest.FromString(body)
    [spans] = request.resource_spans
    assert _attributes(spans.resource).items() >= {
        ("service.name", "incident-response"),
        ("service.namespace", "agents.platform"),
        ("deployment.environment", "staging"),
    }
    assert [s.name for s in spans.scope_spans[0].spans] == ["create_channel"]


async def test_metrics_reach_the_collector(collector: FakeCollector, db: Any) -> None:
    settings = load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url})
    queue = await SqliteEventQueue(db=db, clock=ManualClock()).open()
    observability = build_observability(settings, queue=queue)
    observability.metrics.war_room_assembled(seconds=12.5, severity="P1")
    await observability.sample_queue()
    assert observability.provider.force_flush()
    await observability.shutdown()
    request = ExportMetricsServiceRequest.FromString(collector.bodies["/v1/metrics"][0])
    [metrics] = request.resource_metrics
    assert _attributes(metrics.resource)["deployment.environment"] == "development"
    by_name = {m.name: m for m in metrics.scope_metrics[0].metrics}
    [point] = by_name["assembly_duration"].histogram.data_points
    assert (point.count, point.sum) == (1, 12.5)
    assert by_name["assembly_duration"].unit == "s"
    assert [p.as_int for p in by_name["queue_depth"].gauge.data_points] == [0]


def test_a_log_line_inside_a_span_carries_its_trace_and_span_ids() -> None:
    spans = recorded_spans()
    with tracing.span("post_context"):
        stamped = add_trace_context(None, "info", {"event": "x"})
    [finished] = spans.get_finished_spans()
    assert stamped["trace_id"] == format(finished.context.trace_id, "032x")
    assert stamped["span_id"] == format(finished.context.span_id, "016x")
    assert add_trace_context(None, "info", {"event": "y"}) == {"event": "y"}


def test_a_request_span_already_current_is_continued_not_the_headers() -> None:
    spans = recorded_spans()
    other = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with (
        tracing.span("POST /webhooks/{source}"),
        tracing.continued({"traceparent": other}, "alert intake", consumer=False),
    ):
        pass
    intake, request = spans.get_finished_spans()
    assert intake.parent is not None
    assert intake.parent.span_id == request.context.span_id
    assert intake.context.trace_id == request.context.trace_id


def test_a_consumer_continues_the_message_trace_whatever_is_current() -> None:
    spans = recorded_spans()
    carried = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    with (
        tracing.span("upkeep"),
        tracing.continued({"traceparent": carried}, "process X", consumer=True),
    ):
        pass
    process, _ = spans.get_finished_spans()
    assert format(process.context.trace_id, "032x") == "0af7651916cd43dd8448eb211c80319c"


async def test_a_collector_that_is_down_costs_the_incident_flow_nothing(db: Any) -> None:
    with FakeCollector() as gone:
        url = gone.url  # a port nobody listens on once the collector is shut
    settings = load_settings({"OTEL_EXPORTER_OTLP_ENDPOINT": url})
    queue = await SqliteEventQueue(db=db, clock=ManualClock()).open()
    observability = build_observability(settings, queue=queue)
    provider = tracer_provider(settings)
    with provider.get_tracer("t").start_as_current_span("create_channel"):
        observability.metrics.war_room_assembled(seconds=3.0, severity="P2")
    # the export fails on the SDK's threads; nothing is raised to the caller, and /metrics
    # still has the figure
    text = (await observability.prometheus_text()).decode()
    assert 'assembly_duration_seconds_count{severity="P2"} 1.0' in text
    provider.shutdown()
    await observability.shutdown()
