"""The incident lifecycle through Slack: an alert opens a room in the fake Slack, people work it
with `/incident-response`, buttons and modals over Socket Mode, the IC approves the status update
and resolves. Every request the app makes is checked against Slack's published contract."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from incident_response.domain.audit import AuditEventType
from incident_response.domain.incident import Incident, IncidentStatus
from tests.fakes.slack import FakeSlack
from tests.integration.slack.world import SlackWorld, socket_mode_world
from tests.support.payloads import oncall_payload

ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: U0ALICE}
  - {name: Bob Okafor, email: bob@example.com}
  - {name: Carol Nguyen, email: carol@example.com, chat_id: U0CAROL}
  - {name: Erin Silva, email: erin@example.com}
teams:
  payments: [alice@example.com, bob@example.com, carol@example.com, erin@example.com]
services:
  checkout: payments
rotations:
  payments: {primary: alice@example.com, secondary: bob@example.com}
"""
STAFF = {"U0ALICE", "U0BOB", "U0CAROL", "U0ERIN"}
ALICE, BOB, CAROL = "U0ALICE", "U0BOB", "U0CAROL"


async def eventually(check: Callable[[], Awaitable[Any]], within: float = 10) -> Any:
    """The first truthy result of `check`, polled until `within` seconds have passed."""
    deadline = time.monotonic() + within
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {within} s")
        await asyncio.sleep(0.02)


@dataclass
class Room:
    world: SlackWorld
    slack: FakeSlack
    incident: Incident

    @property
    def channel(self) -> str:
        assert self.incident.channel is not None
        return self.incident.channel.id

    async def current(self) -> Incident:
        found = await self.world.store.get(self.incident.id)
        assert found is not None
        return found

    def messages_with(self, action_id: str) -> list[Any]:
        return [
            m
            for m in self.slack.messages[self.channel]
            if any(
                e.get("action_id") == action_id
                for b in m.blocks or []
                for e in b.get("elements", [])
            )
        ]

    def ephemeral_texts(self, user: str) -> list[str]:
        return [e.text for e in self.slack.ephemerals[self.channel] if e.user == user]

    async def notes(self) -> list[Any]:
        return await self.world.audit.find(self.incident.id, AuditEventType.TIMELINE_NOTE_ADDED)


@pytest.fixture
async def world(slack: FakeSlack, tmp_path: Path) -> AsyncIterator[SlackWorld]:
    async with socket_mode_world(slack, tmp_path, ROSTER) as built:
        yield built


@pytest.fixture
async def room(world: SlackWorld, slack: FakeSlack) -> Room:
    body = oncall_payload(
        group="ISLACK001",
        title="HighErrorRate checkout",
        labels={"alertname": "HighErrorRate", "service": "checkout", "severity": "critical"},
    )
    await world.intake.accept("grafana-oncall", json.dumps(body).encode())

    async def assembled() -> Incident | None:
        found = await world.store.recent(statuses=[IncidentStatus.ASSEMBLED])
        return found[0] if found else None

    return Room(world, slack, await eventually(assembled))


async def test_an_alert_opens_a_staffed_private_room_with_the_checklist_pinned(room: Room) -> None:
    channel = room.slack.channels[room.channel]
    assert channel.is_private
    assert channel.members >= STAFF
    pinned = room.slack.pins[room.channel]
    [checklist] = room.messages_with("checklist.toggle")
    assert pinned == [checklist.ts]
    # bob and erin have no chat id in the roster: one lookup each, by e-mail
    lookups = sorted(c.params["email"] for c in room.slack.calls_to("users.lookupByEmail"))
    assert lookups == ["bob@example.com", "erin@example.com"]


