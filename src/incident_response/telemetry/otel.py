"""The OpenTelemetry SDK, set up in one place: the resource every span and metric carries,
the TracerProvider (process-wide), the MeterProvider and the `Metrics` the services record to,
OTLP/HTTP export when it is on, and the Prometheus text `/metrics` serves.

Export never holds up an incident: spans leave through a BatchSpanProcessor and metrics through
a PeriodicExportingMetricReader, each on its own thread with a bounded timeout, and a collector
that is down only costs a warning in the log. Queue depth and dead letters are read from the
queue (an async port) beside the incident flow, by the upkeep and by `/metrics` itself, and
kept for the synchronous gauge callbacks.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.exporter.prometheus import PrometheusMetricReader
from opentelemetry.metrics import CallbackOptions, Observation
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import MetricReader, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from prometheus_client import CollectorRegistry, generate_latest

from incident_response.config import Settings
from incident_response.ports import EventQueue
from incident_response.telemetry.logging import get_logger

__all__ = [
    "ASSEMBLY_BUCKETS",
    "Observability",
    "OtelMetrics",
    "build_observability",
    "install_tracing",
    "resource",
    "tracer_provider",
]

log = get_logger(__name__)

SERVICE_NAME = "incident-response"
SERVICE_NAMESPACE = "agents.platform"
METER_NAME = "incident_response"

# seconds: the promise is a room within a minute; a P1 storm or a Slack outage may take minutes
ASSEMBLY_BUCKETS = (0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# approval to published: one status-page call, retried by recovery every 30 s when it fails
APPROVAL_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)
# an exporter waits at most this for the collector (on its own thread)
EXPORT_TIMEOUT_SECONDS = 5.0
METRIC_EXPORT_INTERVAL_MS = 60_000
# the upkeep and /metrics read the queue's depth and dead letters at most this often
QUEUE_SAMPLE_SECONDS = 15.0


def resource(settings: Settings) -> Resource:
    """service.name, service.namespace and deployment.environment (OTEL_RESOURCE_ATTRIBUTES,
    e.g. the pod's name, are merged in by the SDK)."""
    return Resource.create(
        {
            "service.name": SERVICE_NAME,
            "service.namespace": SERVICE_NAMESPACE,
            "deployment.environment": settings.incident_response_environment,
        }
    )


def install_tracing(
    settings: Settings, *, processors: Sequence[SpanProcessor] = ()
) -> TracerProvider:
    """Make the process's TracerProvider (OpenTelemetry allows one per process: `serve` calls
    this once, before building). Spans are recorded even with export off, so the JSON logs
    carry trace ids that match the alert sender's trace."""
    provider = tracer_provider(settings, processors=processors)
    trace.set_tracer_provider(provider)
    log.info("telemetry.tracing", otlp_endpoint=settings.otlp_endpoint or "off")
    return provider


def tracer_provider(
    settings: Settings, *, processors: Sequence[SpanProcessor] = ()
) -> TracerProvider:
    """A TracerProvider with the service's resource, batching spans to the collector when
    export is on, and `processors` (tests) besides."""
    provider = TracerProvider(resource=resource(settings))
    endpoint = settings.otlp_endpoint
    if endpoint is not None:
        exporter = OTLPSpanExporter(
            endpoint=f"{endpoint}/v1/traces", timeout=EXPORT_TIMEOUT_SECONDS
        )
        provider.add_span_processor(BatchSpanProcessor(exporter))
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


class OtelMetrics:
    """`ports.Metrics` on an OpenTelemetry meter. Labels: severity and outcome only."""

    def __init__(self, provider: MeterProvider) -> None:
        meter = provider.get_meter(METER_NAME)
        self._assembly = meter.create_histogram(
            "assembly_duration",
            unit="s",
            description="First alert received to war room assembled.",
            explicit_bucket_boundaries_advisory=ASSEMBLY_BUCKETS,
        )
        self._approval = meter.create_histogram(
            "approval_gate_latency",
            unit="s",
            description="Status update approved to published on the status page.",
            explicit_bucket_boundaries_advisory=APPROVAL_BUCKETS,
        )
        self._directory_failures = meter.create_counter(
            "directory_lookup_failure_count",
            description="Responder lookups the directory or on-call system failed.",
        )
        self._publishes = meter.create_counter(
            "statuspage_publish_count",
            description="Approved status updates sent to the status page, by outcome.",
        )
        self._resolved = meter.create_counter(
            "incident_resolved_count", description="Incidents resolved."
        )
        self._postmortems = meter.create_counter(
            "postmortem_created_count", description="Postmortem drafts filed."
        )
        self._nudges = meter.create_counter(
            "nudges_sent_count", description="Reminders to update customers posted in war rooms."
        )
        self.queue = QueueGauges()
        meter.create_observable_gauge(
            "queue_depth",
            callbacks=[self.queue.observe_depth],
            description="Messages waiting or in flight on the event queue (approximate).",
        )
        meter.create_observable_gauge(
            "queue_dead_letters",
            callbacks=[self.queue.observe_dead_letters],
            description="Messages in the dead-letter queue.",
        )

    def war_room_assembled(self, *, seconds: float, severity: str) -> None:
        self._assembly.record(max(seconds, 0.0), {"severity": severity})

    def status_update_published(self, *, approval_seconds: float | None, severity: str) -> None:
        self._publishes.add(1, {"outcome": "published"})
        if approval_seconds is not None:
            self._approval.record(approval_seconds, {"severity": severity})

    def status_update_failed(self, *, severity: str) -> None:
        self._publishes.add(1, {"outcome": "failed"})

    def directory_lookup_failed(self, *, source: str) -> None:
        self._directory_failures.add(1, {"source": source})

    def incident_resolved(self, *, severity: str) -> None:
        self._resolved.add(1, {"severity": severity})

    def postmortem_created(self, *, severity: str) -> None:
        self._postmortems.add(1, {"severity": severity})

    def nudge_sent(self, *, severity: str) -> None:
        self._nudges.add(1, {"severity": severity})


@dataclass
class QueueGauges:
    """The queue's depth and dead letters as last read: the gauges' callbacks run on the
    exporter's thread and cannot await the queue, so `sample` reads it on the event loop."""

    depth: int | None = None
    dead_letters: int | None = None
    sampled_at: float | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def sample(self, queue: EventQueue, *, max_age: float = QUEUE_SAMPLE_SECONDS) -> None:
        """Read the queue unless a reading younger than `max_age` seconds is kept. A queue
        that cannot answer keeps the last reading (logged): metrics never fail a caller."""
        async with self._lock:
            now = time.monotonic()
            if self.sampled_at is not None and now - self.sampled_at < max_age:
                return
            try:
                depth = await queue.depth()
                dead = len(await queue.dead_letters())
            except Exception as exc:
                log.warning("telemetry.queue_sample_failed", error=f"{type(exc).__name__}: {exc}")
                return
            self.depth, self.dead_letters, self.sampled_at = depth, dead, now

    def observe_depth(self, options: CallbackOptions) -> Iterable[Observation]:
        return [] if self.depth is None else [Observation(self.depth)]

    def observe_dead_letters(self, options: CallbackOptions) -> Iterable[Observation]:
        return [] if self.dead_letters is None else [Observation(self.dead_letters)]


@dataclass
class Observability:
    """One container's metrics: what the services record to, what `/metrics` renders."""

    metrics: OtelMetrics
    provider: MeterProvider
    registry: CollectorRegistry
    queue: EventQueue

    async def sample_queue(self) -> None:
        await self.metrics.queue.sample(self.queue)

    async def prometheus_text(self) -> bytes:
        """The Prometheus text exposition of every metric, with a fresh queue reading."""
        await self.metrics.queue.sample(self.queue)
        return generate_latest(self.registry)

    async def shutdown(self) -> None:
        """Flush the last metrics to the collector (bounded by the export timeout)."""
        await asyncio.to_thread(
            self.provider.shutdown, timeout_millis=EXPORT_TIMEOUT_SECONDS * 2000
        )


def build_observability(
    settings: Settings, *, queue: EventQueue, readers: Sequence[MetricReader] = ()
) -> Observability:
    """The MeterProvider with its readers: Prometheus (a registry of this container's own, so
    two containers in one process never mix), OTLP when export is on, and `readers` (tests)."""
    registry = CollectorRegistry(auto_describe=True)
    chosen: list[MetricReader] = [
        PrometheusMetricReader(registry=registry, scope_info_enabled=False),
        *readers,
    ]
    endpoint = settings.otlp_endpoint
    if endpoint is not None:
        exporter = OTLPMetricExporter(
            endpoint=f"{endpoint}/v1/metrics", timeout=EXPORT_TIMEOUT_SECONDS
        )
        chosen.append(
            PeriodicExportingMetricReader(
                exporter, export_interval_millis=METRIC_EXPORT_INTERVAL_MS
            )
        )
    provider = MeterProvider(resource=resource(settings), metric_readers=chosen)
    return Observability(
        metrics=OtelMetrics(provider), provider=provider, registry=registry, queue=queue
    )
