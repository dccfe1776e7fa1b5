"""The IncidentOpener applies routing rules and sends storm overflow to one storm incident.

Against the real embedded store and audit log, with alerts as intake hands them over.
"""

from __future__ import annotations

import asyncio

import pytest

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.audit import AuditEventType
from incident_response.domain.routing import parse_routing
from incident_response.services.audit_verification import verify_audit_trail
from incident_response.services.incident_opener import NOT_OPENED, IncidentOpener, is_storm
from tests.support.clock import ManualClock
from tests.unit.test_incident_opener import Alerts, Crash, DyingAudit

RULES = parse_routing(
    [
        {"name": "staging is noise", "labels": {"env": "staging*"}, "action": "ignore"},
        {"name": "disk joins", "labels": {"alertname": "DiskFilling"}, "action": "attach"},
        {"name": "pages open", "min_severity": "P2", "action": "open"},
        {"name": "rest recorded", "action": "ignore"},
    ]
)


@pytest.fixture
async def store(db: Database, clock: ManualClock) -> SqliteIncidentStore:
    return await SqliteIncidentStore(db=db, clock=clock).open()


@pytest.fixture
async def audit(db: Database, clock: ManualClock) -> SqliteAuditLog:
    from tests.support.audit import AUDIT_KEY

    return await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()


@pytest.fixture
def alerts(store: SqliteIncidentStore, clock: ManualClock) -> Alerts:
    return Alerts(store, clock)


@pytest.fixture
def opener(store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock) -> IncidentOpener:
    return IncidentOpener(store=store, audit=audit, clock=clock, routing=RULES)


def labels(service: str, alertname: str = "HighErrorRate", **more: str) -> dict[str, str]:
    return {"service": service, "alertname": alertname, "severity": "critical", **more}


# --- routing ----------------------------------------------------------------------------------


async def test_an_ignored_alert_is_recorded_with_its_rule_and_opens_nothing(
    opener: IncidentOpener, alerts: Alerts, store: SqliteIncidentStore, audit: SqliteAuditLog
) -> None:
    alert = await alerts(labels=labels("checkout", env="staging-eu"))

    outcome = await opener.open_or_attach(alert)

    assert (outcome.action, outcome.incident) == ("ignored", None)
    assert await store.recent() == []
    assert await store.alert_processed(alert.delivery_id)
    [record] = await audit.records(NOT_OPENED)
    assert record.type is AuditEventType.ALERT_IGNORED
    assert record.data["delivery_id"] == alert.delivery_id
    assert record.data["rule"] == "staging is noise"
    assert record.data["why"] == "routing rule 'staging is noise' says ignore"
    assert record.data["labels"]["env"] == "staging-eu"
    trail = await verify_audit_trail(store=store, audit=audit, not_incidents={NOT_OPENED})
    assert trail.ok, trail.breaks


async def test_a_redelivered_ignored_alert_is_one_record(
    opener: IncidentOpener, alerts: Alerts, audit: SqliteAuditLog
) -> None:
    alert = await alerts(labels=labels("checkout", env="staging"))

    await opener.open_or_attach(alert)
    again = await opener.open_or_attach(alert)

    assert again.action == "duplicate"
    assert len(await audit.records(NOT_OPENED)) == 1


async def test_an_attach_rule_joins_the_open_incident_of_the_same_service(
    opener: IncidentOpener, alerts: Alerts, audit: SqliteAuditLog
) -> None:
    opened = await opener.open_or_attach(await alerts(group="PAGE", labels=labels("checkout")))
    disk = await alerts(group="DISK", labels=labels("checkout", "DiskFilling"))

    outcome = await opener.open_or_attach(disk)

    assert outcome.action == "attached"
    assert opened.incident is not None
    assert outcome.incident is not None
    assert outcome.incident.id == opened.incident.id
    [record] = await audit.find(opened.incident.id, AuditEventType.ALERT_ATTACHED)
    assert record.data["reason"] == "service"


