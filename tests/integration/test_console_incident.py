"""Running an incident from the console over HTTP, on a real Container: the list, the checklist,
the command box, war-room buttons, drafts and the approval gate, and resolving."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest

from incident_response.domain.audit import AuditEventType, AuditRecord, ChainReport
from incident_response.domain.incident import Incident
from incident_response.domain.status_update import DraftStatus
from incident_response.ports import AuditLog
from incident_response.services.draft_card import draft_card
from incident_response.web.app import create_app
from incident_response.web.console import routers_for_services, services_from
from tests.contract.incident_samples import sample_incident
from tests.support.clock import ManualClock
from tests.support.console import Browser, ConsoleWorld, console_world, csrf_of

EDITED = "Checkout: we are investigating elevated errors. Next update within 30 minutes."


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


def page_of(incident: Incident) -> str:
    return f"/console/incidents/{incident.id}"


async def someone_else(world: ConsoleWorld, incident: Incident) -> str:
    people = await world.container.directory.people()
    return next(p.email for p in people if p.email != incident.ic)


async def current(world: ConsoleWorld, incident: Incident) -> Incident:
    found = await world.container.store.get(incident.id)
    assert found is not None
    return found


async def published_bodies(world: ConsoleWorld) -> list[str]:
    doc = await world.container.status_page.incidents()
    return [u["body"] for i in doc["incidents"] for u in i["incident_updates"]]


async def test_the_list_shows_open_incidents_with_severity_ic_and_assembly_time(
    world: ConsoleWorld,
) -> None:
    browser = await world.signed_in("alice@example.com")
    empty = await browser.get("/console")
    assert "No open incidents." in empty.text

    incident = await world.alert(title="HighErrorRate checkout")
    ic = await world.container.directory.person(incident.ic or "")
    assert ic is not None
    listed = await browser.get("/console")
    row = re.search(rf'<tr data-incident-id="{incident.id}".*?</tr>', listed.text, re.S)
    assert row is not None
    assert "HighErrorRate checkout" in row.group(0)
    assert ">P1<" in row.group(0)
    assert ic.name in row.group(0)
    assert "Active" in row.group(0)


async def test_ticking_the_checklist_goes_through_the_checklist_command(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    responder = await someone_else(world, incident)
    browser = await world.signed_in(responder)
    first = incident.checklist[0]

    ticked = await browser.submit(
        page_of(incident), f"{page_of(incident)}/checklist", {"number": "1", "done": "1"}
    )
    assert ticked.status_code == 303
    stored = (await current(world, incident)).checklist[0]
    assert (stored.done, stored.done_by) == (True, responder)
    page = await browser.get(ticked.headers["location"].split("#")[0])
    assert f"Item 1 is done: {first.text}" in page.text
    assert re.search(r'aria-checked="true"[^>]*>' + re.escape(first.text), page.text)
    commands = await world.container.audit.find(incident.id, AuditEventType.SLASH_COMMAND_RECEIVED)
    assert commands[-1].data["surface"] == "console"
    assert commands[-1].data["args"] == "done 1"

    undone = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/checklist",
        {"number": "1", "done": "0"},
        fetch=True,
    )
    assert undone.json()["ok"] is True
    assert not (await current(world, incident)).checklist[0].done


async def test_a_form_without_the_csrf_token_changes_nothing(world: ConsoleWorld) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    before = await world.container.audit.records(incident.id)
    for action, data in (
        ("checklist", {"number": "1", "done": "1"}),
        ("commands", {"text": "silence"}),
        ("drafts", {}),
        ("resolve", {"confirmed": "yes"}),
    ):
        response = await browser.client.post(f"{page_of(incident)}/{action}", data=data)
        assert response.status_code == 403
    after = await current(world, incident)
    assert not after.checklist[0].done
    assert not after.drafts
    assert after.is_open
    assert await world.container.audit.records(incident.id) == before


async def test_the_command_box_runs_the_same_commands_as_slack(world: ConsoleWorld) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    reply = await browser.submit(
        page_of(incident), f"{page_of(incident)}/commands", {"text": "checklist done 2"}, fetch=True
    )
    assert reply.json() == {"ok": True, "text": reply.json()["text"]}
    assert "Item 2 is done" in reply.json()["text"]
    unknown = await browser.submit(
        page_of(incident), f"{page_of(incident)}/commands", {"text": "dance"}, fetch=True
    )
    assert unknown.json()["ok"] is False
    assert "Unknown command `dance`" in unknown.json()["text"]


async def test_war_room_buttons_post_their_command_and_forged_ones_do_nothing(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    assert incident.channel is not None
    messages = await world.container.chat.messages(incident.channel.id)
    checklist = next(m for m in messages if any(b.action == "checklist.toggle" for b in m.buttons))
    button = checklist.buttons[1]
    pressed = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/buttons",
        {"message": checklist.id, "action": button.action, "value": button.value},
        fetch=True,
    )
    assert pressed.json()["ok"] is True
    assert (await current(world, incident)).checklist[1].done

    forged = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/buttons",
        {"message": checklist.id, "action": "checklist.toggle", "value": "3"},
        fetch=True,
    )
    assert forged.json()["ok"] is False
    assert not (await current(world, incident)).checklist[2].done


async def draft_on(world: ConsoleWorld, browser: Browser, incident: Incident) -> str:
    created = await browser.submit(page_of(incident), f"{page_of(incident)}/drafts", {}, fetch=True)
    assert created.json()["ok"] is True, created.text
    return (await current(world, incident)).drafts[-1].id


async def test_only_the_ic_is_offered_approval_and_the_gate_refuses_anyone_else(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    other = await world.signed_in(await someone_else(world, incident))
    draft_id = await draft_on(world, other, incident)

    page = await other.get(page_of(incident))
    assert f'id="draft-{draft_id}"' in page.text
    assert "Approve &amp; Publish" not in page.text
    assert 'data-testid="approve-button"' not in page.text

    forced = await other.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft_id}/approve",
        {"version": "1", "confirmed": "yes"},
        fetch=True,
    )
    assert forced.json()["ok"] is False
    assert "may not approve" in forced.json()["text"]
    assert await published_bodies(world) == []

    ic = await world.signed_in(incident.ic or "")
    assert 'data-testid="approve-button"' in (await ic.get(page_of(incident))).text


async def test_the_ic_confirms_the_exact_text_and_it_appears_on_the_status_page(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    draft_id = await draft_on(world, ic, incident)
    edited = await ic.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft_id}/edit",
        {"body": EDITED, "version": "1"},
    )
    assert edited.status_code == 303

    confirm = await ic.submit(
        page_of(incident), f"{page_of(incident)}/drafts/{draft_id}/approve", {"version": "2"}
    )
    assert confirm.status_code == 200
    assert "Publish this update to the public status page?" in confirm.text
    assert f'<blockquote data-testid="confirm-body">{EDITED}</blockquote>' in confirm.text
    assert await published_bodies(world) == []  # asking is not approving

    published = await ic.client.post(
        f"{page_of(incident)}/drafts/{draft_id}/approve",
        data={"csrf": csrf_of(confirm.text), "version": "2", "confirmed": "yes"},
    )
    assert published.status_code == 303
    assert await published_bodies(world) == [EDITED]
    status = await world.browser().get("/status")
    assert EDITED in status.text
    after = await ic.get(page_of(incident))
    assert "Published to http://console.test/status/incidents/" in after.text

    again = await ic.client.post(
        f"{page_of(incident)}/drafts/{draft_id}/approve",
        data={"csrf": csrf_of(confirm.text), "version": "2", "confirmed": "yes"},
    )
    assert again.status_code == 303
    assert await published_bodies(world) == [EDITED]


async def test_approving_a_version_that_changed_meanwhile_asks_to_review_again(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    draft_id = await draft_on(world, ic, incident)
    await world.container.gate.edit(
        incident.id, draft_id, body=EDITED, actor=incident.ic or "", expected_version=1
    )
    stale = await ic.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft_id}/approve",
        {"version": "1"},
        fetch=True,
    )
    assert stale.json()["ok"] is False
    assert "changed since you read it" in stale.json()["text"]
    stale_edit = await ic.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft_id}/edit",
        {"body": "something else", "version": "1"},
        fetch=True,
    )
    assert stale_edit.json()["ok"] is False
    assert (await current(world, incident)).drafts[0].body == EDITED
    assert await published_bodies(world) == []


async def test_the_ic_can_reject_a_draft(world: ConsoleWorld) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    draft_id = await draft_on(world, ic, incident)
    rejected = await ic.submit(
        page_of(incident),
        f"{page_of(incident)}/drafts/{draft_id}/reject",
        {"reason": "too vague"},
        fetch=True,
    )
    assert rejected.json()["ok"] is True
    draft = (await current(world, incident)).drafts[0]
    assert (draft.status, draft.rejected_reason) == (DraftStatus.REJECTED, "too vague")


async def test_resolving_asks_first_and_then_files_the_postmortem(world: ConsoleWorld) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    confirm = await ic.submit(page_of(incident), f"{page_of(incident)}/resolve", {})
    assert "Resolve this incident?" in confirm.text
    assert (await current(world, incident)).is_open

    done = await ic.client.post(
        f"{page_of(incident)}/resolve", data={"csrf": csrf_of(confirm.text), "confirmed": "yes"}
    )
    assert done.status_code == 303
    await world.process()
    resolved = await current(world, incident)
    assert not resolved.is_open
    assert resolved.postmortem is not None
    page = await ic.get(page_of(incident))
    assert f'href="{resolved.postmortem.url}" data-testid="postmortem-link"' in page.text
    assert 'data-testid="resolve-button"' not in page.text


async def test_the_incident_page_shows_the_room_the_timeline_and_a_verified_chain(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    page = await browser.get(page_of(incident))
    assert incident.channel is not None
    assert f"#{incident.channel.name}" in page.text
    assert 'data-testid="message"' in page.text
    assert "is the incident commander" in page.text  # the story
    assert "WAR_ROOM_ASSEMBLED" in page.text  # the audit trail
    records = await world.container.audit.records(incident.id)
    assert f"Hash chain verified: {len(records)} records" in page.text
    for responder in incident.responders:
        assert responder.email in page.text


class CountingAudit:
    """The real audit log, counting the reads the console makes."""

    def __init__(self, inner: AuditLog) -> None:
        self._inner = inner
        self.reads = 0

    async def append(self, event: object) -> AuditRecord:
        return await self._inner.append(event)  # type: ignore[arg-type]

    async def records(self, incident_id: str) -> list[AuditRecord]:
        self.reads += 1
        return await self._inner.records(incident_id)

    async def find(self, incident_id: str, type: AuditEventType) -> list[AuditRecord]:
        self.reads += 1
        return await self._inner.find(incident_id, type)

    async def verify(self, incident_id: str | None = None) -> ChainReport:
        self.reads += 1
        return await self._inner.verify(incident_id)

    async def incident_ids(self) -> list[str]:
        self.reads += 1
        return await self._inner.incident_ids()


async def test_the_list_of_hundreds_of_incidents_reads_no_timelines(world: ConsoleWorld) -> None:
    store = world.container.store
    for n in range(300):
        await store.create(sample_incident(id=f"inc-bulk-{n:03d}", title=f"Bulk incident {n}"))
    audit = CountingAudit(world.container.audit)
    services = replace(services_from(world.container), audit=audit)
    app = create_app(routers=routers_for_services(services))
    browser = await world.signed_in("alice@example.com", app)
    listed = await browser.get("/console")
    assert listed.status_code == 200
    assert listed.text.count('data-testid="incident-row"') == 200
    assert "Show more" in listed.text
    assert audit.reads == 0


async def test_a_configured_approver_is_offered_approval_too(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with console_world(tmp_path, clock, approvers="dan@example.com") as world:
        incident = await world.alert()
        assert incident.ic != "dan@example.com"
        approver = await world.signed_in("dan@example.com")
        draft_id = await draft_on(world, approver, incident)
        page = await approver.get(page_of(incident))
        assert 'data-testid="approve-button"' in page.text
        done = await approver.submit(
            page_of(incident),
            f"{page_of(incident)}/drafts/{draft_id}/approve",
            {"version": "1", "confirmed": "yes"},
            fetch=True,
        )
        assert done.json()["ok"] is True
        assert len(await published_bodies(world)) == 1


async def test_a_war_room_button_that_asks_first_gets_a_confirmation_step(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    world.clock.advance(minutes=5)
    await world.alert_resolved(incident)
    assert incident.channel is not None
    messages = await world.container.chat.messages(incident.channel.id)
    asking = next(m for m in messages if any(b.action == "incident.resolve" for b in m.buttons))
    button = next(b for b in asking.buttons if b.action == "incident.resolve")
    assert button.confirm
    ic = await world.signed_in(incident.ic or "")
    fields = {"message": asking.id, "action": button.action, "value": button.value}

    confirm = await ic.submit(page_of(incident), f"{page_of(incident)}/buttons", fields)
    assert confirm.status_code == 200
    assert button.confirm in confirm.text
    assert (await current(world, incident)).is_open

    await ic.client.post(
        f"{page_of(incident)}/buttons",
        data={"csrf": csrf_of(confirm.text), "confirmed": "yes", **fields},
    )
    await world.process()
    assert not (await current(world, incident)).is_open


async def test_a_draft_card_in_the_war_room_leads_to_the_draft_in_the_status_updates_panel(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert(title="HighErrorRate checkout")
    assert incident.channel is not None
    draft = await world.container.gate.create_draft(incident.id, actor=incident.ic or "")
    await world.container.console_chat.post(incident.channel.id, draft_card(incident, draft))
    browser = await world.signed_in(incident.ic or "")

    page = (await browser.get(page_of(incident))).text

    assert f'href="#draft-{draft.id}"' in page
    assert f'id="draft-{draft.id}"' in page


async def outsider_of(world: ConsoleWorld, incident: Incident) -> str:
    inside = {r.email for r in incident.responders} | {incident.ic}
    people = await world.container.directory.people()
    return next(p.email for p in people if p.email not in inside)


async def test_an_outsider_reads_the_incident_but_is_offered_no_changes(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    outsider = await outsider_of(world, incident)
    browser = await world.signed_in(outsider)

    page = await browser.get(page_of(incident))

    assert page.status_code == 200
    assert incident.title in page.text
    assert 'data-testid="read-only-note"' in page.text
    assert 'data-testid="resolve-button"' not in page.text
    assert "Draft a status update" not in page.text
    assert 'class="check-toggle"' in page.text
    assert all(
        " disabled>" in button
        for button in re.findall(r'<button[^>]*class="check-toggle"[^>]*>', page.text)
    )
    responder = await world.signed_in(await someone_else(world, incident))
    offered = await responder.get(page_of(incident))
    assert 'data-testid="resolve-button"' in offered.text
    assert 'data-testid="read-only-note"' not in offered.text


async def test_an_outsider_posting_the_forms_anyway_changes_nothing(world: ConsoleWorld) -> None:
    incident = await world.alert()
    outsider = await outsider_of(world, incident)
    browser = await world.signed_in(outsider)
    before = await current(world, incident)

    resolved = await browser.submit(
        page_of(incident), f"{page_of(incident)}/resolve", {"confirmed": "yes"}, fetch=True
    )
    ticked = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/checklist",
        {"number": "1", "done": "1"},
        fetch=True,
    )
    drafted = await browser.submit(page_of(incident), f"{page_of(incident)}/drafts", {}, fetch=True)
    api = await world.browser().client.post(
        f"/api/incidents/{incident.id}/commands",
        json={"text": f"ic {outsider}"},
        headers={"Authorization": f"Bearer {world.token(outsider)}"},
    )
    api_draft = await world.browser().client.post(
        f"/api/incidents/{incident.id}/drafts",
        headers={"Authorization": f"Bearer {world.token(outsider)}"},
    )

    for answer in (resolved, ticked, drafted):
        assert answer.json()["ok"] is False
        assert f"{outsider} may not" in answer.json()["text"]
        assert "only the incident's responders, its incident commander" in answer.json()["text"]
    assert api.status_code == 403
    assert api_draft.status_code == 403
    assert f"{outsider} may not draft or edit a status update" in api_draft.text
    assert f"{outsider} may not hand over the incident commander role" in api.text
    await world.process()
    after = await current(world, incident)
    assert after.model_dump() == before.model_dump()


async def test_the_timeline_tells_the_story_and_the_audit_trail_keeps_the_rest(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    await browser.submit(
        page_of(incident), f"{page_of(incident)}/commands", {"text": "note cache flushed"}
    )

    page = await browser.get(page_of(incident))

    story = page.text.split('data-testid="timeline"', 1)[1].split("</ol>", 1)[0]
    assert "Opened by the alert" in story
    assert "cache flushed" in story
    assert "is the incident commander" in story
    for bookkeeping in ("Slash command", "Assembly step", "War room created", "delivery"):
        assert bookkeeping not in story
    assert "SLASH_COMMAND_RECEIVED" in page.text.split('id="audit"', 1)[1]


async def test_pin_to_timeline_quotes_a_room_message_once_for_the_person_who_pinned(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    assert incident.channel is not None
    pinner = await someone_else(world, incident)
    browser = await world.signed_in(pinner)
    page = await browser.get(page_of(incident))
    assert 'data-testid="pin-to-timeline"' in page.text
    message = (await world.container.chat.messages(incident.channel.id))[0]

    answers = [
        await browser.submit(
            page_of(incident), f"{page_of(incident)}/pin", {"message": message.id}, fetch=True
        )
        for _ in range(2)
    ]
    forged = await browser.submit(
        page_of(incident), f"{page_of(incident)}/pin", {"message": "no-such"}, fetch=True
    )

    assert [a.json() for a in answers] == [
        {"ok": True, "text": "Pinned to the timeline."},
        {"ok": True, "text": "That message is already on the timeline."},
    ]
    assert forged.json()["ok"] is False
    [note] = await world.container.audit.find(incident.id, AuditEventType.TIMELINE_NOTE_ADDED)
    assert (note.actor, note.data["text"], note.data["author"]) == (pinner, message.text, "system")
    story = (await browser.get(page_of(incident))).text.split('data-testid="timeline"', 1)[1]
    assert message.text.split("\n")[0][:30] in story


async def test_an_outsider_is_offered_no_pin_and_cannot_pin(world: ConsoleWorld) -> None:
    incident = await world.alert()
    assert incident.channel is not None
    outsider = await outsider_of(world, incident)
    browser = await world.signed_in(outsider)
    page = await browser.get(page_of(incident))
    message = (await world.container.chat.messages(incident.channel.id))[0]

    answer = await browser.submit(
        page_of(incident), f"{page_of(incident)}/pin", {"message": message.id}, fetch=True
    )

    assert 'data-testid="pin-to-timeline"' not in page.text
    assert 'data-testid="add-followup"' not in page.text
    assert answer.json()["ok"] is False
    assert not await world.container.audit.find(incident.id, AuditEventType.TIMELINE_NOTE_ADDED)


async def test_the_api_timeline_is_the_story_and_audit_keeps_every_record(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    headers = {"Authorization": f"Bearer {world.token(incident.ic or '')}"}
    client = world.browser().client
    await client.post(
        f"/api/incidents/{incident.id}/commands", json={"text": "note db failover"}, headers=headers
    )

    shown = (await client.get(f"/api/incidents/{incident.id}", headers=headers)).json()

    assert {"at", "who", "kind", "text"} == set(shown["timeline"][0])
    assert shown["timeline"][0]["kind"] == "opened"
    assert shown["timeline"][-1] == {
        "at": shown["timeline"][-1]["at"],
        "who": incident.ic,
        "kind": "note",
        "text": "db failover",
    }
    await client.post(
        f"/api/incidents/{incident.id}/commands",
        json={"text": "followup Alert on pool size"},
        headers=headers,
    )
    after = (await client.get(f"/api/incidents/{incident.id}", headers=headers)).json()
    assert [(f["text"], f["owner"], f["issue"]) for f in after["followups"]] == [
        ("Alert on pool size", None, None)
    ]
    assert after["timeline"][-1]["text"] == "Follow-up: Alert on pool size"
    kinds = {e["type"] for e in shown["audit"]}
    assert {"SLASH_COMMAND_RECEIVED", "WAR_ROOM_ASSEMBLED", "TIMELINE_NOTE_ADDED"} <= kinds


async def test_the_followups_panel_records_one_with_an_owner_and_lists_it(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or "")
    owner = await someone_else(world, incident)

    added = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/followups",
        {"text": "Alert on pool exhaustion", "owner": owner},
        fetch=True,
    )
    unknown = await browser.submit(
        page_of(incident),
        f"{page_of(incident)}/followups",
        {"text": "Another", "owner": "nobody@example.com"},
        fetch=True,
    )
    page = await browser.get(page_of(incident))

    assert added.json()["ok"] is True, added.text
    assert unknown.json()["ok"] is False
    [item] = (await current(world, incident)).followups
    assert (item.text, item.owner) == ("Alert on pool exhaustion", owner)
    panel = page.text.split('data-testid="followups"', 1)[1].split("</ol>", 1)[0]
    assert "Alert on pool exhaustion" in panel
    assert 'data-testid="add-followup"' in page.text