async def test_lifecycle_draft_approve_publish_resolve(room: Room) -> None:
    slack, world = room.slack, room.world
    ack = await slack.send_slash_command(text="draft", user_id=CAROL, channel_id=room.channel)
    assert ack.latency < 3
    [card] = await eventually(lambda: _async(room.messages_with("draft.approve")))
    [button] = [
        e for b in card.blocks for e in b.get("elements", []) if e["action_id"] == "draft.approve"
    ]
    assert "confirm" in button  # Slack asks "Are you sure?" before the click is sent

    ack = await slack.send_block_action(
        user_id=ALICE, channel_id=room.channel, action_id="draft.approve"
    )
    assert ack.latency < 3
    await eventually(lambda: world.status_page.find_published(button["value"].replace(":", ":v")))
    page = await world.status_page.incidents()
    [update] = page["incidents"][0]["incident_updates"]
    [draft] = (await room.current()).drafts
    assert (draft.status.value, update["body"]) == ("published", draft.body)
    await eventually(
        lambda: _async(any("published" in m.text for m in slack.messages[room.channel]))
    )

    await slack.send_slash_command(text="resolve", user_id=ALICE, channel_id=room.channel)

    async def resolved() -> bool:
        current = await room.current()
        return (
            current.status is IncidentStatus.RESOLVED and slack.channels[room.channel].is_archived
        )

    await eventually(resolved)
    resolved_incident = await room.current()
    assert resolved_incident.postmortem is not None
    marks = [(b.title, b.link) for b in slack.bookmarks[room.channel]]
    assert marks.count(("Postmortem", resolved_incident.postmortem.url)) == 1
    assert ("Status page", world.status_page.url) in marks

    # the resolved update waits in the (now archived) room with the same buttons as any draft
    [resolved_card] = room.messages_with("draft.approve")
    assert "resolved status update" in resolved_card.text
    await slack.send_block_action(
        user_id=ALICE,
        channel_id=room.channel,
        action_id="draft.approve",
        message_ts=resolved_card.ts,
    )
    [resolved_draft] = [d for d in resolved_incident.drafts if d.kind.value == "resolved"]
    told = f"Status update {resolved_draft.id} version 1: published."
    await eventually(lambda: _async(told in room.ephemeral_texts(ALICE)))
    statuses = {d.kind.value: d.status.value for d in (await room.current()).drafts}
    assert statuses == {"update": "published", "resolved": "published"}
    page = await world.status_page.incidents()
    assert [i["status"] for i in page["incidents"]] == ["resolved"]


async def test_only_the_ic_may_approve_others_are_told_privately(room: Room) -> None:
    slack = room.slack
    await slack.send_slash_command(text="draft", user_id=CAROL, channel_id=room.channel)
    [card] = await eventually(lambda: _async(room.messages_with("draft.approve")))
    await slack.send_block_action(user_id=CAROL, channel_id=room.channel, action_id="draft.approve")
    [refusal] = await eventually(
        lambda: _async([t for t in room.ephemeral_texts(CAROL) if "cannot approve" in t])
    )
    assert "only the incident commander (alice@example.com)" in refusal
    current = await room.current()
    assert current.status_page is None
    assert all(d.status.value == "draft" for d in current.drafts)
    assert room.messages_with("draft.approve") == [card]  # still waiting for the IC


async def test_edit_opens_a_modal_and_its_text_becomes_the_next_version(room: Room) -> None:
    slack = room.slack
    await slack.send_slash_command(text="draft", user_id=ALICE, channel_id=room.channel)
    await eventually(lambda: _async(room.messages_with("draft.edit")))
    ack = await slack.send_block_action(
        user_id=ALICE, channel_id=room.channel, action_id="draft.edit"
    )
    assert ack.latency < 3
    [opened] = slack.views
    assert opened.view["callback_id"] == "draft.edit"
    text = "We are investigating errors at checkout. Next update in 30 minutes."
    await slack.send_view_submission(
        user_id=ALICE, callback_id="draft.edit", values={"body": {"body_input": text}}
    )

    async def second_version() -> Any:
        current = await room.current()
        return current.drafts[0].version == 2 and current.drafts[0].body == text

    await eventually(second_version)
    cards = await eventually(
        lambda: _async([m for m in room.messages_with("draft.approve") if text in str(m.blocks)])
    )
    assert len(cards) == 1


