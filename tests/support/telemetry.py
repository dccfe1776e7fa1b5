"""Recording spans in tests: OpenTelemetry allows one TracerProvider per process, so the first
test that asks installs it (through the service's own `install_tracing`) with an in-memory
exporter, and every later test gets the same exporter, emptied."""

from __future__ import annotations

from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from incident_response.config import load_settings
from incident_response.telemetry.otel import install_tracing

_EXPORTER: InMemorySpanExporter | None = None


def recorded_spans(environment: str = "test") -> InMemorySpanExporter:
    """The process's in-memory span exporter, emptied (installed on first use)."""
    global _EXPORTER
    if _EXPORTER is None:
        exporter = InMemorySpanExporter()
        settings = load_settings({"INCIDENT_RESPONSE_ENVIRONMENT": environment})
        install_tracing(settings, processors=[SimpleSpanProcessor(exporter)])
        _EXPORTER = exporter
    _EXPORTER.clear()
    return _EXPORTER