async def test_an_attach_rule_with_no_open_incident_of_its_service_only_records_it(
    opener: IncidentOpener, alerts: Alerts, store: SqliteIncidentStore, audit: SqliteAuditLog
) -> None:
    await opener.open_or_attach(await alerts(group="PAGE", labels=labels("search")))
    disk = await alerts(group="DISK", labels=labels("checkout", "DiskFilling"))

    outcome = await opener.open_or_attach(disk)

    assert (outcome.action, outcome.incident) == ("ignored", None)
    [incident] = await store.recent()
    assert [a.delivery_id for a in incident.alerts] != [disk.delivery_id]
    assert len(incident.alerts) == 1
    [record] = await audit.records(NOT_OPENED)
    assert record.data["action"] == "attach"
    assert "no incident of service 'checkout' is open" in record.data["why"]


async def test_an_open_rule_opens_and_no_matching_rule_opens(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    opener = IncidentOpener(
        store=store,
        audit=audit,
        clock=clock,
        routing=parse_routing([{"labels": {"env": "staging"}, "action": "ignore"}]),
    )

    page = await opener.open_or_attach(await alerts(group="A", labels=labels("a")))
    unmatched = await opener.open_or_attach(
        await alerts(group="B", labels={"service": "b", "severity": "info"})
    )

    assert (page.action, unmatched.action) == ("opened", "opened")


async def test_an_alert_whose_group_has_an_open_incident_joins_it_whatever_the_rules(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    first = await IncidentOpener(store=store, audit=audit, clock=clock).open_or_attach(
        await alerts(group="G", labels=labels("checkout", env="staging"))
    )
    opener = IncidentOpener(store=store, audit=audit, clock=clock, routing=RULES)

    again = await opener.open_or_attach(
        await alerts("unresolve", group="G", labels=labels("checkout", env="staging"))
    )

    assert again.action == "attached"
    assert first.incident is not None
    assert again.incident is not None
    assert again.incident.id == first.incident.id


async def test_the_shipped_default_gives_a_lone_warning_no_war_room(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    opener = IncidentOpener(store=store, audit=audit, clock=clock, routing=parse_routing(None))
    warning = {"service": "checkout", "alertname": "Slow", "severity": "warning"}

    alone = await opener.open_or_attach(await alerts(group="W1", labels=warning))
    info = await opener.open_or_attach(
        await alerts(group="I1", labels={"service": "checkout", "severity": "info"})
    )
    page = await opener.open_or_attach(await alerts(group="P1", labels=labels("checkout")))
    joined = await opener.open_or_attach(await alerts(group="W2", labels=warning))

    assert [alone.action, info.action, page.action, joined.action] == [
        "ignored",
        "ignored",
        "opened",
        "attached",
    ]
    assert page.incident is not None
    assert joined.incident is not None
    assert joined.incident.id == page.incident.id


# --- storm overflow ---------------------------------------------------------------------------


async def test_thirty_services_at_the_default_cap_make_ten_incidents_and_one_storm_of_twenty(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    opener = IncidentOpener(store=store, audit=audit, clock=clock)  # cap 10 a minute
    sent = []
    for n in range(30):
        alert = await alerts(group=f"S{n:02}", labels=labels(f"svc-{n:02}"))
        sent.append(alert)
        await opener.open_or_attach(alert)
        clock.advance(seconds=1)

    incidents = await store.recent(limit=100)
    storms = [i for i in incidents if is_storm(i)]
    own = [i for i in incidents if not is_storm(i)]
    assert len(own) == 10
    assert len(storms) == 1
    [storm] = storms
    assert [a.delivery_id for a in storm.alerts] == [a.delivery_id for a in sent[10:]]
    assert storm.title == "Alert storm: more than 10 new incidents a minute"
    assert storm.service == "alert storm"
    for incident in own:  # none attached to an unrelated incident
        assert [a.alert_group_key for a in incident.alerts] == [incident.alert_group_key]
    assert len(await audit.find(storm.id, AuditEventType.STORM_CAP_REACHED)) == 20
    assert (await audit.records(storm.id))[0].type is AuditEventType.INCIDENT_OPENED
    assert (await audit.verify(storm.id)).ok


async def test_a_redelivered_overflow_alert_makes_no_second_storm_incident(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    opener = IncidentOpener(store=store, audit=audit, clock=clock, max_new_incidents_per_minute=1)
    await opener.open_or_attach(await alerts(group="A", labels=labels("a")))
    overflow = [await alerts(group=f"O{n}", labels=labels(f"o{n}")) for n in range(3)]
    for alert in overflow:
        await opener.open_or_attach(alert)

    clock.advance(minutes=30)  # another storm window: a redelivery must still find its place
    again = [await opener.open_or_attach(alert) for alert in overflow]

    assert {o.action for o in again} == {"duplicate"}
    [storm] = [i for i in await store.recent() if is_storm(i)]
    assert {o.incident.id for o in again if o.incident} == {storm.id}
    assert len(storm.alerts) == 3


async def test_a_crash_after_opening_the_storm_incident_is_finished_by_the_redelivery(
    db: Database, store: SqliteIncidentStore, clock: ManualClock, alerts: Alerts
) -> None:
    audit = await DyingAudit(db=db, clock=clock, at="opened:").open()
    audit.at = None
    opener = IncidentOpener(store=store, audit=audit, clock=clock, max_new_incidents_per_minute=1)
    await opener.open_or_attach(await alerts(group="A", labels=labels("a")))
    first_over = await alerts(group="B", labels=labels("b"))
    audit.at = "opened:"  # the storm incident is stored; its opening record is not
    with pytest.raises(Crash):
        await opener.open_or_attach(first_over)
    clock.advance(seconds=10)  # still over the cap

    again = await opener.open_or_attach(first_over)
    later = await opener.open_or_attach(await alerts(group="C", labels=labels("c")))

    assert again.action == "attached"
    assert later.incident is not None
    assert again.incident is not None
    assert later.incident.id == again.incident.id  # the same storm incident, not a second one
    storms = [i for i in await store.recent() if is_storm(i)]
    assert len(storms) == 1
    records = await audit.records(storms[0].id)
    assert records[0].type is AuditEventType.INCIDENT_OPENED
    assert [r.type for r in records].count(AuditEventType.INCIDENT_OPENED) == 1


async def test_overflow_alerts_handled_at_once_share_one_storm_incident(
    db: Database, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    other = await SqliteIncidentStore(db=db, clock=clock).open()  # a second processor
    one = IncidentOpener(store=store, audit=audit, clock=clock, max_new_incidents_per_minute=1)
    two = IncidentOpener(store=other, audit=audit, clock=clock, max_new_incidents_per_minute=1)
    await one.open_or_attach(await alerts(group="A", labels=labels("a")))
    overflow = [await alerts(group=f"O{n}", labels=labels(f"o{n}")) for n in range(6)]

    await asyncio.gather(
        *((one if n % 2 else two).open_or_attach(a) for n, a in enumerate(overflow))
    )

    storms = [i for i in await store.recent() if is_storm(i)]
    assert len(storms) == 1
    assert sorted(a.delivery_id for a in storms[0].alerts) == sorted(
        a.delivery_id for a in overflow
    )


async def test_a_resolve_of_a_storm_member_does_not_mitigate_the_storm_incident(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    opener = IncidentOpener(store=store, audit=audit, clock=clock, max_new_incidents_per_minute=1)
    await opener.open_or_attach(await alerts(group="A", labels=labels("a")))
    storm = await opener.open_or_attach(await alerts(group="B", labels=labels("b")))
    clock.advance(minutes=1)

    outcome = await opener.mitigate(await alerts("resolve", group="B", labels=labels("b")))

    assert outcome.action == "attached"
    assert storm.incident is not None
    assert outcome.incident is not None
    assert outcome.incident.id == storm.incident.id
    assert outcome.incident.status is storm.incident.status


async def test_a_resolved_groups_refire_that_an_attach_rule_routes_joins_and_moves_the_group(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    from incident_response.domain.incident import IncidentStatus

    opener = IncidentOpener(store=store, audit=audit, clock=clock, routing=RULES)
    first = await opener.open_or_attach(await alerts(group="DISK", labels=labels("checkout")))
    assert first.incident is not None
    resolved = first.incident.transition(IncidentStatus.RESOLVED, at=clock.now())
    await store.save(resolved)
    page = await opener.open_or_attach(await alerts(group="PAGE", labels=labels("checkout")))
    clock.advance(minutes=20)

    refire = await opener.open_or_attach(
        await alerts("unresolve", group="DISK", labels=labels("checkout", "DiskFilling"))
    )

    assert refire.action == "attached"
    assert page.incident is not None
    assert refire.incident is not None
    assert refire.incident.id == page.incident.id
    holder = await store.find_by_alert_group("grafana-oncall:DISK")
    assert holder is not None
    assert holder.id == page.incident.id
