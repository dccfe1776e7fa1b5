"""The Grafana Cloud context snapshot against the fake stack: the Telemetry suite, then what the
room is told when a source answers, fails, is late or is switched off by its circuit breaker."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.grafana.cloud import LOGS, METRICS, TRACES, GrafanaCloudTelemetry
from incident_response.adapters.grafana.cloud_factory import basic_auth
from incident_response.adapters.grafana.cloud_queries import ContextQueries, logfmt_value, quoted
from incident_response.config import load_settings
from incident_response.domain.context import ContextSnapshot, SourceReport
from incident_response.http import BreakerPolicy, CallPolicy, OutboundHttp, VendorError
from incident_response.integrations import Wiring, contributions
from incident_response.services import war_room_messages as msgs
from tests.contract.incident_samples import STARTED, sample_incident
from tests.contract.telemetry_suite import TelemetryContract
from tests.fakes.grafana_cloud import ORG_ID, TOKEN, FakeGrafanaCloud, Trace, strings_parse, unquote
from tests.support.clock import ManualClock

AT = STARTED + timedelta(minutes=2)
NS = 1_000_000_000
HOSTILE = 'check"out\\ {x="y"} or vector(1)\n'


class Sleeps:
    """The policy's backoff waits, recorded instead of slept."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


@pytest.fixture
async def fake() -> AsyncIterator[FakeGrafanaCloud]:
    async with FakeGrafanaCloud() as server:
        at_ns = int(AT.timestamp()) * NS
        server.seed(
            "checkout",
            error_rate=0.042,
            p95_seconds=1.8,
            logs=[
                (at_ns - 60 * NS, 'level=error msg="payment declined" order=1'),
                (at_ns - 30 * NS, "level=info msg=ok"),
                (at_ns - 10 * NS, 'level=error msg="card   service\n timeout" order=2'),
                (at_ns - 3600 * NS, 'level=error msg="an hour ago"'),
            ],
        )
        start = int(AT.timestamp())
        server.add_trace(Trace("a1b2c3d4e5f60718", "checkout", "POST /pay", 4200, start - 60))
        server.add_trace(
            Trace("ffee00112233aabb", "checkout", "GET /cart", 120, start - 30, error=True)
        )
        yield server


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def http(sleeps: Sleeps) -> AsyncIterator[OutboundHttp]:
    outbound = OutboundHttp(sleep=sleeps)
    yield outbound
    await outbound.aclose()


def adapter(
    fake: FakeGrafanaCloud,
    http: OutboundHttp,
    *,
    deadline: float = 8.0,
    attempts: int = 3,
    token: str = TOKEN,
    breaker: BreakerPolicy | None = None,
) -> GrafanaCloudTelemetry:
    headers = {"Authorization": basic_auth(ORG_ID, token)}
    policy = CallPolicy(timeout=deadline, attempts=attempts)

    return GrafanaCloudTelemetry(
        mimir=http.vendor(
            "grafana-mimir",
            base_url=fake.prometheus_url,
            headers=headers,
            policy=policy,
            breaker=breaker,
        ),
        loki=http.vendor(
            "grafana-loki", base_url=fake.loki_url, headers=headers, policy=policy, breaker=breaker
        ),
        tempo=http.vendor(
            "grafana-tempo",
            base_url=fake.tempo_url,
            headers=headers,
            policy=policy,
            breaker=breaker,
        ),
        deadline_seconds=deadline,
    )


def by_source(snapshot: ContextSnapshot) -> dict[str, SourceReport]:
    return {report.source: report for report in snapshot.sources}


class TestGrafanaCloudTelemetry(TelemetryContract):
    @pytest.fixture
    def telemetry(self, fake: FakeGrafanaCloud, http: OutboundHttp) -> GrafanaCloudTelemetry:
        return adapter(fake, http)


