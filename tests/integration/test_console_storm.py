"""An alert storm in the console, on a real Container: the storm incident's page lists the alerts
over the cap, and its IC splits one out with the button beside it (or over the API)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import Incident
from incident_response.services.incident_opener import is_storm
from incident_response.services.storm_room import storm_line
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world, csrf_of

CAP = 10  # the default cap of new incidents a minute


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


async def a_storm(world: ConsoleWorld) -> Incident:
    """Twelve services fail within a minute: ten incidents, then the storm incident."""
    for n in range(CAP):
        assert not is_storm(await world.alert(title=f"Down svc-{n}", service=f"svc-{n}"))
    storm = await world.alert(title="Down search", service="search")
    again = await world.alert(title="Down ledger", service="ledger")
    assert is_storm(storm)
    assert again.id == storm.id
    found = await world.container.store.get(storm.id)
    assert found is not None
    return found


def page_of(incident: Incident) -> str:
    return f"/console/incidents/{incident.id}"


def alert_items(html: str) -> list[str]:
    return re.findall(r'<li data-testid="alert".*?</li>', html, flags=re.S)


async def test_the_storm_incident_page_lists_its_alerts_with_a_split_button_each(
    world: ConsoleWorld,
) -> None:
    storm = await a_storm(world)
    assert storm.ic is not None  # the default rotation's primary, as for any incident
    browser = await world.signed_in(storm.ic)

    page = await browser.get(page_of(storm))

    assert page.status_code == 200
    assert "Alert storm: more than 10 new incidents a minute" in page.text
    items = alert_items(page.text)
    assert len(items) == 2
    assert "Down search" in items[0]
    assert "Down ledger" in items[1]
    assert all('data-testid="split-button"' in item for item in items)
    assert storm.channel is not None  # and its war room has a line for each
    texts = [m.text for m in await world.container.chat.messages(storm.channel.id)]
    lines = [t for t in texts if t.startswith("Alert storm: Down")]
    assert len(lines) == 2
    assert lines[0].startswith("Alert storm: Down search (search, P1) is one of the 1 alert(s)")
    assert f"`split {storm.alerts[1].delivery_id[:12]}`" in lines[1]


async def test_the_ic_splits_an_alert_out_with_its_button_and_over_the_api(
    world: ConsoleWorld,
) -> None:
    storm = await a_storm(world)
    assert storm.ic is not None
    browser = await world.signed_in(storm.ic)
    search, ledger = storm.alerts

    pressed = await browser.submit(
        page_of(storm),
        f"{page_of(storm)}/alerts/split",
        {"delivery": search.delivery_id},
        fetch=True,
    )
    api = await world.browser().client.post(
        f"/api/incidents/{storm.id}/commands",
        json={"text": "split 1"},
        headers={"Authorization": f"Bearer {world.token(storm.ic)}"},
    )

    assert pressed.json()["ok"] is True, pressed.json()
    assert "into incident" in pressed.json()["text"]
    assert api.status_code == 200, api.text
    store = world.container.store
    split_search = await store.find_by_alert_group(search.alert_group_key)
    split_ledger = await store.find_by_alert_group(ledger.alert_group_key)
    assert split_search is not None
    assert split_ledger is not None
    assert (split_search.service, split_ledger.service) == ("search", "ledger")
    assert split_search.channel is not None  # assembled the normal way
    assert split_search.id != storm.id
    page = await browser.get(page_of(storm))
    assert alert_items(page.text) == []
    links = re.findall(r'<a href="([^"]+)" data-testid="split-out-link">([^<]+)</a>', page.text)
    assert links == [  # the storm's page leads to the incidents its alerts have now
        (page_of(split_search), "Down search"),
        (page_of(split_ledger), "Down ledger"),
    ]
    assert storm.channel is not None  # the room's lines say where each alert went
    assert split_search.channel is not None
    assert split_ledger.channel is not None
    lines = [
        m
        for m in await world.container.chat.messages(storm.channel.id)
        if m.text.startswith("Alert storm: Down")
    ]
    assert [(m.text, m.buttons) for m in lines] == [
        (
            f"Alert storm: Down search (search, P1) was split out into incident {split_search.id}"
            f" (war room #{split_search.channel.name}).",
            (),
        ),
        (
            f"Alert storm: Down ledger (ledger, P1) was split out into incident {split_ledger.id}"
            f" (war room #{split_ledger.channel.name}).",
            (),
        ),
    ]
    audited = await world.container.audit.find(storm.id, AuditEventType.ALERT_SPLIT)
    assert {r.data["to"] for r in audited} == {split_search.id, split_ledger.id}


async def test_someone_who_may_not_split_sees_no_split_button(world: ConsoleWorld) -> None:
    storm = await a_storm(world)
    people = await world.container.directory.people()
    outsider = next(p.email for p in people if p.email != storm.ic)
    browser = await world.signed_in(outsider)

    page = await browser.get(page_of(storm))
    forged = await browser.submit(
        page_of(storm),
        f"{page_of(storm)}/alerts/split",
        {"delivery": storm.alerts[0].delivery_id},
        fetch=True,
    )

    assert len(alert_items(page.text)) == 2
    assert 'data-testid="split-button"' not in page.text
    assert "Split out" not in page.text  # nor the room lines' buttons
    assert forged.json()["ok"] is False
    assert f"{outsider} may not" in forged.json()["text"]
    after = await world.container.store.get(storm.id)
    assert after is not None
    assert len(after.alerts) == 2


async def test_the_room_lines_split_out_button_asks_then_splits(world: ConsoleWorld) -> None:
    storm = await a_storm(world)
    assert storm.ic is not None
    assert storm.channel is not None
    browser = await world.signed_in(storm.ic)
    messages = await world.container.chat.messages(storm.channel.id)
    line = next(m for m in messages if m.text.startswith("Alert storm: Down search"))
    [button] = line.buttons
    fields = {"message": line.id, "action": button.action, "value": button.value}

    asked = await browser.submit(page_of(storm), f"{page_of(storm)}/buttons", fields)
    assert asked.status_code == 200
    assert "Split Down search out into an incident of its own?" in asked.text
    assert len((await world.container.store.get(storm.id) or storm).alerts) == 2
    await browser.client.post(
        f"{page_of(storm)}/buttons",
        data={"csrf": csrf_of(asked.text), "confirmed": "yes", **fields},
    )

    split = await world.container.store.find_by_alert_group(storm.alerts[0].alert_group_key)
    assert split is not None
    assert split.id != storm.id
    after = await world.container.store.get(storm.id)
    assert after is not None
    assert [a.title for a in after.alerts] == ["Down ledger"]


async def test_asking_again_settles_a_line_a_chat_failure_left_unsettled(
    world: ConsoleWorld,
) -> None:
    storm = await a_storm(world)
    assert storm.ic is not None
    assert storm.channel is not None
    search = storm.alerts[0]
    chat = world.container.chat
    api = world.browser().client
    headers = {"Authorization": f"Bearer {world.token(storm.ic)}"}
    await api.post(f"/api/incidents/{storm.id}/commands", json={"text": "split 1"}, headers=headers)
    line = next(m for m in await chat.messages(storm.channel.id) if "Down search" in m.text)
    await chat.update(storm.channel.id, line.id, storm_line(storm, search))  # as if never settled

    again = await api.post(
        f"/api/incidents/{storm.id}/commands",
        json={"text": f"split {search.delivery_id}"},
        headers=headers,
    )

    assert "split out already" in again.json()["text"]
    [settled] = [m for m in await chat.messages(storm.channel.id) if "Down search" in m.text]
    assert "was split out into incident" in settled.text
    assert settled.buttons == ()
