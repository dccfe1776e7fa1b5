"""A fake Grafana Cloud stack: Mimir's Prometheus API, Loki and Tempo on one server.

Paths as Grafana Cloud lays them out: Prometheus under `/api/prom` (so the adapter's base URL is
`<url>/api/prom`), Loki at the root, Tempo under `/tempo`. HTTP basic auth with the stack's
instance id and a token; a wrong pair gets 401.

The fake speaks the published shapes (Prometheus HTTP API `{"status":"success","data":{...}}`,
Loki `query_range` streams with nanosecond timestamps, Tempo search `{"traces":[...]}`) and
REFUSES what the real APIs refuse, recording a violation: a PromQL or LogQL query whose string
literals do not parse (an unescaped quote in a label value), a Loki range without nanosecond
`start`/`end`, a Tempo `tags` that is not logfmt or a `minDuration` that is not a duration.

Queries are answered from seeded data by the service matcher they carry, read back with Go's
string unquoting: a hostile service name that arrives intact finds its own data.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from tests.fakes.vendor_server import FakeVendorServer

ORG_ID = "123456"
TOKEN = "glc_fake_token"

PROM = "/api/prom"
TEMPO = "/tempo"

_STRING = re.compile(r'"((?:[^"\\\n]|\\.)*)"')
_DURATION = re.compile(r"(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+")


@dataclass
class Trace:
    trace_id: str
    service: str
    name: str
    duration_ms: int
    start_s: int
    error: bool = False


@dataclass
class Service:
    error_rate: float | None = None  # None: no series at all
    p95_seconds: float | None = None
    logs: list[tuple[int, str]] = field(default_factory=list)  # (ns, line)


def unquote(literal: str) -> str:
    """A Go double-quoted string literal's value (the literal without its quotes)."""
    return str(json.loads(f'"{literal}"'))


def strings_parse(query: str) -> bool:
    """True when every double quote in `query` opens or closes a well-formed string literal."""
    rest = _STRING.sub("", query)
    if '"' in rest:
        return False
    try:
        for match in _STRING.finditer(query):
            unquote(match.group(1))
    except ValueError:
        return False
    return rest.count("{") == rest.count("}")