async def test_the_snapshot_reports_metrics_logs_and_traces(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    snapshot = await adapter(fake, http).snapshot(sample_incident(), at=AT)
    reports = by_source(snapshot)
    assert reports[METRICS].found == "error rate 4.2% (5 min), p95 1.8 s"
    assert reports[LOGS].found == (
        '2 error lines, newest: level=error msg="card service timeout" order=2'
    )
    assert "1 slow (>= 1s) (slowest 4.2 s POST /pay" in reports[TRACES].found
    assert "1 failed (slowest 120 ms GET /cart" in reports[TRACES].found
    assert all(not r.failed for r in snapshot.sources)
    assert 'service="checkout"' in reports[METRICS].query
    assert fake.violations == []


async def test_the_queries_cover_the_window_before_the_alert(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    await adapter(fake, http).snapshot(sample_incident(), at=AT)
    (loki,) = fake.calls_to("GET", "/loki/api/v1/query_range")
    assert loki.query["query"] == '{service="checkout"} |~ "(?i)error"'
    assert int(loki.query["end"]) == int(AT.timestamp()) * NS
    assert int(loki.query["end"]) - int(loki.query["start"]) == 15 * 60 * NS
    tempo = fake.calls_to("GET", "/tempo/api/search")
    assert {c.query["tags"] for c in tempo} == {
        "service.name=checkout",
        "service.name=checkout status.code=error",
    }
    assert all(c.query["end"] == str(int(AT.timestamp())) for c in tempo)
    mimir = fake.calls_to("GET", "/api/prom/api/v1/query")
    assert {float(c.query["time"]) for c in mimir} == {AT.timestamp()}


async def test_a_service_without_data_says_so(fake: FakeGrafanaCloud, http: OutboundHttp) -> None:
    snapshot = await adapter(fake, http).snapshot(sample_incident(service="search"), at=AT)
    reports = by_source(snapshot)
    assert reports[METRICS].found == "error rate no data (5 min), p95 no data"
    assert reports[LOGS].found == "no error lines"
    assert reports[TRACES].found == "no slow (>= 1s) traces, no failed traces"


async def test_no_requests_is_not_a_zero_error_rate(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    fake.seed("quiet", error_rate=float("nan"), p95_seconds=float("nan"))
    snapshot = await adapter(fake, http).snapshot(sample_incident(service="quiet"), at=AT)
    assert by_source(snapshot)[METRICS].found == "error rate no requests (5 min), p95 no data"


async def test_a_hostile_service_label_is_quoted_not_injected(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    fake.seed(
        HOSTILE, error_rate=0.5, p95_seconds=0.25, logs=[(int(AT.timestamp()) * NS, "ERROR x")]
    )
    fake.add_trace(Trace("0123456789abcdef", HOSTILE, "op", 2000, int(AT.timestamp()) - 5))
    snapshot = await adapter(fake, http).snapshot(sample_incident(service=HOSTILE), at=AT)
    reports = by_source(snapshot)
    assert fake.violations == []
    assert reports[METRICS].found == "error rate 50.0% (5 min), p95 250 ms"
    assert reports[LOGS].found == "1 error line, newest: ERROR x"
    assert reports[TRACES].found.startswith("1 slow")


@pytest.mark.parametrize(
    "value",
    ['"', "\\", '\\"', 'a"} or vector(1) {b="', "line\nbreak", "tab\there", "\x01", "ünï"],
)
def test_quoting_round_trips_through_go_string_rules(value: str) -> None:
    literal = quoted(value)
    assert strings_parse(f"{{service={literal}}}")
    assert unquote(literal[1:-1]) == value
    query = ContextQueries().error_rate_query(value)
    assert strings_parse(query)


def test_a_plain_tempo_tag_stays_bare_and_a_hostile_one_is_quoted() -> None:
    assert logfmt_value("checkout-api") == "checkout-api"
    assert logfmt_value('a b"c') == '"a b\\"c"'


async def test_a_late_source_is_reported_failed_and_the_others_are_shown(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    fake.stall_next(2, seconds=1.0, only="/tempo/")
    snapshot = await adapter(fake, http, deadline=0.3).snapshot(sample_incident(), at=AT)
    reports = by_source(snapshot)
    assert reports[TRACES].failed == "timed out after 0.3 s"
    assert reports[METRICS].found.startswith("error rate 4.2%")
    assert reports[LOGS].found.startswith("2 error lines")


async def test_a_failing_source_is_reported_with_its_reason(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    fake.fail_next(3, status=502, only="/loki/")
    snapshot = await adapter(fake, http).snapshot(sample_incident(), at=AT)
    reports = by_source(snapshot)
    assert reports[LOGS].failed.startswith("HTTP 502")
    assert not reports[METRICS].failed
    assert not reports[TRACES].failed


async def test_a_5xx_is_retried(fake: FakeGrafanaCloud, http: OutboundHttp) -> None:
    fake.fail_next(1, status=503, only="/loki/")
    snapshot = await adapter(fake, http).snapshot(sample_incident(), at=AT)
    assert by_source(snapshot)[LOGS].found.startswith("2 error lines")
    assert len(fake.calls_to("GET", "/loki/api/v1/query_range")) == 2


async def test_a_429_waits_the_retry_after_it_names(
    fake: FakeGrafanaCloud, http: OutboundHttp, sleeps: Sleeps
) -> None:
    fake.fail_next(1, status=429, retry_after=2, only="/loki/")
    snapshot = await adapter(fake, http).snapshot(sample_incident(), at=AT)
    assert by_source(snapshot)[LOGS].found.startswith("2 error lines")
    assert 2.0 in sleeps.waits


async def test_wrong_credentials_fail_each_source_clearly(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    snapshot = await adapter(fake, http, token="wrong").snapshot(sample_incident(), at=AT)
    assert [r.failed for r in snapshot.sources] == ["HTTP 401: unauthorized"] * 3


async def test_an_open_circuit_skips_the_source_without_calling_it(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    telemetry = adapter(fake, http, attempts=1, breaker=BreakerPolicy(failures=1, reset_after=60))
    fake.fail_next(2, status=500, only="/api/prom/")
    await telemetry.snapshot(sample_incident(), at=AT)
    before = len(fake.calls_to("GET", "/api/prom/"))
    snapshot = await telemetry.snapshot(sample_incident(), at=AT)
    reports = by_source(snapshot)
    assert reports[METRICS].failed.startswith("circuit open")
    assert len(fake.calls_to("GET", "/api/prom/")) == before
    assert reports[LOGS].found.startswith("2 error lines")


async def test_probe_names_each_source(fake: FakeGrafanaCloud, http: OutboundHttp) -> None:
    assert await adapter(fake, http).probe() == "Mimir, Loki and Tempo answer"
    fake.fail_next(1, status=404, only="/tempo/")
    with pytest.raises(VendorError, match="Tempo: HTTP 404"):
        await adapter(fake, http).probe()


async def test_the_room_reads_one_line_per_source(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    fake.stall_next(2, seconds=1.0, only="/tempo/")
    snapshot = await adapter(fake, http, deadline=0.3).snapshot(sample_incident(), at=AT)
    message = msgs.context(sample_incident(), {}, snapshot, None)
    text = "\n".join(message.sections)
    assert "Metrics (Mimir): error rate 4.2% (5 min), p95 1.8 s" in text
    assert 'Logs (Loki): 2 error lines, newest: level=error msg="card service timeout"' in text
    assert "Traces (Tempo): failed — timed out after 0.3 s" in text
    assert "label " not in text


async def test_the_registry_builds_it_from_settings(
    fake: FakeGrafanaCloud, http: OutboundHttp, tmp_path: Path
) -> None:
    settings = load_settings(
        {
            "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
            "GRAFANA_CLOUD_TOKEN": TOKEN,
            "GRAFANA_CLOUD_ORG_ID": ORG_ID,
            "GRAFANA_CLOUD_PROMETHEUS_URL": fake.prometheus_url,
            "GRAFANA_CLOUD_LOKI_URL": fake.loki_url,
            "GRAFANA_CLOUD_TEMPO_URL": fake.tempo_url,
        }
    )
    nothing: Any = None
    wiring = Wiring(
        settings=settings,
        http=http,
        clock=ManualClock(),
        directory=nothing,
        oncall=nothing,
        drafter=nothing,
    )
    built = await contributions(wiring)
    telemetry = built["grafana-cloud"].telemetry
    assert isinstance(telemetry, GrafanaCloudTelemetry)
    snapshot = await telemetry.snapshot(sample_incident(), at=AT)
    assert by_source(snapshot)[METRICS].found.startswith("error rate 4.2%")
    assert await telemetry.probe() == "Mimir, Loki and Tempo answer"


async def test_an_answer_of_the_wrong_shape_fails_only_its_line(
    fake: FakeGrafanaCloud, http: OutboundHttp
) -> None:
    fake.fail_next(
        1, status=200, body={"status": "success", "data": {"result": "?"}}, only="/loki/"
    )
    snapshot = await adapter(fake, http).snapshot(sample_incident(), at=AT)
    reports = by_source(snapshot)
    assert reports[LOGS].failed.startswith("unreadable answer")
    assert reports[METRICS].found.startswith("error rate 4.2%")
