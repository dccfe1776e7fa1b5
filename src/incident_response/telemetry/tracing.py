"""Spans and W3C trace context, through the OpenTelemetry API only.

The core (intake, services) traces through these helpers and never imports OpenTelemetry
itself: scripts/check_architecture.py keeps it so. Without a TracerProvider (tools, tests that
install none) every span is a no-op that still carries its parent's context, so a traceparent
that came in with an alert still rides the queue message.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry import trace
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["carrier", "continued", "failed", "span"]

_PROPAGATOR = TraceContextTextMapPropagator()
_TRACER = trace.get_tracer("incident_response")

Attribute = str | int | float | bool


def carrier(fallback: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current trace context as W3C headers (traceparent, tracestate) for a queue message;
    `fallback` (e.g. the headers an alert came with) when no span is current."""
    found: dict[str, str] = {}
    _PROPAGATOR.inject(found)
    return found if found else dict(fallback or {})


@contextmanager
def continued(
    headers: Mapping[str, str], name: str, *, consumer: bool, **attributes: Attribute
) -> Iterator[None]:
    """A span named `name` continuing the trace `headers` carry (a queue message's `trace`, a
    webhook's traceparent), or starting one when they carry none; current inside the block.

    A consumer always continues the message's trace. A request handler continues the server
    span already current (FastAPI opens one per request, itself continuing the sender's
    traceparent) and reads `headers` only when there is none."""
    current = trace.get_current_span().get_span_context().is_valid
    if consumer:
        parent, kind = _PROPAGATOR.extract(dict(headers)), trace.SpanKind.CONSUMER
    elif current:
        parent, kind = None, trace.SpanKind.INTERNAL
    else:
        parent, kind = _PROPAGATOR.extract(dict(headers)), trace.SpanKind.SERVER
    with _TRACER.start_as_current_span(name, context=parent, kind=kind, attributes=attributes):
        yield


@contextmanager
def span(name: str, **attributes: Attribute) -> Iterator[None]:
    """A child span of whatever is current (an assembly step): an exception escaping the block
    marks it failed and is recorded on it."""
    with _TRACER.start_as_current_span(name, attributes=attributes):
        yield


def failed(reason: str) -> None:
    """Mark the current span failed without an exception (a step that degraded)."""
    current = trace.get_current_span()
    current.set_status(trace.Status(trace.StatusCode.ERROR, reason))
