"""The built-in status page's public documents, in Statuspage's public API v2 shape."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.domain.context import Impact, PublicStatus, PublishRequest
from tests.support.clock import ManualClock

BASE = "http://status.example.test"
UPDATE_KEYS = {"id", "status", "body", "incident_id", "created_at", "updated_at", "display_at"}
INCIDENT_KEYS = {
    "id",
    "name",
    "status",
    "impact",
    "created_at",
    "updated_at",
    "monitoring_at",
    "resolved_at",
    "shortlink",
    "incident_updates",
    "components",
    "page_id",
}


@pytest.fixture
def page(db: Database, clock: ManualClock) -> BuiltinStatusPage:
    return BuiltinStatusPage(db, base_url=BASE, clock=clock, page_name="Example Status")


def req(key: str, body: str, **fields: Any) -> PublishRequest:
    values: dict[str, Any] = {
        "key": key,
        "incident_name": "Checkout errors",
        "body": body,
        "status": PublicStatus.INVESTIGATING,
        "impact": Impact.MAJOR,
        "components": ("Checkout",),
    }
    values.update(fields)
    return PublishRequest(**values)


def strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


def is_utc_timestamp(value: str) -> bool:
    return value.endswith("Z") and datetime.fromisoformat(value).utcoffset() is not None


async def test_an_empty_page_is_all_operational(page: BuiltinStatusPage) -> None:
    summary = await page.summary()
    assert summary["status"] == {"indicator": "none", "description": "All Systems Operational"}
    assert summary["incidents"] == []
    assert summary["scheduled_maintenances"] == []
    assert summary["page"]["name"] == "Example Status"
    assert summary["page"]["url"] == f"{BASE}/status"
    assert is_utc_timestamp(summary["page"]["updated_at"])


async def test_incidents_json_has_statuspages_fields(
    page: BuiltinStatusPage, clock: ManualClock
) -> None:
    first = await page.publish(req("d1:1", "We are investigating errors in Checkout."))
    clock.advance(minutes=20)
    await page.publish(
        req(
            "d2:1",
            "A fix has been applied and we are monitoring.",
            status=PublicStatus.MONITORING,
            status_page_incident_id=first.status_page_incident_id,
        )
    )
    doc = json.loads(json.dumps(await page.incidents()))
    [incident] = doc["incidents"]
    assert set(incident) >= INCIDENT_KEYS
    assert incident["id"] == first.status_page_incident_id
    assert (incident["name"], incident["status"], incident["impact"]) == (
        "Checkout errors",
        "monitoring",
        "major",
    )
    assert incident["shortlink"] == f"{BASE}/status/incidents/{incident['id']}"
    assert incident["resolved_at"] is None
    assert is_utc_timestamp(incident["monitoring_at"])
    assert [u["status"] for u in incident["incident_updates"]] == ["monitoring", "investigating"]
    for update in incident["incident_updates"]:
        assert set(update) >= UPDATE_KEYS
        assert update["incident_id"] == incident["id"]
        assert is_utc_timestamp(update["created_at"])
    newest, oldest = incident["incident_updates"]
    assert oldest["created_at"] == incident["created_at"]
    assert newest["created_at"] == incident["updated_at"]
    assert [c["name"] for c in incident["components"]] == ["Checkout"]


async def test_each_published_body_appears_exactly_once(page: BuiltinStatusPage) -> None:
    bodies = ["We are investigating errors in Checkout.", "We have identified the cause."]
    first = await page.publish(req("d1:1", bodies[0]))
    await page.publish(
        req(
            "d2:1",
            bodies[1],
            status=PublicStatus.IDENTIFIED,
            status_page_incident_id=first.status_page_incident_id,
        )
    )
    await page.publish(req("d1:1", bodies[0]))
    for doc in (await page.incidents(), await page.summary(), await page.unresolved()):
        found = strings(doc)
        for body in bodies:
            assert sum(body[:40] in s for s in found) == 1


async def test_the_indicator_is_the_worst_unresolved_impact(page: BuiltinStatusPage) -> None:
    minor = await page.publish(
        req("a:1", "Slow logins.", impact=Impact.MINOR, components=("Login",))
    )
    assert (await page.status())["status"]["indicator"] == "minor"
    critical = await page.publish(req("b:1", "Checkout is down.", impact=Impact.CRITICAL))
    summary = await page.summary()
    assert summary["status"] == {"indicator": "critical", "description": "Major Service Outage"}
    assert {c["name"]: c["status"] for c in summary["components"]} == {
        "Login": "degraded_performance",
        "Checkout": "major_outage",
    }
    await page.publish(
        req(
            "b:2",
            "Resolved.",
            status=PublicStatus.RESOLVED,
            impact=Impact.CRITICAL,
            status_page_incident_id=critical.status_page_incident_id,
        )
    )
    summary = await page.summary()
    assert summary["status"]["indicator"] == "minor"
    assert [i["id"] for i in summary["incidents"]] == [minor.status_page_incident_id]
    assert {c["name"]: c["status"] for c in summary["components"]}["Checkout"] == "operational"


async def test_a_resolved_incident_stays_listed_with_its_resolution_time(
    page: BuiltinStatusPage, clock: ManualClock
) -> None:
    first = await page.publish(req("d1:1", "Investigating."))
    clock.advance(minutes=42)
    await page.publish(
        req(
            "d9:1",
            "Resolved.",
            status=PublicStatus.RESOLVED,
            status_page_incident_id=first.status_page_incident_id,
        )
    )
    [incident] = (await page.incidents())["incidents"]
    assert incident["status"] == "resolved"
    assert datetime.fromisoformat(incident["resolved_at"]) == clock.now()
    assert (await page.unresolved())["incidents"] == []


async def test_newest_incident_first(page: BuiltinStatusPage, clock: ManualClock) -> None:
    older = await page.publish(req("a:1", "First problem."))
    clock.advance(seconds=1)
    newer = await page.publish(req("b:1", "Second problem."))
    ids = [i["id"] for i in (await page.incidents())["incidents"]]
    assert ids == [newer.status_page_incident_id, older.status_page_incident_id]


async def test_an_empty_body_is_refused_and_publishes_nothing(page: BuiltinStatusPage) -> None:
    with pytest.raises(ValueError, match="body"):
        await page.publish(req("d1:1", "   "))
    assert (await page.incidents())["incidents"] == []
    assert await page.find_published("d1:1") is None


async def test_configured_components_start_operational(db: Database, clock: ManualClock) -> None:
    page = BuiltinStatusPage(db, base_url=BASE, clock=clock, components=("API", "Checkout"))
    components = (await page.components())["components"]
    assert [(c["name"], c["status"], c["position"]) for c in components] == [
        ("API", "operational", 1),
        ("Checkout", "operational", 2),
    ]


async def test_one_incident_in_public_shape(page: BuiltinStatusPage) -> None:
    published = await page.publish(req("d1:1", "Investigating."))
    incident = await page.incident(published.status_page_incident_id)
    assert incident is not None
    assert [u["id"] for u in incident["incident_updates"]] == [published.update_id]
    assert await page.incident("nosuchincident") is None


async def test_a_publish_is_found_again_after_a_restart(tmp_path: Path, clock: ManualClock) -> None:
    """Crash recovery: the gate asks `find_published` after a restart and must not post twice."""
    path = tmp_path / "ir.sqlite3"
    first_db = await Database(path).open()
    try:
        published = await BuiltinStatusPage(first_db, base_url=BASE, clock=clock).publish(
            req("d1:1", "Investigating.")
        )
    finally:
        await first_db.close()
    second_db = await Database(path).open()
    try:
        page = BuiltinStatusPage(second_db, base_url=BASE, clock=clock)
        assert await page.find_published("d1:1") == published
        assert await page.publish(req("d1:1", "Investigating.")) == published
        [incident] = (await page.incidents())["incidents"]
        assert len(incident["incident_updates"]) == 1
    finally:
        await second_db.close()