async def test_reject_asks_for_a_reason(room: Room) -> None:
    slack = room.slack
    await slack.send_slash_command(text="draft", user_id=ALICE, channel_id=room.channel)
    await eventually(lambda: _async(room.messages_with("draft.reject")))
    await slack.send_block_action(user_id=ALICE, channel_id=room.channel, action_id="draft.reject")
    [opened] = slack.views
    assert opened.view["callback_id"] == "draft.reject"
    empty = await slack.send_view_submission(
        user_id=ALICE, callback_id="draft.reject", values={"reason": {"reason_input": " "}}
    )
    assert empty.payload is not None
    assert empty.payload["response_action"] == "errors"
    await slack.send_view_submission(
        user_id=ALICE,
        callback_id="draft.reject",
        values={"reason": {"reason_input": "Too much detail about the database"}},
    )

    async def rejected() -> bool:
        draft = (await room.current()).drafts[0]
        return draft.status.value == "rejected"

    await eventually(rejected)
    assert (await room.current()).drafts[0].rejected_reason == "Too much detail about the database"
    await eventually(lambda: _async(not room.messages_with("draft.approve")))


async def test_checklist_buttons_tick_the_item_in_the_room(room: Room) -> None:
    slack = room.slack
    [checklist] = room.messages_with("checklist.toggle")
    await slack.send_block_action(
        user_id=BOB, channel_id=room.channel, action_id="checklist.toggle#1"
    )

    async def ticked() -> bool:
        return (await room.current()).checklist[1].done

    await eventually(ticked)
    item = (await room.current()).checklist[1]
    assert item.done_by == "bob@example.com"
    await eventually(lambda: _async(checklist.edits == 1 and "[x]" in str(checklist.blocks)))


async def test_pins_and_timeline_reactions_become_timeline_notes(room: Room) -> None:
    slack = room.slack
    said = slack.post_as_user(channel_id=room.channel, user_id=BOB, text="Rolled back deploy 42")
    await slack.send_event(slack.pin_as_user(channel_id=room.channel, ts=said["ts"], user_id=ALICE))
    other = slack.post_as_user(channel_id=room.channel, user_id=CAROL, text="Error rate is falling")
    await slack.send_event(
        slack.react_as_user(channel_id=room.channel, ts=other["ts"], user_id=ALICE, reaction="tada")
    )
    await slack.send_event(
        slack.react_as_user(
            channel_id=room.channel, ts=other["ts"], user_id=ALICE, reaction="pushpin"
        )
    )
    notes = await eventually(lambda: _len_at_least(room.notes(), 2))
    # the note is the person's who pinned or reacted, quoting the message and its author
    assert [(n.actor, n.data["text"], n.data["author"], n.data["source"]) for n in notes] == [
        ("alice@example.com", "Rolled back deploy 42", "bob@example.com", "pin"),
        ("alice@example.com", "Error rate is falling", "carol@example.com", "reaction :pushpin:"),
    ]
    assert notes[0].at.timestamp() == pytest.approx(float(said["ts"]))
    await slack.send_slash_command(text="timeline", user_id=ALICE, channel_id=room.channel)
    told = await eventually(
        lambda: _async([t for t in room.ephemeral_texts(ALICE) if t.startswith("Timeline of")])
    )
    assert "\u201cRolled back deploy 42\u201d \u2014 Bob Okafor  (Alice Martin)" in told[0]


async def test_the_same_message_pinned_and_reacted_to_again_is_one_note(room: Room) -> None:
    slack = room.slack
    said = slack.post_as_user(channel_id=room.channel, user_id=BOB, text="Failover done")
    for _ in range(2):
        await slack.send_event(
            slack.react_as_user(
                channel_id=room.channel, ts=said["ts"], user_id=ALICE, reaction="pushpin"
            )
        )
    await slack.send_event(slack.pin_as_user(channel_id=room.channel, ts=said["ts"], user_id=CAROL))
    later = slack.post_as_user(channel_id=room.channel, user_id=BOB, text="All green")
    await slack.send_event(
        slack.pin_as_user(channel_id=room.channel, ts=later["ts"], user_id=ALICE)
    )

    notes = await eventually(lambda: _len_at_least(room.notes(), 2))
    assert [n.data["text"] for n in notes] == ["Failover done", "All green"]


