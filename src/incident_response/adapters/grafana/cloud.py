"""Grafana Cloud context for the Telemetry port: Mimir, Loki and Tempo, read only.

The three are asked side by side under ONE deadline (`deadline_seconds`, 8 s by default), each
as its own vendor of the outbound HTTP policy (its own circuit breaker: a Tempo outage does not
stop Mimir being asked). A source that fails or is late is reported as failed, in one line; the
others are shown all the same. The snapshot itself never fails: the war room always gets what
could be found, and says what could not.

Authentication is HTTP basic: the stack's instance id (GRAFANA_CLOUD_ORG_ID) as user and an
access-policy token with the `metrics:read`, `logs:read` and `traces:read` scopes as password.
"""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from incident_response.adapters.grafana.cloud_queries import ContextQueries
from incident_response.domain.clock import utc
from incident_response.domain.context import ContextSnapshot, SourceReport
from incident_response.domain.incident import Incident
from incident_response.domain.text import shortened
from incident_response.http import VendorClient, VendorError
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

METRICS = "Metrics (Mimir)"
LOGS = "Logs (Loki)"
TRACES = "Traces (Tempo)"
DEFAULT_DEADLINE_SECONDS = 8.0
LOG_LINE_MAX = 160


class GrafanaCloudTelemetry:
    """Telemetry port over Grafana Cloud's Prometheus (Mimir), Loki and Tempo HTTP APIs."""

    def __init__(
        self,
        *,
        mimir: VendorClient,
        loki: VendorClient,
        tempo: VendorClient,
        queries: ContextQueries | None = None,
        deadline_seconds: float = DEFAULT_DEADLINE_SECONDS,
    ) -> None:
        self._mimir = mimir
        self._loki = loki
        self._tempo = tempo
        self._queries = queries or ContextQueries()
        self._deadline = deadline_seconds

    async def snapshot(self, incident: Incident, *, at: datetime) -> ContextSnapshot:
        at = utc(at)
        service = incident.service
        q = self._queries
        asks: list[tuple[str, str, Callable[[], Awaitable[str]]]] = [
            (
                METRICS,
                f"{q.selector(service)}, error rate and p95 over {q.rate_window}",
                lambda: self._metrics(service, at),
            ),
            (
                LOGS,
                f"{q.logs_query(service)}, last {q.lookback_seconds // 60} min",
                lambda: self._logs(service, at),
            ),
            (
                TRACES,
                f"{q.trace_tags(service)}, slow (>= {q.slow_trace}) or failed, "
                f"last {q.lookback_seconds // 60} min",
                lambda: self._traces(service, at),
            ),
        ]
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + self._deadline
        reports = await asyncio.gather(
            *(self._report(source, query, ask, ends_at) for source, query, ask in asks)
        )
        return ContextSnapshot(sources=tuple(reports), links=web_links(incident.links), taken_at=at)

    async def _report(
        self, source: str, query: str, ask: Callable[[], Awaitable[str]], ends_at: float
    ) -> SourceReport:
        """One source under the shared deadline; whatever goes wrong becomes its failed line."""
        try:
            async with asyncio.timeout_at(ends_at):
                found = await ask()
        except TimeoutError:
            failed = f"timed out after {self._deadline:g} s"
        except VendorError as exc:
            failed = exc.reason
        except Exception as exc:  # an answer this code cannot read fails its line, not the room
            log.warning("grafana_cloud.unreadable_answer", source=source, exc_info=True)
            failed = f"unreadable answer ({type(exc).__name__}: {shortened(str(exc), 120)})"
        else:
            return SourceReport(source=source, query=query, found=found)
        return SourceReport(source=source, query=query, failed=failed)

    # -- Mimir -----------------------------------------------------------------------------------

    async def _metrics(self, service: str, at: datetime) -> str:
        q = self._queries
        error_rate, p95 = await asyncio.gather(
            self._instant(q.error_rate_query(service), at),
            self._instant(q.latency_query(service), at),
        )
        window = _minutes(q.rate_window)
        parts = [
            "error rate "
            + (
                "no data"
                if error_rate is None
                else "no requests"
                if math.isnan(error_rate)
                else f"{error_rate * 100:.1f}%"
            )
            + f" ({window})",
            "p95 " + ("no data" if p95 is None or math.isnan(p95) else _duration(p95)),
        ]
        return ", ".join(parts)

    async def _instant(self, query: str, at: datetime) -> float | None:
        """The first sample of an instant vector query; None when the vector is empty."""
        response = await self._mimir.request(
            "GET", "/api/v1/query", params={"query": query, "time": f"{at.timestamp():.3f}"}
        )
        doc = _success(response.json(), "Mimir")
        data = doc["data"]
        if data.get("resultType") == "scalar":
            return float(data["result"][1])
        result = data["result"]
        if not result:
            return None
        return float(result[0]["value"][1])

    # -- Loki ------------------------------------------------------------------------------------

    async def _logs(self, service: str, at: datetime) -> str:
        q = self._queries
        end_ns = int(at.timestamp()) * 1_000_000_000
        start_ns = end_ns - q.lookback_seconds * 1_000_000_000
        response = await self._loki.request(
            "GET",
            "/loki/api/v1/query_range",
            params={
                "query": q.logs_query(service),
                "start": str(start_ns),
                "end": str(end_ns),
                "limit": str(q.log_limit),
                "direction": "backward",
            },
        )
        doc = _success(response.json(), "Loki")
        lines: list[tuple[int, str]] = [
            (int(stamp), str(line))
            for stream in doc["data"]["result"]
            for stamp, line, *_ in stream["values"]
        ]
        if not lines:
            return "no error lines"
        lines.sort(reverse=True)
        count = len(lines)
        amount = f"{count}{'+' if count >= q.log_limit else ''} error line" + (
            "s" if count != 1 else ""
        )
        newest = " ".join(lines[0][1].split())
        return f"{amount}, newest: {shortened(newest, LOG_LINE_MAX)}"

    # -- Tempo -----------------------------------------------------------------------------------

    async def _traces(self, service: str, at: datetime) -> str:
        q = self._queries
        end = int(at.timestamp())
        window = {
            "start": str(end - q.lookback_seconds),
            "end": str(end),
            "limit": str(q.trace_limit),
        }
        slow, failed = await asyncio.gather(
            self._search({"tags": q.trace_tags(service), "minDuration": q.slow_trace, **window}),
            self._search({"tags": q.trace_tags(service, q.failed_trace_tags), **window}),
        )
        parts = [_traces_line(slow, f"slow (>= {q.slow_trace})", q.trace_limit)]
        parts.append(_traces_line(failed, "failed", q.trace_limit))
        return ", ".join(parts)

    async def _search(self, params: dict[str, str]) -> list[dict[str, Any]]:
        response = await self._tempo.request("GET", "/api/search", params=params)
        doc = response.json()
        traces = doc.get("traces") or []
        if not isinstance(traces, list):
            raise ValueError("Tempo search answered without a list of traces")
        return [t for t in traces if isinstance(t, dict)]

    # -- probe -----------------------------------------------------------------------------------

    async def probe(self) -> str:
        """Each source answers a trivial authenticated read; a failure names the source."""
        checks: list[tuple[str, Awaitable[Any]]] = [
            ("Mimir", self._mimir.request("GET", "/api/v1/query", params={"query": "vector(1)"})),
            ("Loki", self._loki.request("GET", "/loki/api/v1/labels")),
            ("Tempo", self._tempo.request("GET", "/api/search/tags")),
        ]
        outcomes = await asyncio.gather(*(c for _, c in checks), return_exceptions=True)
        failures = [
            f"{name}: {o.reason if isinstance(o, VendorError) else o}"
            for (name, _), o in zip(checks, outcomes, strict=True)
            if isinstance(o, BaseException)
        ]
        if failures:
            raise VendorError(
                "grafana-cloud",
                "probe",
                "; ".join(failures)
                + " (check GRAFANA_CLOUD_ORG_ID, GRAFANA_CLOUD_TOKEN's scopes and the source URLs)",
            )
        return "Mimir, Loki and Tempo answer"


def web_links(links: dict[str, str]) -> dict[str, str]:
    """The alert's links a browser can open (the dashboard and runbook it carried)."""
    return {k: v for k, v in links.items() if v.startswith(("https://", "http://"))}


def _success(doc: Any, source: str) -> dict[str, Any]:
    if not isinstance(doc, dict) or doc.get("status") != "success":
        error = doc.get("error") if isinstance(doc, dict) else None
        raise ValueError(f"{source} answered {error or 'without status success'}")
    return doc


def _traces_line(traces: list[dict[str, Any]], kind: str, limit: int) -> str:
    if not traces:
        return f"no {kind} traces"
    count = f"{len(traces)}+" if len(traces) >= limit else str(len(traces))
    worst = max(traces, key=lambda t: float(t.get("durationMs") or 0))
    name = " ".join(str(worst.get("rootTraceName") or "").split())
    what = f"{_duration(float(worst.get('durationMs') or 0) / 1000)}"
    if name:
        what += f" {shortened(name, 60)}"
    return f"{count} {kind} (slowest {what}, trace {str(worst.get('traceID', ''))[:16]})"


def _duration(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


def _minutes(window: str) -> str:
    match = re.fullmatch(r"(\d+)m", window)
    return f"{match.group(1)} min" if match else window
