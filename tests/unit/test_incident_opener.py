"""IncidentOpener against the real embedded store and audit log: one problem, one incident."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.domain.alert import DEFAULT_SEVERITY_MAP, Alert, Severity
from incident_response.domain.audit import AuditEvent, AuditEventType, AuditRecord
from incident_response.domain.incident import ChannelRef, Incident, IncidentStatus
from incident_response.intake import grafana_oncall
from incident_response.ports import AlertClaim
from incident_response.services.incident_opener import IncidentOpener, OpenOutcome
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock
from tests.unit.intake.examples import encode, oncall_body

STORM = {"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"}


@pytest.fixture
async def store(db: Database, clock: ManualClock) -> SqliteIncidentStore:
    return await SqliteIncidentStore(db=db, clock=clock).open()


@pytest.fixture
async def audit(db: Database, clock: ManualClock) -> SqliteAuditLog:
    return await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()


@pytest.fixture
def opener(store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock) -> IncidentOpener:
    return IncidentOpener(store=store, audit=audit, clock=clock)


class Alerts:
    """Alerts as intake would hand them over: parsed from OnCall bodies and recorded."""

    def __init__(self, store: SqliteIncidentStore, clock: ManualClock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(
        self,
        event: str = "alert group created",
        *,
        group: str = "G1",
        labels: dict[str, str] | None = None,
        at: datetime | None = None,
    ) -> Alert:
        when = at or self._clock.now()
        body = oncall_body(event, group=group, labels=STORM if labels is None else labels, at=when)
        [alert] = grafana_oncall.parse(
            encode(body), received_at=self._clock.now(), severity_map=DEFAULT_SEVERITY_MAP
        )
        await self._store.record_alert(alert)
        return alert


@pytest.fixture
def alerts(store: SqliteIncidentStore, clock: ManualClock) -> Alerts:
    return Alerts(store, clock)


async def types(audit: SqliteAuditLog, incident_id: str) -> list[AuditEventType]:
    return [r.type for r in await audit.records(incident_id)]


async def set_status(
    store: SqliteIncidentStore, incident_id: str, *path: IncidentStatus, at: datetime
) -> Incident:
    incident = await store.get(incident_id)
    assert incident is not None
    for status in path:
        incident = incident.transition(status, at=at)
    return await store.save(incident)


async def test_a_first_alert_opens_an_incident(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    alert = await alerts()

    outcome = await opener.open_or_attach(alert)

    assert outcome.action == "opened"
    assert outcome.incident is not None
    incident = await store.get(outcome.incident.id)
    assert incident is not None
    assert incident.status is IncidentStatus.ALERT_RECEIVED
    assert incident.alert_group_key == "grafana-oncall:G1"
    assert incident.grouping_key == "service=checkout|alertname=HighErrorRate"
    assert incident.severity is Severity.P1
    assert incident.created_at == clock.now()
    assert [a.delivery_id for a in incident.alerts] == [alert.delivery_id]
    assert await types(audit, incident.id) == [AuditEventType.INCIDENT_OPENED]
    assert await store.alert_processed(alert.delivery_id)


async def test_the_same_delivery_again_is_a_duplicate_of_the_same_incident(
    opener: IncidentOpener, alerts: Alerts, audit: SqliteAuditLog
) -> None:
    alert = await alerts()
    first = await opener.open_or_attach(alert)

    again = await opener.open_or_attach(alert)

    assert again.action == "duplicate"
    assert again.incident == first.incident
    assert first.incident is not None
    assert await types(audit, first.incident.id) == [AuditEventType.INCIDENT_OPENED]


async def test_a_new_delivery_for_an_open_alert_group_is_attached(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    first = await opener.open_or_attach(await alerts())
    clock.advance(minutes=30)  # well past the storm window: the alert group still matches

    second = await opener.open_or_attach(await alerts("unresolve"))

    assert second.action == "attached"
    assert second.incident is not None
    assert first.incident is not None
    assert second.incident.id == first.incident.id
    assert len(second.incident.alerts) == 2
    assert await store.count_created_since(datetime.min.replace(tzinfo=clock.now().tzinfo)) == 1
    assert (await types(audit, first.incident.id))[-1] is AuditEventType.ALERT_ATTACHED


async def test_a_firing_alert_reopens_a_mitigated_incident(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    opened = await opener.open_or_attach(await alerts())
    assert opened.incident is not None
    clock.advance(minutes=5)
    mitigated = await opener.mitigate(await alerts("resolve"))
    assert mitigated.action == "mitigated"
    clock.advance(minutes=5)

    outcome = await opener.open_or_attach(await alerts("unresolve"))

    assert outcome.action == "reopened"
    stored = await store.get(opened.incident.id)
    assert stored is not None
    assert stored.status is IncidentStatus.ASSEMBLED
    assert len(stored.alerts) == 3
    assert (await types(audit, stored.id))[-2:] == [
        AuditEventType.ALERT_ATTACHED,
        AuditEventType.INCIDENT_REOPENED,
    ]


async def test_resolve_then_a_new_alert_group_created_opens_a_new_incident(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    first = await opener.open_or_attach(await alerts())
    assert first.incident is not None
    await opener.mitigate(await alerts("resolve"))
    await set_status(store, first.incident.id, IncidentStatus.RESOLVED, at=clock.now())
    clock.advance(days=2)

    again = await opener.open_or_attach(await alerts("alert group created"))

    assert again.action == "opened"
    assert again.incident is not None
    assert again.incident.id != first.incident.id
    assert again.incident.is_open
    assert again.incident.previous_incident_id == first.incident.id
    old = await store.get(first.incident.id)
    assert old is not None
    assert old.status is IncidentStatus.RESOLVED
    [record] = await audit.records(again.incident.id)
    assert record.data["previous_incident_id"] == first.incident.id


async def test_a_storm_of_thirty_alert_groups_is_one_incident(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    outcomes: list[OpenOutcome] = []
    for n in range(30):
        outcomes.append(await opener.open_or_attach(await alerts(group=f"STORM{n:02}")))
        clock.advance(seconds=7)

    assert [o.action for o in outcomes] == ["opened"] + ["attached"] * 29
    [incident] = await store.recent()
    assert len(incident.alerts) == 30
    assert {a.alert_group_key for a in incident.alerts} == {
        f"grafana-oncall:STORM{n:02}" for n in range(30)
    }
    assert (await audit.verify(incident.id)).ok
    assert len(await audit.find(incident.id, AuditEventType.ALERT_ATTACHED)) == 29


async def test_after_the_storm_window_the_same_grouping_key_opens_a_new_incident(
    opener: IncidentOpener, alerts: Alerts, clock: ManualClock
) -> None:
    first = await opener.open_or_attach(await alerts(group="A"))
    clock.advance(minutes=11)

    later = await opener.open_or_attach(await alerts(group="B"))

    assert later.action == "opened"
    assert later.incident is not None
    assert first.incident is not None
    assert later.incident.id != first.incident.id


async def test_alerts_without_grouping_labels_are_never_grouped(
    opener: IncidentOpener, alerts: Alerts
) -> None:
    one = await opener.open_or_attach(await alerts(group="A", labels={"severity": "warning"}))
    two = await opener.open_or_attach(await alerts(group="B", labels={"severity": "warning"}))

    assert (one.action, two.action) == ("opened", "opened")


async def test_the_cap_on_new_incidents_sends_the_rest_to_one_storm_incident_and_loses_none(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    sent: list[Alert] = []
    for n in range(15):
        alert = await alerts(
            group=f"CAP{n:02}", labels={"service": f"svc-{n}", "alertname": "Down"}
        )
        sent.append(alert)
        await opener.open_or_attach(alert)
        clock.advance(seconds=3)

    incidents = await store.recent()
    assert len(incidents) == 11
    attached = [a.delivery_id for i in incidents for a in i.alerts]
    assert sorted(attached) == sorted(a.delivery_id for a in sent)
    storm = incidents[0]
    assert storm.title.startswith("Alert storm")
    assert [a.delivery_id for a in storm.alerts] == [a.delivery_id for a in sent[10:]]
    assert len(await audit.find(storm.id, AuditEventType.STORM_CAP_REACHED)) == 5
    assert all(len(i.alerts) == 1 for i in incidents[1:])
    assert all([await store.alert_processed(a.delivery_id) for a in sent])


async def test_the_cap_frees_up_after_a_minute(
    store: SqliteIncidentStore, audit: SqliteAuditLog, clock: ManualClock, alerts: Alerts
) -> None:
    opener = IncidentOpener(store=store, audit=audit, clock=clock, max_new_incidents_per_minute=2)
    labels: dict[str, Any] = {"alertname": "Down"}
    actions = []
    for n in range(3):
        alert = await alerts(group=f"G{n}", labels={**labels, "service": f"s{n}"})
        actions.append((await opener.open_or_attach(alert)).action)
    clock.advance(seconds=61)
    alert = await alerts(group="G9", labels={**labels, "service": "s9"})
    actions.append((await opener.open_or_attach(alert)).action)

    assert actions == ["opened", "opened", "attached", "opened"]


async def test_a_resolve_mitigates_the_incident_and_a_repeat_is_a_duplicate(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    opened = await opener.open_or_attach(await alerts())
    assert opened.incident is not None
    clock.advance(minutes=3)
    resolve = await alerts("resolve")

    outcome = await opener.mitigate(resolve)
    repeat = await opener.mitigate(resolve)

    assert outcome.action == "mitigated"
    assert repeat.action == "duplicate"
    stored = await store.get(opened.incident.id)
    assert stored is not None
    assert stored.status is IncidentStatus.MITIGATED
    assert stored.mitigated_at == clock.now()
    assert (await types(audit, stored.id)).count(AuditEventType.INCIDENT_MITIGATED) == 1


async def test_a_resolve_for_a_resolved_incident_is_only_attached(
    opener: IncidentOpener, alerts: Alerts, store: SqliteIncidentStore, clock: ManualClock
) -> None:
    opened = await opener.open_or_attach(await alerts())
    assert opened.incident is not None
    await set_status(store, opened.incident.id, IncidentStatus.RESOLVED, at=clock.now())
    clock.advance(minutes=1)

    outcome = await opener.mitigate(await alerts("resolve"))

    assert outcome.action == "attached"
    assert outcome.incident is not None
    assert outcome.incident.status is IncidentStatus.RESOLVED


async def test_a_resolve_for_a_storm_member_attaches_to_the_storm_incident(
    opener: IncidentOpener, alerts: Alerts, store: SqliteIncidentStore, clock: ManualClock
) -> None:
    storm = await opener.open_or_attach(await alerts(group="FIRST"))
    await opener.open_or_attach(await alerts(group="MEMBER"))
    clock.advance(minutes=1)

    outcome = await opener.mitigate(await alerts("resolve", group="MEMBER"))

    assert outcome.action == "attached"
    assert outcome.incident is not None
    assert storm.incident is not None
    assert outcome.incident.id == storm.incident.id
    assert outcome.incident.status is IncidentStatus.ALERT_RECEIVED


async def test_a_resolve_for_an_unknown_alert_group_is_ignored(
    opener: IncidentOpener, alerts: Alerts, store: SqliteIncidentStore
) -> None:
    resolve = await alerts("resolve", group="NEVERSEEN")

    outcome = await opener.mitigate(resolve)

    assert outcome == OpenOutcome(None, "ignored")
    assert await store.recent() == []
    assert await store.alert_processed(resolve.delivery_id)


async def test_a_crash_after_create_finishes_the_opening_on_redelivery(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    alert = await alerts()
    created = await store.create(
        Incident.open_from(
            alert, grouping_key="service=checkout|alertname=HighErrorRate", now=clock.now()
        ),
        claim=AlertClaim(delivery_id=alert.delivery_id, alert_group_key=alert.alert_group_key),
    )

    outcome = await opener.open_or_attach(alert)

    assert outcome.action == "opened"
    assert outcome.incident is not None
    assert outcome.incident.id == created.id
    assert len(await store.recent()) == 1
    assert await types(audit, created.id) == [AuditEventType.INCIDENT_OPENED]
    assert await store.alert_processed(alert.delivery_id)


async def test_a_crash_after_a_reopen_was_saved_still_audits_the_reopen(
    opener: IncidentOpener,
    alerts: Alerts,
    store: SqliteIncidentStore,
    audit: SqliteAuditLog,
    clock: ManualClock,
) -> None:
    opened = await opener.open_or_attach(await alerts())
    assert opened.incident is not None
    await opener.mitigate(await alerts("resolve"))
    clock.advance(minutes=2)
    refire = await alerts("unresolve")
    current = await store.get(opened.incident.id)
    assert current is not None
    await store.save(
        current.attach(refire, at=clock.now()).transition(IncidentStatus.ASSEMBLED, at=clock.now())
    )

    outcome = await opener.open_or_attach(refire)

    assert outcome.action == "reopened"
    assert len(await audit.find(opened.incident.id, AuditEventType.INCIDENT_REOPENED)) == 1
    stored = await store.get(opened.incident.id)
    assert stored is not None
    assert len(stored.alerts) == 3


class RacingStore(SqliteIncidentStore):
    """A store where another writer (the war-room assembler) saves just before our first save."""

    def __init__(self, *, db: Database, clock: ManualClock) -> None:
        super().__init__(db=db, clock=clock)
        self.races = 1

    async def save(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        if self.races:
            self.races -= 1
            current = await self.get(incident.id)
            assert current is not None
            await super().save(current.update(channel=ChannelRef(id="C1", name="inc-room")))
        return await super().save(incident, claim=claim)


async def test_a_lost_compare_and_set_rereads_and_keeps_both_changes(
    db: Database, audit: SqliteAuditLog, clock: ManualClock
) -> None:
    store = await RacingStore(db=db, clock=clock).open()
    opener = IncidentOpener(store=store, audit=audit, clock=clock)
    alerts = Alerts(store, clock)
    opened = await opener.open_or_attach(await alerts())
    assert opened.incident is not None

    outcome = await opener.open_or_attach(await alerts("unresolve"))

    assert outcome.action == "attached"
    stored = await store.get(opened.incident.id)
    assert stored is not None
    assert stored.channel is not None
    assert stored.channel.id == "C1"
    assert len(stored.alerts) == 2
    assert store.races == 0


async def test_a_storm_members_alert_group_firing_again_joins_the_storms_incident(
    opener: IncidentOpener, alerts: Alerts, store: SqliteIncidentStore, clock: ManualClock
) -> None:
    storm = await opener.open_or_attach(await alerts(group="FIRST"))
    await opener.open_or_attach(await alerts(group="MEMBER"))
    clock.advance(minutes=30)  # past the storm window: only the alert group's claim matches

    again = await opener.open_or_attach(await alerts("unresolve", group="MEMBER"))

    assert again.action == "attached"
    assert again.incident is not None
    assert storm.incident is not None
    assert again.incident.id == storm.incident.id
    assert len(await store.recent()) == 1


class Crash(BaseException):
    """The process died (not an Exception: nothing in the opener may catch it)."""


class DyingAudit(SqliteAuditLog):
    """Dies on its first append whose key starts with `at`, before writing it."""

    def __init__(self, *, db: Database, clock: ManualClock, at: str) -> None:
        super().__init__(db=db, clock=clock, key=AUDIT_KEY)
        self.at: str | None = at

    async def append(self, event: AuditEvent) -> AuditRecord:
        if self.at is not None and event.key.startswith(self.at):
            self.at = None
            raise Crash(event.key)
        return await super().append(event)


async def test_an_alert_attached_under_the_cap_stays_there_when_redelivered_after_a_crash(
    db: Database, store: SqliteIncidentStore, clock: ManualClock, alerts: Alerts
) -> None:
    audit = await DyingAudit(db=db, clock=clock, at="attached:").open()
    opener = IncidentOpener(store=store, audit=audit, clock=clock, max_new_incidents_per_minute=1)
    first = await opener.open_or_attach(await alerts(group="A", labels={"service": "a"}))
    capped = await alerts(group="B", labels={"service": "b"})
    with pytest.raises(Crash):  # attached under the cap, then died before auditing it
        await opener.open_or_attach(capped)
    clock.advance(minutes=2)  # the cap's minute has passed: deciding again would open

    again = await opener.open_or_attach(capped)

    assert first.incident is not None
    assert again.action == "attached"
    assert again.incident is not None
    incident, opened = await store.recent()
    assert opened.id == first.incident.id
    assert again.incident.id == incident.id != first.incident.id  # the storm incident
    assert [a.delivery_id for a in opened.alerts] == [a.delivery_id for a in first.incident.alerts]
    assert (await audit.records(incident.id))[0].type is AuditEventType.INCIDENT_OPENED
    assert [a.delivery_id for a in incident.alerts].count(capped.delivery_id) == 1
    assert len(await audit.find(incident.id, AuditEventType.STORM_CAP_REACHED)) == 1
    assert await store.alert_processed(capped.delivery_id)


class ClaimRacingStore(SqliteIncidentStore):
    """Another processor opens an incident for the same alert group just before our create."""

    def __init__(self, *, db: Database, clock: ManualClock, rival: Alert) -> None:
        super().__init__(db=db, clock=clock)
        self.rival: Alert | None = rival

    async def create(self, incident: Incident, *, claim: AlertClaim | None = None) -> Incident:
        if self.rival is not None:
            rival, self.rival = self.rival, None
            await super().create(
                Incident.open_from(rival, grouping_key="", now=rival.received_at),
                claim=AlertClaim(
                    delivery_id=rival.delivery_id, alert_group_key=rival.alert_group_key
                ),
            )
        return await super().create(incident, claim=claim)


async def test_an_opening_that_loses_the_alert_group_to_another_incident_joins_it(
    db: Database, audit: SqliteAuditLog, clock: ManualClock
) -> None:
    recorder = Alerts(await SqliteIncidentStore(db=db, clock=clock).open(), clock)
    rival = await recorder(group="G1", labels={"severity": "warning"})
    clock.advance(seconds=1)
    alert = await recorder("unresolve", group="G1", labels={"severity": "warning"})
    store = await ClaimRacingStore(db=db, clock=clock, rival=rival).open()
    opener = IncidentOpener(store=store, audit=audit, clock=clock)

    outcome = await opener.open_or_attach(alert)

    assert outcome.action == "attached"
    [incident] = await store.recent()
    assert outcome.incident is not None
    assert outcome.incident.id == incident.id
    assert [a.delivery_id for a in incident.alerts] == [rival.delivery_id, alert.delivery_id]