async def test_a_pinned_message_that_told_customers_counts_as_a_status_update(
    room: Room,
) -> None:
    slack = room.slack
    said = slack.post_as_user(
        channel_id=room.channel,
        user_id=BOB,
        text="Told support and the status page: checkout is degraded",
    )
    await slack.send_event(slack.pin_as_user(channel_id=room.channel, ts=said["ts"], user_id=ALICE))

    async def counted() -> list[Any]:
        sent = await room.world.audit.find(room.incident.id, AuditEventType.STATUS_UPDATE_SENT)
        return [r for r in sent if r.data.get("via") == "war_room"]

    [record] = await eventually(counted)
    assert record.actor == "bob@example.com"
    await eventually(
        lambda: _async(
            any(
                "Counted as a status update" in (m.text or "") for m in slack.messages[room.channel]
            )
        )
    )


async def test_pulse_buttons_rate_the_incident_once_resolved(room: Room) -> None:
    slack = room.slack
    await slack.send_slash_command(text="resolve", user_id=ALICE, channel_id=room.channel)
    await eventually(lambda: _async(room.messages_with("pulse.rate#3")))

    async def resolved() -> bool:
        return (await room.current()).status is IncidentStatus.RESOLVED

    await eventually(resolved)
    await slack.send_block_action(user_id=BOB, channel_id=room.channel, action_id="pulse.rate#3")

    async def rated() -> list[Any]:
        return await room.world.audit.find(room.incident.id, AuditEventType.IC_RATED)

    [rating] = await eventually(rated)
    assert (rating.actor, rating.data["rating"]) == ("bob@example.com", 4)


async def _async(value: Any) -> Any:
    return value


async def _len_at_least(records: Awaitable[list[Any]], n: int) -> list[Any] | None:
    found = await records
    return found if len(found) >= n else None


async def test_the_approve_dialog_shows_every_public_field_and_the_edit_modal_changes_them(
    room: Room,
) -> None:
    slack = room.slack
    await slack.send_slash_command(text="draft", user_id=ALICE, channel_id=room.channel)
    [card] = await eventually(lambda: _async(room.messages_with("draft.approve")))
    [draft] = (await room.current()).drafts
    assert draft.title == "Major outage: Platform"  # never the alert title or service label

    def dialog_of(message: Any) -> str:
        [button] = [
            e
            for b in message.blocks
            for e in b.get("elements", [])
            if e["action_id"] == "draft.approve"
        ]
        return str(button["confirm"]["text"]["text"])

    dialog = dialog_of(card)
    for shown in (
        "Name: Major outage: Platform",
        "Stage: Investigating",
        "Impact: Critical impact",
        "Affects: Platform (Major outage)",
    ):
        assert shown in dialog

    await slack.send_block_action(user_id=ALICE, channel_id=room.channel, action_id="draft.edit")
    [opened] = slack.views
    inputs = {b["block_id"]: b["element"] for b in opened.view["blocks"] if b["type"] == "input"}
    assert inputs["title"]["initial_value"] == "Major outage: Platform"
    assert inputs["stage"]["initial_option"]["value"] == "investigating"
    assert inputs["impact"]["initial_option"]["value"] == "critical"
    assert inputs["components"]["initial_value"] == "Platform"
    await slack.send_view_submission(
        user_id=ALICE,
        callback_id="draft.edit",
        values={
            "body": {"body_input": draft.body},
            "title": {"title_input": "Checkout errors"},
            "stage": {"stage_input": "identified"},
            "impact": {"impact_input": "major"},
            "components": {"components_input": "Checkout, Payments"},
        },
    )

    async def second_version() -> Any:
        current = (await room.current()).drafts[0]
        return current.version == 2 and current

    edited = await eventually(second_version)
    assert (edited.title, edited.stage.value, edited.impact.value) == (
        "Checkout errors",
        "identified",
        "major",
    )
    assert edited.component_names == ("Checkout", "Payments")
    [card_v2] = await eventually(
        lambda: _async(
            [m for m in room.messages_with("draft.approve") if f"{draft.id}:2" in str(m.blocks)]
        )
    )
    dialog = dialog_of(card_v2)
    for shown in (
        "version 2",
        "Name: Checkout errors",
        "Stage: Identified",
        "Impact: Major impact",
        "Affects: Checkout (Partial outage), Payments (Partial outage)",
    ):
        assert shown in dialog