class FakeGrafanaCloud(FakeVendorServer):
    name = "grafana-cloud"

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.services: dict[str, Service] = {}
        self.traces: list[Trace] = []
        self.violations: list[str] = []
        self.service_label = "service"

    # -- seeding -------------------------------------------------------------------------------

    def seed(
        self,
        service: str,
        *,
        error_rate: float | None = None,
        p95_seconds: float | None = None,
        logs: list[tuple[int, str]] | None = None,
    ) -> Service:
        seeded = Service(error_rate=error_rate, p95_seconds=p95_seconds, logs=list(logs or []))
        self.services[service] = seeded
        return seeded

    def add_trace(self, trace: Trace) -> None:
        self.traces.append(trace)

    @property
    def prometheus_url(self) -> str:
        return self.url + PROM

    @property
    def loki_url(self) -> str:
        return self.url

    @property
    def tempo_url(self) -> str:
        return self.url + TEMPO

    # -- contract --------------------------------------------------------------------------------

    def authorized(self, request: web.Request) -> bool:
        header = request.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        return user == ORG_ID and password == TOKEN

    def _refuse(self, message: str, *, status: int = 400) -> web.Response:
        self.violations.append(message)
        return web.json_response(
            {"status": "error", "errorType": "bad_data", "error": message}, status=status
        )

    def _service_in(self, query: str) -> str | None:
        match = re.search(re.escape(self.service_label) + r'="((?:[^"\\]|\\.)*)"', query)
        return unquote(match.group(1)) if match else None

    def routes(self, app: web.Application) -> None:
        app.router.add_get(PROM + "/api/v1/query", self.endpoint(self._query))
        app.router.add_get("/loki/api/v1/query_range", self.endpoint(self._query_range))
        app.router.add_get("/loki/api/v1/labels", self.endpoint(self._labels))
        app.router.add_get(TEMPO + "/api/search", self.endpoint(self._search))
        app.router.add_get(TEMPO + "/api/search/tags", self.endpoint(self._tags))

    # -- Prometheus (Mimir) ----------------------------------------------------------------------

    async def _query(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "")
        if not query:
            return self._refuse("query: parameter missing")
        if "time" in request.query:
            try:
                float(request.query["time"])
            except ValueError:
                return self._refuse(f"time: cannot parse {request.query['time']!r}")
        if not strings_parse(query):
            return self._refuse(f"1:1: parse error: unterminated or bad string in {query!r}")
        at = request.query.get("time", "0")
        if query == "vector(1)":
            return _vector([({}, at, 1.0)])
        service = self._service_in(query)
        seeded = self.services.get(service or "")
        value: float | None = None
        if seeded is not None:
            if "http_request_duration_seconds_bucket" in query:
                value = seeded.p95_seconds
            elif "http_requests_total" in query:
                value = seeded.error_rate
        if value is None:
            return _vector([])
        return _vector([({}, at, value)])

    # -- Loki ------------------------------------------------------------------------------------

    async def _query_range(self, request: web.Request) -> web.Response:
        query = request.query.get("query", "")
        if not query or not strings_parse(query):
            return self._refuse(f"parse error: bad LogQL {query!r}")
        try:
            start, end = int(request.query["start"]), int(request.query["end"])
            limit = int(request.query.get("limit", "100"))
        except (KeyError, ValueError):
            return self._refuse("start, end (nanoseconds) and limit must be integers")
        if end < 10**18:
            return self._refuse("start and end must be nanosecond epochs")
        filter_match = re.search(r'\|~ "((?:[^"\\]|\\.)*)"', query)
        pattern = re.compile(unquote(filter_match.group(1))) if filter_match else None
        service = self._service_in(query)
        seeded = self.services.get(service or "")
        lines = [
            (ns, line)
            for ns, line in (seeded.logs if seeded else [])
            if start <= ns <= end and (pattern is None or pattern.search(line))
        ]
        lines.sort(reverse=request.query.get("direction", "backward") == "backward")
        lines = lines[:limit]
        result = (
            [
                {
                    "stream": {self.service_label: service or ""},
                    "values": [[str(ns), line] for ns, line in lines],
                }
            ]
            if lines
            else []
        )
        return web.json_response(
            {
                "status": "success",
                "data": {"resultType": "streams", "result": result, "stats": {}},
            }
        )

    async def _labels(self, request: web.Request) -> web.Response:
        return web.json_response({"status": "success", "data": [self.service_label]})

    # -- Tempo -----------------------------------------------------------------------------------

    async def _search(self, request: web.Request) -> web.Response:
        tags: dict[str, str] = {}
        raw = request.query.get("tags", "")
        for match in re.finditer(r'\s*([\w.]+)=("(?:[^"\\]|\\.)*"|[^\s"]+)', raw):
            value = match.group(2)
            tags[match.group(1)] = unquote(value[1:-1]) if value.startswith('"') else value
        rebuilt = re.sub(r'\s*([\w.]+)=("(?:[^"\\]|\\.)*"|[^\s"]+)', "", raw)
        if rebuilt.strip():
            return self._refuse(f"invalid tags: {raw!r} is not logfmt")
        min_ms = 0.0
        if "minDuration" in request.query:
            text = request.query["minDuration"]
            if not _DURATION.fullmatch(text):
                return self._refuse(f"invalid minDuration: {text!r}")
            min_ms = _millis(text)
        try:
            limit = int(request.query.get("limit", "20"))
            start = int(request.query.get("start", "0"))
            end = int(request.query.get("end", str(2**62)))
        except ValueError:
            return self._refuse("limit, start and end must be integers (seconds)")
        found = [
            t
            for t in self.traces
            if t.service == tags.get("service.name", t.service)
            and (tags.get("status.code") != "error" or t.error)
            and t.duration_ms >= min_ms
            and start <= t.start_s <= end
        ]
        found.sort(key=lambda t: t.start_s, reverse=True)
        return web.json_response(
            {
                "traces": [
                    {
                        "traceID": t.trace_id,
                        "rootServiceName": t.service,
                        "rootTraceName": t.name,
                        "startTimeUnixNano": str(t.start_s * 10**9),
                        "durationMs": t.duration_ms,
                    }
                    for t in found[:limit]
                ],
                "metrics": {"inspectedTraces": len(self.traces)},
            }
        )

    async def _tags(self, request: web.Request) -> web.Response:
        return web.json_response({"tagNames": ["service.name", "http.method"]})


def _vector(samples: list[tuple[dict[str, str], str, float]]) -> web.Response:
    return web.json_response(
        {
            "status": "success",
            "data": {
                "resultType": "vector",
                "result": [
                    {"metric": metric, "value": [float(at), _prom_float(value)]}
                    for metric, at, value in samples
                ],
            },
        }
    )


def _prom_float(value: float) -> str:
    return "NaN" if value != value else repr(float(value))


def _millis(text: str) -> float:
    units = {"ns": 1e-6, "us": 1e-3, "µs": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4, "h": 3.6e6}
    return sum(
        float(number) * units[unit]
        for number, _, unit in re.findall(r"(\d+(\.\d+)?)(ns|us|µs|ms|s|m|h)", text)
    )
