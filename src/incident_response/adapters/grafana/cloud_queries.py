"""The queries the Grafana Cloud context snapshot asks, and how an alert's label gets into them.

An alert's labels come from outside (any sender of an alert can set them), so a service name is
hostile text until quoted. PromQL and LogQL string literals follow Go's escaping rules; a JSON
string literal is a valid Go string literal (`\\"`, `\\\\`, `\\n`, `\\u0001`), so `quoted` uses
it. Tempo's `tags` parameter is logfmt, whose quoted values read the same escapes.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

# a logfmt value that needs no quotes
_BARE = re.compile(r"[A-Za-z0-9._/:-]+")


def quoted(value: str) -> str:
    """`value` as a PromQL / LogQL double-quoted string literal."""
    return json.dumps(value, ensure_ascii=False)


def logfmt_value(value: str) -> str:
    """`value` as a logfmt value: bare when it is plain, else quoted and escaped."""
    return value if _BARE.fullmatch(value) else quoted(value)


@dataclass(frozen=True)
class ContextQueries:
    """The query templates, on common metric names; `{selector}` is the service's label matcher
    (`service="checkout"`), `{window}` the rate window. Pass another instance to the adapter for
    other metric or label names."""

    service_label: str = "service"
    trace_service_tag: str = "service.name"
    error_rate: str = (
        'sum(rate(http_requests_total{{{selector},status=~"5.."}}[{window}]))'
        " / sum(rate(http_requests_total{{{selector}}}[{window}]))"
    )
    latency_p95: str = (
        "histogram_quantile(0.95, sum by (le) "
        "(rate(http_request_duration_seconds_bucket{{{selector}}}[{window}])))"
    )
    error_lines: str = '{{{selector}}} |~ "(?i)error"'
    failed_trace_tags: str = "status.code=error"
    rate_window: str = "5m"
    slow_trace: str = "1s"  # Tempo's minDuration for a slow trace
    log_limit: int = 5
    trace_limit: int = 5
    lookback_seconds: int = 15 * 60  # how far back logs and traces are searched

    def selector(self, service: str) -> str:
        return f"{self.service_label}={quoted(service)}"

    def error_rate_query(self, service: str) -> str:
        return self.error_rate.format(selector=self.selector(service), window=self.rate_window)

    def latency_query(self, service: str) -> str:
        return self.latency_p95.format(selector=self.selector(service), window=self.rate_window)

    def logs_query(self, service: str) -> str:
        return self.error_lines.format(selector=self.selector(service))

    def trace_tags(self, service: str, *extra: str) -> str:
        return " ".join((f"{self.trace_service_tag}={logfmt_value(service)}", *extra))