async def test_approving_a_draft_older_than_a_published_one_is_refused_and_its_card_settled(
    room: Room,
) -> None:
    slack, world = room.slack, room.world
    await slack.send_slash_command(text="draft", user_id=ALICE, channel_id=room.channel)
    [older_card] = await eventually(lambda: _async(room.messages_with("draft.approve")))
    [older] = (await room.current()).drafts
    # the older draft is edited (so asking again makes a newer one), then the newer published
    ic, iid = "alice@example.com", room.incident.id
    await world.gate.edit(iid, older.id, body="Older text.", actor=ic, expected_version=1)
    newer = await world.gate.create_draft(iid, actor=ic)
    assert newer.id != older.id
    await world.gate.approve_and_publish(iid, newer.id, version=1, actor=ic)

    await slack.send_block_action(
        user_id=ALICE,
        channel_id=room.channel,
        action_id="draft.approve",
        message_ts=older_card.ts,
        value=f"{older.id}:2",
    )
    [told] = await eventually(
        lambda: _async([t for t in room.ephemeral_texts(ALICE) if "superseded" in t])
    )
    assert f"superseded by draft {newer.id}" in told
    await eventually(lambda: _async(not room.messages_with("draft.approve")))
    page = await world.status_page.incidents()
    assert [u["body"] for u in page["incidents"][0]["incident_updates"]] == [newer.body]


async def test_someone_in_slack_but_not_in_the_roster_changes_nothing(room: Room) -> None:
    slack, dan = room.slack, "U0DAN"  # in the Slack workspace, not in the roster
    before = await room.current()
    await slack.send_slash_command(text="resolve", user_id=dan, channel_id=room.channel)
    await slack.send_slash_command(text="ic <@U0DAN>", user_id=dan, channel_id=room.channel)
    await slack.send_block_action(
        user_id=dan, channel_id=room.channel, action_id="checklist.toggle"
    )

    await eventually(lambda: _async(len(room.ephemeral_texts(dan)) >= 3))
    refusals = [t for t in room.ephemeral_texts(dan) if "is not in the roster" in t]
    assert len(refusals) == 3, room.ephemeral_texts(dan)
    assert any(t.startswith("`resolve` was not run: dan@example.com is not") for t in refusals)
    after = await room.current()
    assert after.model_dump() == before.model_dump()


async def test_people_picked_in_slack_reach_the_commands_and_are_mentioned_back(
    room: Room,
) -> None:
    """Slack sends a picked user as `<@U…|name>` and a typed e-mail as `<mailto:…>`; the core
    reads neither, and the announcement mentions the new IC the way Slack notifies them."""
    slack = room.slack
    await slack.send_slash_command(
        text="ic <@U0CAROL|carol>", user_id=ALICE, channel_id=room.channel
    )
    await slack.send_slash_command(
        text="invite <mailto:erin@example.com|erin@example.com>",
        user_id=CAROL,
        channel_id=room.channel,
    )

    await eventually(lambda: _async(room.ephemeral_texts(CAROL)))
    assert (await room.current()).ic == "carol@example.com"
    [announcement] = [
        m.text for m in slack.messages[room.channel] if "now the incident commander" in m.text
    ]
    assert announcement.startswith("<@U0CAROL> (carol@example.com) is now the incident commander")
    [told_erin] = room.ephemeral_texts(CAROL)
    assert "Erin Silva (erin@example.com)" in told_erin


# -- issue 12: a room that shows what happened, and the alert's context kept --------------------


def block_text(message: Any) -> str:
    return "\n".join(
        str(b.get("text", {}).get("text", "")) for b in message.blocks or [] if b.get("text")
    )


