"""The Statuspage adapter over HTTP against the fake Statuspage: what customers see (incident,
components, resolution), the outbound policy on Statuspage's failures (420/429 with Retry-After,
5xx retried only where nothing can post twice, timeouts, an open circuit), the component map and
the probe."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import structlog

from incident_response.adapters.statuspage.statuspage_io import StatuspageIo, UnknownComponent
from incident_response.domain.context import ComponentStatus, Impact, PublicStatus, PublishRequest
from incident_response.http import BreakerPolicy, CircuitOpen, OutboundHttp, VendorError
from tests.fakes.statuspage import FakeStatuspage
from tests.support.statuspage import Sleeps, statuspage_io

FIRST = PublishRequest(
    key="d1:v1",
    incident_name="Partial outage: Checkout",
    body="We are investigating errors at checkout.",
    status=PublicStatus.INVESTIGATING,
    impact=Impact.MAJOR,
    components=("Checkout",),
)


def follow_up(incident_id: str, key: str, body: str, **fields: object) -> PublishRequest:
    return FIRST.model_copy(
        update={"key": key, "body": body, "status_page_incident_id": incident_id, **fields}
    )


@pytest.fixture
async def fake() -> AsyncIterator[FakeStatuspage]:
    async with FakeStatuspage() as server:
        yield server
        assert server.violations == []


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
async def http(sleeps: Sleeps) -> AsyncIterator[OutboundHttp]:
    outbound = OutboundHttp(sleep=sleeps)
    yield outbound
    await outbound.aclose()


@pytest.fixture
def page(fake: FakeStatuspage, http: OutboundHttp) -> StatuspageIo:
    return statuspage_io(fake, http)


def restarted(fake: FakeStatuspage) -> StatuspageIo:
    """The adapter in a fresh process: nothing remembered, only what Statuspage holds."""
    return statuspage_io(fake, OutboundHttp(sleep=Sleeps()))


# -- what the page shows -------------------------------------------------------------------------


async def test_the_first_update_creates_the_incident_with_its_components_and_impact(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    published = await page.publish(FIRST)

    [create] = fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")
    sent = create.body["incident"]
    checkout = next(c["id"] for c in fake.components if c["name"] == "Checkout")
    assert create.headers["Authorization"] == f"OAuth {fake.api_key}"
    assert {k: sent[k] for k in ("name", "status", "impact_override", "body")} == {
        "name": "Partial outage: Checkout",
        "status": "investigating",
        "impact_override": "major",
        "body": "We are investigating errors at checkout.",
    }
    assert (sent["component_ids"], sent["components"]) == ([checkout], {checkout: "partial_outage"})
    incident = fake.incidents[published.status_page_incident_id]
    assert published.url == incident["shortlink"]
    assert published.update_id == incident["incident_updates"][0]["id"]
    assert fake.component_status("Checkout") == "partial_outage"


@pytest.mark.parametrize(
    ("impact", "status"),
    [
        (Impact.NONE, "operational"),
        (Impact.MINOR, "degraded_performance"),
        (Impact.MAJOR, "partial_outage"),
        (Impact.CRITICAL, "major_outage"),
    ],
)
async def test_a_component_shows_the_status_of_the_approved_impact(
    fake: FakeStatuspage, page: StatuspageIo, impact: Impact, status: str
) -> None:
    await page.publish(FIRST.model_copy(update={"impact": impact}))
    assert fake.component_status("Checkout") == status


async def test_later_updates_and_the_resolution_update_the_same_incident(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    first = await page.publish(FIRST)
    incident_id = first.status_page_incident_id
    await page.publish(
        follow_up(incident_id, "d2:v1", "A fix is rolling out.", status=PublicStatus.IDENTIFIED)
    )
    done = await page.publish(
        follow_up(
            incident_id,
            "d3:v2",
            "Checkout works normally again.",
            status=PublicStatus.RESOLVED,
            impact=Impact.NONE,
        )
    )
    assert done.status_page_incident_id == incident_id
    assert len(fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")) == 1
    patches = fake.calls_to("PATCH", f"/v1/pages/{fake.page_id}/incidents/{incident_id}")
    assert [p.body["incident"]["status"] for p in patches] == ["identified", "resolved"]
    assert fake.bodies(incident_id) == [
        "We are investigating errors at checkout.",
        "A fix is rolling out.",
        "Checkout works normally again.",
    ]
    assert fake.incidents[incident_id]["status"] == "resolved"
    assert fake.component_status("Checkout") == "operational"
    # the component listing was read once and cached
    assert len(fake.calls_to("GET", f"/v1/pages/{fake.page_id}/components")) == 1


async def test_a_component_the_page_lacks_is_refused_clearly_and_nothing_is_posted(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    with pytest.raises(UnknownComponent) as refused:
        await page.publish(FIRST.model_copy(update={"components": ("Checkout", "Search")}))
    message = str(refused.value)
    assert "'Search' does not exist on page pg1acme0000" in message
    assert "Checkout, Payments, Platform" in message
    assert "INCIDENT_RESPONSE_STATUS_PAGE_COMPONENTS" in message
    assert not refused.value.transient
    assert fake.incidents == {}
    # a component added on Statuspage afterwards is found: a missing name reads the page again
    fake.add_component("Search")
    published = await page.publish(FIRST.model_copy(update={"components": ("Search",)}))
    assert fake.bodies(published.status_page_incident_id) == [FIRST.body]


async def test_components_are_read_across_pages_of_the_listing(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    for n in range(150):
        fake.add_component(f"Region {n}")
    await page.publish(FIRST.model_copy(update={"components": ("Region 149",)}))
    assert fake.component_status("Region 149") == "partial_outage"
    listings = fake.calls_to("GET", f"/v1/pages/{fake.page_id}/components")
    assert [c.query["page"] for c in listings] == ["1", "2"]


# -- finding what was published before a crash ---------------------------------------------------


async def test_a_restarted_process_finds_every_update_it_published(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    first = await page.publish(FIRST)
    same_text = follow_up(first.status_page_incident_id, "d2:v1", FIRST.body)
    second = await page.publish(same_text)
    third = await page.publish(
        follow_up(
            first.status_page_incident_id, "d3:v1", "Monitoring.", status=PublicStatus.MONITORING
        )
    )
    after = restarted(fake)
    assert await after.find_published("d1:v1") == first
    assert await after.find_published("d2:v1") == second
    assert await after.find_published("d3:v1") == third
    assert first.update_id != second.update_id
    assert await after.find_published("d4:v1") is None
    # the marker stays private: no public text carries the key
    assert all("d1:v1" not in body for _, _, body in fake.all_updates())


async def test_updates_posted_by_people_on_statuspage_are_not_taken_for_ours(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    first = await page.publish(FIRST)
    incident = fake.incidents[first.status_page_incident_id]
    incident["incident_updates"].insert(
        0,
        {
            **incident["incident_updates"][0],
            "id": "upd-by-hand",
            "created_at": "2026-11-26T09:30:00.000Z",
        },
    )
    assert await restarted(fake).find_published("d1:v1") == first


async def test_publishing_a_key_a_crashed_process_posted_adds_nothing(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    first = await page.publish(FIRST)
    later = follow_up(first.status_page_incident_id, "d2:v1", "Identified.")
    await page.publish(later)
    calls = len(fake.calls)
    again = restarted(fake)
    assert await again.publish(FIRST) == first
    assert (await again.publish(later)).key == "d2:v1"
    assert fake.bodies(first.status_page_incident_id) == [FIRST.body, "Identified."]
    assert [c.method for c in fake.calls[calls:]] == ["GET", "GET"]


# -- the outbound policy on Statuspage's failures ------------------------------------------------


@pytest.mark.parametrize("status", [420, 429])
async def test_a_rate_limited_call_waits_as_long_as_statuspage_asks(
    fake: FakeStatuspage, page: StatuspageIo, sleeps: Sleeps, status: int
) -> None:
    fake.fail_next(1, status=status, retry_after=7, only=f"/v1/pages/{fake.page_id}/incidents")
    assert await page.find_published("d1:v1") is None
    fake.fail_next(1, status=status, retry_after=3)
    published = await page.publish(FIRST)
    assert 7.0 in sleeps.waits
    assert 3.0 in sleeps.waits
    assert fake.bodies(published.status_page_incident_id) == [FIRST.body]
    creates = fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")
    assert [c.status for c in creates] == [201]


async def test_paced_calls_stay_within_statuspages_limit(fake: FakeStatuspage) -> None:
    """Statuspage allows 1 request/s on a rolling window; the fake counts 4 per 3 s here (the
    pacer's 1/s plus room for network jitter), so an unpaced client would be refused."""
    fake.rate_limit(4 / 3, window=3.0, status=420)
    http = OutboundHttp()  # real time: the pacer really waits
    try:
        page = statuspage_io(fake, http)
        first = await page.publish(FIRST)  # lookup, components, create
        await page.publish(follow_up(first.status_page_incident_id, "d2:v1", "Identified."))
    finally:
        await http.aclose()
    assert fake.rate_limited == 0
    assert [c.status for c in fake.calls] == [200, 200, 201, 200, 200]


async def test_a_lookup_answered_5xx_is_tried_again(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    fake.fail_next(2, status=503, only=f"/v1/pages/{fake.page_id}/incidents")
    published = await page.publish(FIRST)
    lookups = fake.calls_to("GET", f"/v1/pages/{fake.page_id}/incidents")
    assert [c.status for c in lookups] == [503, 503, 200]
    assert fake.bodies(published.status_page_incident_id) == [FIRST.body]


async def test_a_create_answered_5xx_is_not_sent_again(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    """A 503 to a create may come after the incident was made: sending it again could post twice.
    It fails, and the next attempt (the gate's recovery) finds the incident by its marker."""
    fake.lose_next_response(503)
    with pytest.raises(VendorError) as failed:
        await page.publish(FIRST)
    assert failed.value.transient
    assert failed.value.status == 503
    assert len(fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")) == 1
    [incident_id] = fake.incidents
    recovered = await restarted(fake).find_published(FIRST.key)
    assert recovered is not None
    assert recovered.status_page_incident_id == incident_id
    assert (await page.publish(FIRST)).status_page_incident_id == incident_id
    assert fake.bodies(incident_id) == [FIRST.body]


async def test_a_create_refused_with_5xx_is_posted_once_on_the_next_attempt(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    assert await page.find_published(FIRST.key) is None
    fake.fail_next(1, status=502, only=f"/v1/pages/{fake.page_id}/incidents")
    with pytest.raises(VendorError):
        await page.publish(FIRST)
    assert fake.incidents == {}
    published = await page.publish(FIRST)
    assert fake.all_updates() == [(published.status_page_incident_id, "investigating", FIRST.body)]
    assert len(fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")) == 2


async def test_an_update_timing_out_is_not_sent_again(
    fake: FakeStatuspage, http: OutboundHttp
) -> None:
    page = statuspage_io(fake, http, timeout=0.2)
    first = await page.publish(FIRST)
    later = follow_up(first.status_page_incident_id, "d2:v1", "Identified.")
    assert await page.find_published(later.key) is None
    fake.stall_next(1, seconds=0.6, only=f"/v1/pages/{fake.page_id}/incidents/")
    with pytest.raises(VendorError, match=r"no answer within 0\.2 s") as failed:
        await page.publish(later)
    assert failed.value.transient
    assert len(fake.calls_to("PATCH", f"/v1/pages/{fake.page_id}/incidents/")) == 1
    await asyncio.sleep(0.5)  # the stalled request ends (a stall has no effect)
    assert fake.bodies(first.status_page_incident_id) == [FIRST.body]
    assert (await page.publish(later)).key == later.key
    assert fake.bodies(first.status_page_incident_id) == [FIRST.body, "Identified."]


async def test_a_lookup_timing_out_is_tried_again(fake: FakeStatuspage, http: OutboundHttp) -> None:
    page = statuspage_io(fake, http, timeout=0.2)
    fake.stall_next(1, seconds=0.6, only=f"/v1/pages/{fake.page_id}/incidents")
    assert await page.find_published("d1:v1") is None
    assert len(fake.calls_to("GET", f"/v1/pages/{fake.page_id}/incidents")) == 2


async def test_an_open_circuit_fails_fast_without_calling_statuspage(
    fake: FakeStatuspage, http: OutboundHttp
) -> None:
    page = statuspage_io(fake, http, breaker=BreakerPolicy(failures=3, reset_after=30))
    fake.fail_next(3, status=500)
    with pytest.raises(VendorError):
        await page.find_published("d1:v1")
    calls = len(fake.calls)
    with pytest.raises(CircuitOpen, match="circuit open"):
        await page.publish(FIRST)
    with pytest.raises(CircuitOpen):
        await page.find_published("d1:v1")
    assert len(fake.calls) == calls
    assert fake.incidents == {}


async def test_a_publish_stuck_behind_the_rate_limit_gives_up_before_the_gates_grace(
    fake: FakeStatuspage,
) -> None:
    http = OutboundHttp()
    try:
        # one call every 2 s: after the lookup, the next call cannot start in time
        slow = statuspage_io(fake, http, per_second=0.5, publish_deadline=0.5)
        with pytest.raises(VendorError, match=r"not done within 0\.5 s") as failed:
            await slow.publish(FIRST)
    finally:
        await http.aclose()
    assert failed.value.transient
    assert fake.incidents == {}


# -- probe ---------------------------------------------------------------------------------------


async def test_probe_names_the_page(fake: FakeStatuspage, page: StatuspageIo) -> None:
    assert await page.probe() == "page 'Acme Status' (pg1acme0000) reachable"
    [call] = fake.calls
    assert (call.method, call.path) == ("GET", "/v1/pages/pg1acme0000")


async def test_probe_says_which_setting_is_wrong(fake: FakeStatuspage, http: OutboundHttp) -> None:
    with pytest.raises(
        VendorError, match="HTTP 401: the API key was refused: check STATUSPAGE_API_KEY"
    ):
        await statuspage_io(fake, http, api_key="wrong").probe()
    with pytest.raises(
        VendorError, match="no page nosuchpage for this key: check STATUSPAGE_PAGE_ID"
    ):
        await statuspage_io(fake, http, page_id="nosuchpage").probe()


# -- the component map, read ahead and kept ------------------------------------------------------


async def test_warm_up_reads_the_components_once_and_names_configured_ones_the_page_lacks(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    with structlog.testing.capture_logs() as logs:
        await page.warm_up(("Checkout", "Search"))
    [warning] = [e for e in logs if e["event"] == "statuspage.components_missing"]
    assert warning["missing"] == ["Search"]
    await page.publish(FIRST)
    assert len(fake.calls_to("GET", f"/v1/pages/{fake.page_id}/components")) == 1


async def test_warm_up_learns_the_address_customers_read_the_page_at(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    def page_reads() -> int:
        return sum(1 for c in fake.calls if c.path == f"/v1/pages/{fake.page_id}")

    await page.warm_up(("Checkout",))
    assert page_reads() == 1

    assert await page.public_url() == "https://status.acme.test"  # its CNAME, not its `url`
    assert page_reads() == 1  # kept


async def test_a_page_without_a_custom_domain_is_read_at_its_statuspage_subdomain(
    http: OutboundHttp,
) -> None:
    async with FakeStatuspage(domain=None) as fake:
        assert await statuspage_io(fake, http).public_url() == "https://acme.statuspage.io"


async def test_no_address_while_statuspage_cannot_say_then_it_is_asked_again(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    fake.fail_next(3, status=503, only=f"/v1/pages/{fake.page_id}")

    assert await page.public_url() is None
    assert await page.public_url() == "https://status.acme.test"


async def test_a_component_replaced_on_statuspage_is_read_again_after_the_refusal(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    await page.warm_up(("Checkout",))
    fake.components = [c for c in fake.components if c["name"] != "Checkout"]
    fake.add_component("Checkout")
    with pytest.raises(VendorError, match="HTTP 422") as refused:
        await page.publish(FIRST)
    assert not refused.value.transient
    fake.violations.clear()  # the refusal above was the point
    published = await page.publish(FIRST)
    assert fake.bodies(published.status_page_incident_id) == [FIRST.body]
    assert fake.component_status("Checkout") == "partial_outage"


async def test_lookups_asked_together_share_one_listing_of_the_page(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    published = await page.publish(FIRST)
    calls = len(fake.calls)
    found = await asyncio.gather(*(page.find_published(f"d{n}:v1") for n in range(2, 12)))
    assert found == [None] * 10
    assert len(fake.calls) - calls <= 2
    assert await restarted(fake).find_published(FIRST.key) == published


async def test_two_updates_looked_up_together_keep_each_others_markers(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    first = await page.publish(FIRST)
    incident_id = first.status_page_incident_id
    second = follow_up(incident_id, "d2:v1", "Identified.")
    third = follow_up(incident_id, "d3:v1", "Monitoring.", status=PublicStatus.MONITORING)
    assert await page.find_published(second.key) is None
    assert await page.find_published(third.key) is None  # saw the incident before `second`
    await page.publish(second)
    await page.publish(third)
    after = restarted(fake)
    for request in (FIRST, second, third):
        found = await after.find_published(request.key)
        assert found is not None, request.key
    assert fake.bodies(incident_id) == [FIRST.body, "Identified.", "Monitoring."]


async def test_each_component_is_sent_with_the_status_the_ic_chose(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    first = await page.publish(
        FIRST.model_copy(
            update={
                "components": ("Checkout", "Payments"),
                "component_statuses": {
                    "Checkout": ComponentStatus.MAJOR_OUTAGE,
                    "Payments": ComponentStatus.DEGRADED_PERFORMANCE,
                },
            }
        )
    )
    ids = {c["name"]: c["id"] for c in fake.components}
    [create] = fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")
    assert create.body["incident"]["components"] == {
        ids["Checkout"]: "major_outage",
        ids["Payments"]: "degraded_performance",
    }
    assert fake.component_status("Checkout") == "major_outage"
    assert fake.component_status("Payments") == "degraded_performance"

    await page.publish(
        follow_up(
            first.status_page_incident_id,
            "d2:v1",
            "Checkout is recovering.",
            components=("Checkout", "Payments"),
            status=PublicStatus.MONITORING,
            component_statuses={"Checkout": ComponentStatus.OPERATIONAL},
        )
    )
    [patch] = fake.calls_to(
        "PATCH", f"/v1/pages/{fake.page_id}/incidents/{first.status_page_incident_id}"
    )
    # a component the update does not choose for follows the impact (major: partial outage)
    assert patch.body["incident"]["components"] == {
        ids["Checkout"]: "operational",
        ids["Payments"]: "partial_outage",
    }


async def test_a_maintenance_is_sent_as_a_scheduled_incident(
    fake: FakeStatuspage, page: StatuspageIo
) -> None:
    start = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    published = await page.publish(
        FIRST.model_copy(
            update={
                "key": "m1:v1",
                "incident_name": "Payments database upgrade",
                "body": "Checkout may be slow for a few minutes.",
                "components": ("Payments",),
                "scheduled_for": start,
                "scheduled_until": start + timedelta(hours=2),
            }
        )
    )
    [create] = fake.calls_to("POST", f"/v1/pages/{fake.page_id}/incidents")
    sent = create.body["incident"]
    payments = next(c["id"] for c in fake.components if c["name"] == "Payments")
    assert {k: v for k, v in sent.items() if k != "metadata"} == {
        "name": "Payments database upgrade",
        "status": "scheduled",
        "impact_override": "maintenance",
        "body": "Checkout may be slow for a few minutes.",
        "scheduled_for": "2026-12-05T02:00:00.000Z",
        "scheduled_until": "2026-12-05T04:00:00.000Z",
        "scheduled_auto_in_progress": True,
        "scheduled_auto_completed": True,
        "component_ids": [payments],
    }
    assert fake.component_status("Payments") == "operational"  # not until it starts
    assert await restarted(fake).find_published("m1:v1") == published
