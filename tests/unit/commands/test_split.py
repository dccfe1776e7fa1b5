"""`split`: the IC takes an alert out of the storm incident (or any incident) into its own one,
which is assembled like any alerted incident. The application as the composition root builds it.
"""

from __future__ import annotations

from incident_response.domain.alert import Alert, AlertEventKind, AlertSource, Severity
from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import Incident, IncidentStatus
from incident_response.services.incident_opener import IncidentOpener, is_storm
from tests.unit.commands.world import World

A = AuditEventType


async def fire(world: World, opener: IncidentOpener, group: str, service: str) -> Alert:
    now = world.clock.now()
    alert = Alert(
        source=AlertSource.ALERTMANAGER,
        kind=AlertEventKind.FIRING,
        source_event="firing",
        alert_group_id=group,
        title=f"{service} is down",
        labels={"service": service, "alertname": "Down", "severity": "critical"},
        severity=Severity.P1,
        fired_at=now,
        received_at=now,
        delivery_id=f"delivery-{group}-{now.timestamp()}",
    )
    await world.store.record_alert(alert)
    await opener.open_or_attach(alert)
    world.clock.advance(seconds=1)
    return alert


async def storm(world: World) -> tuple[Incident, list[Alert]]:
    """One incident of its own, then two alerts over a cap of one a minute: the storm incident,
    commanded by alice (as after `ic @alice`)."""
    opener = IncidentOpener(
        store=world.store, audit=world.audit, clock=world.clock, max_new_incidents_per_minute=1
    )
    await fire(world, opener, "own", "search")
    over = [await fire(world, opener, "pay", "checkout"), await fire(world, opener, "db", "db")]
    [found] = [i for i in await world.store.recent() if is_storm(i)]
    commanded = await world.store.save(found.update(ic="alice@example.com"))
    return commanded, over


async def test_the_ic_splits_an_alert_out_of_the_storm_into_an_assembled_incident(
    world: World,
) -> None:
    incident, [pay, db] = await storm(world)

    reply = await world.command("split 1", incident_id=incident.id)

    assert reply.ok, reply.text
    new = await world.incident(reply.data["incident_id"])
    assert [a.delivery_id for a in new.alerts] == [pay.delivery_id]
    assert (new.title, new.service, new.severity) == ("checkout is down", "checkout", Severity.P1)
    assert new.alert_group_key == pay.alert_group_key
    assert new.status is IncidentStatus.ASSEMBLED  # the normal way: room, IC from the rota
    assert new.channel is not None
    assert new.ic == "alice@example.com"
    assert f"into incident {new.id}" in reply.text
    left = await world.incident(incident.id)
    assert [a.delivery_id for a in left.alerts] == [db.delivery_id]
    [on_storm] = await world.records(A.ALERT_SPLIT, incident.id)
    [on_new] = await world.records(A.ALERT_SPLIT, new.id)
    assert on_storm.data == on_new.data
    assert on_storm.data["to"] == new.id
    assert on_storm.data["from"] == incident.id
    assert on_storm.actor == "alice@example.com"
    assert (await world.audit.records(new.id))[0].type is A.INCIDENT_OPENED
    assert (await world.audit.verify(new.id)).ok


async def test_the_split_alerts_group_follows_it_to_the_new_incident(world: World) -> None:
    incident, [pay, _] = await storm(world)
    reply = await world.command("split 1", incident_id=incident.id)
    world.clock.advance(minutes=5)
    opener = IncidentOpener(store=world.store, audit=world.audit, clock=world.clock)

    again = await fire(world, opener, "pay", "checkout")

    holder = await world.store.find_by_alert_group(pay.alert_group_key)
    assert holder is not None
    assert holder.id == reply.data["incident_id"]
    assert again.delivery_id in [a.delivery_id for a in holder.alerts]


async def test_splitting_the_same_alert_again_is_the_same_split(world: World) -> None:
    incident, [pay, _] = await storm(world)
    first = await world.command("split 1", incident_id=incident.id)
    count = len(await world.store.recent())

    again = await world.command(f"split {pay.delivery_id}", incident_id=incident.id)

    assert again.ok, again.text
    assert again.data["incident_id"] == first.data["incident_id"]
    assert not first.ephemeral  # the room hears of the split once
    assert again.ephemeral
    assert f"split out already, into incident {first.data['incident_id']}" in again.text
    assert len(await world.store.recent()) == count
    assert len(await world.records(A.ALERT_SPLIT, incident.id)) == 1


async def test_the_alert_an_incident_is_about_cannot_be_split_out(world: World) -> None:
    incident = await world.open_incident()

    reply = await world.command("split 1")

    assert not reply.ok
    assert "the one this incident is about" in reply.text
    assert await world.incident() == incident
    assert await world.records(A.ALERT_SPLIT) == []


async def test_an_unknown_alert_is_refused_listing_the_alerts(world: World) -> None:
    incident, _ = await storm(world)

    missing = await world.command("split 7", incident_id=incident.id)
    bare = await world.command("split", incident_id=incident.id)

    assert not missing.ok
    assert "there is no alert 7" in missing.text
    assert "has 2 alert(s)" in missing.text
    assert not bare.ok
    assert "1. checkout is down (checkout," in bare.text
    assert len((await world.incident(incident.id)).alerts) == 2


async def test_a_responder_who_is_not_the_ic_may_not_split(world: World) -> None:
    incident, _ = await storm(world)

    reply = await world.command("split 1", incident_id=incident.id, actor="bob@example.com")

    assert reply.data.get("not_permitted")
    assert len((await world.incident(incident.id)).alerts) == 2


async def test_the_id_prefix_the_room_shows_is_enough_to_split(world: World) -> None:
    incident, [_, db] = await storm(world)

    reply = await world.command(f"split {db.delivery_id[:12]}", incident_id=incident.id)

    assert reply.ok, reply.text
    new = await world.incident(reply.data["incident_id"])
    assert [a.delivery_id for a in new.alerts] == [db.delivery_id]