async def test_a_checklist_command_ticks_the_pinned_message_in_place(room: Room) -> None:
    slack = room.slack
    [pinned] = room.messages_with("checklist.toggle")
    assert slack.pins[room.channel] == [pinned.ts]
    second = room.incident.checklist[1].text
    assert f"[ ] {second}" in block_text(pinned)

    await slack.send_slash_command(text="checklist done 2", user_id=BOB, channel_id=room.channel)

    await eventually(lambda: _async(pinned.edits == 1))
    assert f"[x] {second}" in block_text(pinned)
    assert f"1/{len(room.incident.checklist)} done" in pinned.text
    [update] = slack.calls_to("chat.update")
    assert (update.params["channel"], update.params["ts"]) == (room.channel, pinned.ts)


async def test_drafts_get_their_lines_and_the_first_update_ticks_the_checklist(
    room: Room,
) -> None:
    slack = room.slack
    [pinned] = room.messages_with("checklist.toggle")
    await slack.send_slash_command(text="draft", user_id=CAROL, channel_id=room.channel)
    [card] = await eventually(lambda: _async(room.messages_with("draft.approve")))
    [draft] = (await room.current()).drafts

    def lines() -> list[str]:
        return [m.text for m in slack.messages[room.channel] if "status update d" in m.text]

    made = await eventually(lambda: _async([t for t in lines() if " drafted " in t]))
    assert made == [
        f"Carol Nguyen drafted status update {draft.id} (version 1) for <@{ALICE}> to approve: "
        f"http://incident-response.test/console/incidents/{room.incident.id}#draft-{draft.id}"
    ]

    await slack.send_block_action(
        user_id=ALICE, channel_id=room.channel, action_id="draft.approve", message_ts=card.ts
    )

    published = await eventually(lambda: _async([t for t in lines() if " published " in t]))
    assert published[0].startswith(
        f"Alice Martin approved and published status update {draft.id} version 1"
    )

    async def ticked() -> Any:
        item = next(i for i in (await room.current()).checklist if i.id == "status")
        return item if item.done else None

    status = await eventually(ticked)
    assert status.done_by == "system"
    await eventually(lambda: _async(f"[x] {status.text}" in block_text(pinned)))


async def test_the_alerts_runbook_dashboard_and_words_reach_the_brief_and_bookmarks(
    world: SlackWorld, slack: FakeSlack
) -> None:
    body = oncall_payload(
        group="ICONTEXT01",
        title="Checkout errors",
        labels={"service": "checkout", "env": "prod", "team": "payments", "severity": "critical"},
    )
    runbook, dashboard = "https://runbooks.example.com/checkout", "https://grafana.example.com/d/c"
    body["alert_payload"]["annotations"] = {
        "summary": "5xx above 5% on checkout",
        "description": "The checkout API has answered 5xx to over 5% of requests for 10 min",
        "runbook_url": runbook,
    }
    body["alert_payload"]["dashboardURL"] = dashboard
    await world.intake.accept("grafana-oncall", json.dumps(body).encode())

    async def assembled() -> Incident | None:
        found = await world.store.recent(statuses=[IncidentStatus.ASSEMBLED])
        return found[0] if found else None

    incident = await eventually(assembled)
    assert incident.channel is not None
    channel = incident.channel.id
    [brief] = [m for m in slack.messages[channel] if "Runbook" in block_text(m)]
    text = block_text(brief).splitlines()
    [labels] = [line for line in text if "service=checkout" in line]
    assert labels.startswith("Labels: env=prod · ")
    assert labels == "Labels: " + " · ".join(f"{k}={v}" for k, v in sorted(incident.labels.items()))
    assert "Summary: 5xx above 5% on checkout" in text
    assert (
        "Description: The checkout API has answered 5xx to over 5% of requests for 10 min" in text
    )
    assert f"Runbook: {runbook}" in text
    assert f"Dashboard: {dashboard}" in text

    async def bookmarked() -> list[tuple[str, str]]:
        marks = [(b.title, b.link) for b in slack.bookmarks[channel]]
        return marks if ("Dashboard", dashboard) in marks else []

    marks = await eventually(bookmarked)
    assert marks[:2] == [("Runbook", runbook), ("Dashboard", dashboard)]
