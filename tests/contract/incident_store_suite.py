"""What every IncidentStore must do. An adapter's test module subclasses `IncidentStoreContract`
and provides a `store` fixture built on the `clock` fixture (see test_embedded_store.py)."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

import pytest

from incident_response.domain.alert import (
    Alert,
    AlertEventKind,
    AlertSource,
    Severity,
    alert_group_key,
)
from incident_response.domain.errors import (
    AlertClaimed,
    AlreadyExists,
    ConcurrentUpdate,
    NotFound,
)
from incident_response.domain.incident import (
    ChannelRef,
    ChecklistItem,
    Incident,
    IncidentStatus,
    Responder,
)
from incident_response.ports import AlertClaim, IncidentStore
from tests.support.clock import ManualClock

S = IncidentStatus


def incident(
    incident_id: str,
    *,
    at: datetime,
    group: str = "grp-1",
    grouping_key: str = "",
    status: IncidentStatus = S.ALERT_RECEIVED,
) -> Incident:
    return Incident(
        id=incident_id,
        status=status,
        severity=Severity.P2,
        title=f"Checkout errors ({incident_id})",
        source=AlertSource.ALERTMANAGER,
        alert_group_id=group,
        alert_group_key=alert_group_key(AlertSource.ALERTMANAGER, group),
        grouping_key=grouping_key,
        service="checkout",
        labels={"service": "checkout", "region": "eu-west-1"},
        created_at=at,
        updated_at=at,
    )


def claim(
    delivery: str, *, group: str = "grp-1", reason: str = "", moves_from: str | None = None
) -> AlertClaim:
    """A claim for a delivery of an alert group (the same group `incident` defaults to)."""
    return AlertClaim(
        delivery_id=delivery,
        alert_group_key=alert_group_key(AlertSource.ALERTMANAGER, group),
        reason=reason,
        moves_from=moves_from,
    )


def alert(delivery: str, *, at: datetime) -> Alert:
    return Alert(
        source=AlertSource.GRAFANA_ONCALL,
        kind=AlertEventKind.FIRING,
        source_event="alert group created",
        alert_group_id="ag-7",
        title="Checkout 5xx above 5%",
        labels={"service": "checkout"},
        severity=Severity.P1,
        fired_at=at,
        received_at=at,
        delivery_id=delivery,
    )


class IncidentStoreContract:
    @pytest.fixture
    def store(self) -> IncidentStore:
        raise NotImplementedError("the adapter's test class provides a `store` fixture")

    async def test_implements_the_port(self, store: IncidentStore) -> None:
        assert isinstance(store, IncidentStore)

    async def test_create_stores_version_1_and_get_returns_every_field(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        new = incident("inc-1", at=clock.now()).update(
            channel=ChannelRef(id="C1", name="inc-checkout", url="https://chat/C1"),
            ic="ada@example.com",
            responders=(Responder(email="bob@example.com", role="primary"),),
            checklist=(ChecklistItem(id="c1", text="Page the database team"),),
            assembly_steps={"channel": {"id": "C1"}},
        )

        created = await store.create(new)

        assert created.version == 1
        assert await store.get("inc-1") == created
        assert await store.get("inc-1", consistent=False) == created

    async def test_get_of_an_unknown_incident_is_none(self, store: IncidentStore) -> None:
        assert await store.get("inc-nope") is None

    async def test_create_refuses_a_taken_id_and_keeps_the_first(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        first = await store.create(incident("inc-1", at=clock.now()))

        with pytest.raises(AlreadyExists):
            await store.create(incident("inc-1", at=clock.now()).update(title="Another"))

        assert await store.get("inc-1") == first

    async def test_save_bumps_the_version_and_keeps_the_change(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()))

        saved = await store.save(created.transition(S.ASSEMBLING, at=clock.advance(5)))
        saved_again = await store.save(saved.update(ic="ada@example.com"))

        assert (saved.version, saved_again.version) == (2, 3)
        stored = await store.get("inc-1")
        assert stored == saved_again
        assert stored is not None
        assert (stored.status, stored.ic) == (S.ASSEMBLING, "ada@example.com")

    async def test_save_of_a_stale_version_is_refused_and_changes_nothing(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()))
        current = await store.save(created.update(title="Checkout down"))

        with pytest.raises(ConcurrentUpdate):
            await store.save(created.update(title="Stale edit"))

        assert await store.get("inc-1") == current

    async def test_save_of_an_incident_never_created_is_not_found(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        with pytest.raises(NotFound):
            await store.save(incident("inc-ghost", at=clock.now()).update(version=1))

        assert await store.get("inc-ghost") is None

    async def test_two_concurrent_saves_of_one_version_exactly_one_wins(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()))
        edits = [created.update(title="Edit A"), created.update(title="Edit B")]

        outcomes = await asyncio.gather(*(store.save(e) for e in edits), return_exceptions=True)

        winners = [o for o in outcomes if isinstance(o, Incident)]
        losers = [o for o in outcomes if isinstance(o, ConcurrentUpdate)]
        assert (len(winners), len(losers)) == (1, 1)
        assert await store.get("inc-1") == winners[0]
        assert winners[0].version == 2

    async def test_a_created_incident_holds_its_claim_by_delivery_and_by_alert_group(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        opened = await store.create(
            incident("inc-1", at=clock.now()), claim=claim("d-1", reason="first")
        )
        await store.create(incident("inc-2", at=clock.advance(60)))  # same group, no claim

        assert await store.find_by_delivery("d-1") == (opened, claim("d-1", reason="first"))
        assert await store.find_by_alert_group(opened.alert_group_key) == opened
        assert await store.find_by_delivery("d-unknown") is None
        assert await store.find_by_alert_group("alertmanager:unknown") is None

    async def test_a_saved_claim_points_at_the_incident_and_reads_its_latest_version(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))
        joined = await store.save(created.update(title="Storm"), claim=claim("d-2", group="ag-9"))
        latest = await store.save(joined.transition(S.RESOLVED, at=clock.advance(60)))

        assert await store.find_by_delivery("d-2") == (latest, claim("d-2", group="ag-9"))
        assert await store.find_by_delivery("d-1") == (latest, claim("d-1"))
        assert await store.find_by_alert_group(claim("x", group="ag-9").alert_group_key) == latest

    async def test_claiming_again_for_the_same_incident_changes_nothing(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))

        saved = await store.save(created, claim=claim("d-1", reason="again"))

        assert await store.find_by_delivery("d-1") == (saved, claim("d-1"))

    async def test_a_delivery_claimed_by_another_incident_refuses_the_write(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        first = await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))
        other = await store.create(incident("inc-2", at=clock.now(), group="ag-2"))

        with pytest.raises(AlertClaimed):
            await store.save(other.update(title="Also d-1"), claim=claim("d-1", group="ag-2"))
        with pytest.raises(AlertClaimed):
            await store.create(incident("inc-3", at=clock.now()), claim=claim("d-1", group="ag-3"))

        assert await store.get("inc-2") == other
        assert await store.get("inc-3") is None
        assert await store.find_by_delivery("d-1") == (first, claim("d-1"))
        assert await store.find_by_alert_group(claim("x", group="ag-3").alert_group_key) is None

    async def test_a_refused_claim_is_a_concurrent_update(self, store: IncidentStore) -> None:
        assert issubclass(AlertClaimed, ConcurrentUpdate)  # writers re-read and follow the claim

    async def test_an_alert_group_claimed_by_another_incident_refuses_the_write(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        first = await store.create(incident("inc-1", at=clock.now()), claim=claim("d-1"))
        other = await store.create(incident("inc-2", at=clock.now(), group="ag-2"))

        with pytest.raises(AlertClaimed):
            await store.save(other, claim=claim("d-2"))
        with pytest.raises(AlertClaimed):
            await store.create(incident("inc-3", at=clock.now()), claim=claim("d-3"))

        assert await store.get("inc-2") == other
        assert await store.get("inc-3") is None
        assert await store.find_by_alert_group(first.alert_group_key) == first
        assert await store.find_by_delivery("d-2") is None
        assert await store.find_by_delivery("d-3") is None

    async def test_an_alert_group_claim_moves_only_from_the_incident_named(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        old = await store.create(incident("inc-old", at=clock.now()), claim=claim("d-1"))
        resolved = await store.save(old.transition(S.RESOLVED, at=clock.advance(60)))
        await store.create(
            incident("inc-x", at=clock.now(), group="ag-x"), claim=claim("d-x", group="ag-x")
        )

        with pytest.raises(AlertClaimed):
            await store.create(
                incident("inc-new", at=clock.now()), claim=claim("d-2", moves_from="inc-x")
            )
        assert await store.find_by_alert_group(old.alert_group_key) == resolved

        new = await store.create(
            incident("inc-new", at=clock.now()), claim=claim("d-2", moves_from="inc-old")
        )

        assert await store.find_by_alert_group(old.alert_group_key) == new
        assert await store.find_by_delivery("d-1") == (resolved, claim("d-1"))
        with pytest.raises(AlertClaimed):  # and the old incident cannot take it back
            await store.save(resolved, claim=claim("d-3"))

    async def test_a_refused_compare_and_set_writes_no_claim(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()))
        await store.save(created.update(title="Newer"))

        with pytest.raises(ConcurrentUpdate):
            await store.save(created, claim=claim("d-1"))
        with pytest.raises(AlreadyExists):
            await store.create(incident("inc-1", at=clock.now()), claim=claim("d-2"))

        assert await store.find_by_delivery("d-1") is None
        assert await store.find_by_delivery("d-2") is None
        assert await store.find_by_alert_group(created.alert_group_key) is None

    async def test_two_incidents_racing_for_one_alert_group_exactly_one_holds_it(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        candidates = [incident(f"inc-{n}", at=clock.now()) for n in range(2)]

        outcomes = await asyncio.gather(
            *(store.create(c, claim=claim(f"d-{c.id}")) for c in candidates),
            return_exceptions=True,
        )

        winners = [o for o in outcomes if isinstance(o, Incident)]
        losers = [o for o in outcomes if isinstance(o, AlertClaimed)]
        assert (len(winners), len(losers)) == (1, 1)
        assert await store.find_by_alert_group(winners[0].alert_group_key) == winners[0]
        assert [await store.get(c.id) for c in candidates].count(None) == 1

    async def test_find_by_channel_follows_the_saved_channel(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        created = await store.create(incident("inc-1", at=clock.now()))
        await store.create(incident("inc-2", at=clock.now()))
        assert await store.find_by_channel("C1") is None

        saved = await store.save(created.update(channel=ChannelRef(id="C1", name="inc-1")))

        assert await store.find_by_channel("C1") == saved
        assert await store.find_by_channel("C2") is None

    async def test_find_open_by_grouping_key_takes_the_newest_open_one_since(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        start = clock.now()
        await store.create(incident("inc-before", at=start, grouping_key="svc=checkout"))
        since = clock.advance(60)
        at_since = await store.create(
            incident("inc-at-since", at=since, grouping_key="svc=checkout")
        )
        newer = await store.create(
            incident("inc-newer", at=clock.advance(30), grouping_key="svc=checkout")
        )
        await store.create(incident("inc-other", at=clock.advance(30), grouping_key="svc=search"))

        assert await store.find_open_by_grouping_key("svc=checkout", since) == newer

        await store.save(newer.transition(S.RESOLVED, at=clock.advance(1)))
        assert await store.find_open_by_grouping_key("svc=checkout", since) == at_since
        assert await store.find_open_by_grouping_key("svc=checkout", clock.now()) is None
        assert await store.find_open_by_grouping_key("svc=payments", start) is None

    async def test_an_empty_grouping_key_matches_nothing(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        await store.create(incident("inc-1", at=clock.now(), grouping_key=""))

        assert await store.find_open_by_grouping_key("", clock.now() - timedelta(hours=1)) is None

    async def test_count_created_since_includes_the_boundary(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        start = clock.now()
        for n in range(5):
            await store.create(incident(f"inc-{n}", at=start + timedelta(minutes=n)))

        assert await store.count_created_since(start) == 5
        assert await store.count_created_since(start + timedelta(minutes=3)) == 2
        assert await store.count_created_since(start + timedelta(minutes=10)) == 0

    async def test_recent_is_newest_first_limited_and_filtered_by_status(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        made = [await store.create(incident(f"inc-{n}", at=clock.advance(60))) for n in range(4)]
        resolved = await store.save(made[1].transition(S.RESOLVED, at=clock.advance(1)))

        everything = await store.recent()
        assert [i.id for i in everything] == ["inc-3", "inc-2", "inc-1", "inc-0"]
        assert everything[2] == resolved
        assert [i.id for i in await store.recent(limit=2)] == ["inc-3", "inc-2"]
        assert await store.recent(statuses=[S.RESOLVED]) == [resolved]
        open_ids = [i.id for i in await store.recent(statuses=[S.ALERT_RECEIVED, S.ASSEMBLED])]
        assert open_ids == ["inc-3", "inc-2", "inc-0"]
        assert await store.recent(statuses=[]) == []

    async def test_recent_refuses_a_negative_limit(self, store: IncidentStore) -> None:
        with pytest.raises(ValueError, match="limit"):
            await store.recent(limit=-1)

    async def test_created_between_takes_the_start_not_the_end_oldest_first(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        start = clock.now()
        for n in (3, 0, 4, 1, 2):  # stored out of order
            await store.create(incident(f"inc-{n}", at=start + timedelta(minutes=n)))
        resolved = await store.get("inc-1")
        assert resolved is not None
        resolved = await store.save(resolved.transition(S.RESOLVED, at=clock.advance(1)))

        found = await store.created_between(start, start + timedelta(minutes=3))
        assert [i.id for i in found] == ["inc-0", "inc-1", "inc-2"]
        assert found[1] == resolved  # open or not, the whole incident as stored
        later = await store.created_between(start + timedelta(minutes=3), start + timedelta(days=1))
        assert [i.id for i in later] == ["inc-3", "inc-4"]
        assert await store.created_between(start - timedelta(days=1), start) == []
        assert await store.created_between(start, start) == []

    async def test_created_between_stops_at_the_limit(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        start = clock.now()
        for n in range(5):
            await store.create(incident(f"inc-{n}", at=start + timedelta(seconds=n)))

        first = await store.created_between(start, start + timedelta(hours=1), limit=2)
        assert [i.id for i in first] == ["inc-0", "inc-1"]
        assert await store.created_between(start, start + timedelta(hours=1), limit=0) == []

    async def test_created_between_refuses_a_backwards_range_or_negative_limit(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        now = clock.now()
        with pytest.raises(ValueError, match="before it starts"):
            await store.created_between(now, now - timedelta(seconds=1))
        with pytest.raises(ValueError, match="limit"):
            await store.created_between(now, now, limit=-1)

    async def test_an_alert_delivery_is_recorded_once(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        delivery = alert("d-1", at=clock.now())

        assert await store.record_alert(delivery) is True
        assert await store.record_alert(delivery) is False
        assert await store.record_alert(alert("d-2", at=clock.now())) is True

    async def test_an_alert_is_processed_only_once_marked(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        await store.record_alert(alert("d-1", at=clock.now()))
        await store.record_alert(alert("d-2", at=clock.now()))
        assert await store.alert_processed("d-1") is False

        await store.mark_alert_processed("d-1", "inc-1")

        assert await store.alert_processed("d-1") is True
        assert await store.alert_processed("d-2") is False
        assert await store.alert_processed("d-unknown") is False
        assert await store.record_alert(alert("d-1", at=clock.now())) is False

    async def test_unprocessed_alerts_are_the_outbox_of_a_time_window(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        start = clock.now()
        firing = [alert(f"d-{n}", at=clock.now()) for n in range(3)]
        for delivery in firing:
            await store.record_alert(delivery)
            clock.advance(60)
        ack = alert("d-ack", at=clock.now()).model_copy(
            update={"kind": AlertEventKind.ACKNOWLEDGED}
        )
        await store.record_alert(ack)
        await store.mark_alert_processed("d-1", "inc-1")
        firing_kinds = [AlertEventKind.FIRING, AlertEventKind.RESOLVED]

        everything = await store.unprocessed_alerts(
            kinds=firing_kinds, recorded_after=start - timedelta(1), recorded_before=clock.now()
        )
        recent = await store.unprocessed_alerts(
            kinds=firing_kinds,
            recorded_after=start + timedelta(seconds=30),
            recorded_before=clock.now(),
        )

        assert [a.delivery_id for a in everything] == ["d-0", "d-2"]  # oldest first
        assert [a.delivery_id for a in recent] == ["d-2"]
        assert everything[0] == firing[0]
        acks = await store.unprocessed_alerts(
            kinds=[AlertEventKind.ACKNOWLEDGED],
            recorded_after=start,
            recorded_before=clock.now(),
        )
        assert [a.delivery_id for a in acks] == ["d-ack"]
        assert (
            await store.unprocessed_alerts(
                kinds=firing_kinds, recorded_after=start - timedelta(1), recorded_before=start
            )
        )[0].delivery_id == "d-0"
        assert (
            await store.unprocessed_alerts(
                kinds=firing_kinds,
                recorded_after=start - timedelta(1),
                recorded_before=clock.now(),
                limit=1,
            )
        ) == [firing[0]]

        await store.mark_alert_requeued("d-0")
        await store.mark_alert_requeued("d-0")  # idempotent
        await store.mark_alert_requeued("d-never")  # unknown: nothing to mark
        again = await store.unprocessed_alerts(
            kinds=firing_kinds, recorded_after=start - timedelta(1), recorded_before=clock.now()
        )
        assert [a.delivery_id for a in again] == ["d-2"]  # a requeued delivery is offered once

    async def test_marking_an_unrecorded_delivery_is_not_found(self, store: IncidentStore) -> None:
        with pytest.raises(NotFound):
            await store.mark_alert_processed("d-never", "inc-1")

        assert await store.alert_processed("d-never") is False

    async def test_incident_ids_lists_every_stored_incident_sorted(
        self, store: IncidentStore, clock: ManualClock
    ) -> None:
        assert await store.incident_ids() == []
        for incident_id in ("inc-b", "inc-c", "inc-a"):
            await store.create(incident(incident_id, at=clock.now()))
            clock.advance(1)
        resolved = await store.get("inc-c")
        assert resolved is not None
        await store.save(resolved.update(status=S.RESOLVED))

        assert await store.incident_ids() == ["inc-a", "inc-b", "inc-c"]
