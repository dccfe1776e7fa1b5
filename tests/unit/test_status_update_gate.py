"""The StatusUpdateGate on the real embedded adapters: nothing reaches the status page unless the
IC (or a configured approver) approved that exact text, and each approved version posts once."""

from __future__ import annotations

import asyncio
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from incident_response.adapters.embedded.audit_log import SqliteAuditLog
from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.drafter import BuiltinDrafter
from incident_response.adapters.embedded.roster import Roster, RosterDirectory
from incident_response.adapters.embedded.store import SqliteIncidentStore
from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.domain.alert import AlertSource, Severity
from incident_response.domain.approval import (
    MAX_BODY_CHARS,
    approval_decision,
    impact_for,
    proposed_public_fields,
    public_status_for,
)
from incident_response.domain.audit import AuditEventType, AuditRecord
from incident_response.domain.authority import Actor
from incident_response.domain.context import Impact, PublicStatus, PublishedUpdate, PublishRequest
from incident_response.domain.errors import ConcurrentUpdate, NotFound
from incident_response.domain.incident import Incident, IncidentStatus, Responder
from incident_response.domain.public import ComponentMap
from incident_response.domain.status_update import (
    DraftKind,
    DraftStatus,
    PublicComponent,
    StatusDraft,
)
from incident_response.ports import IncidentStore, PostmortemContext, StatusContext, StatusPage
from incident_response.services.authority import Authority, NotPermitted
from incident_response.services.status_update_gate import (
    ApprovalRefused,
    DraftNotFound,
    InvalidDraft,
    PublishFailed,
    StaleDraftVersion,
    StatusUpdateGate,
)
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock

IC = "ic@example.com"
APPROVER = "comms@example.com"
OUTSIDER = "eve@example.com"
RESPONDER = "bob@example.com"
INCIDENT_ID = "inc-gate"
GRACE = timedelta(seconds=60)
COMPONENTS = ComponentMap(by_service={"checkout": "Checkout", "payments-api": "Payments"})
# the directory the gate asks: everyone above is in it; the approver is named by the roster
ROSTER = f"""\
people:
  - {{name: Ivy IC, email: {IC}}}
  - {{name: Cora Comms, email: {APPROVER}}}
  - {{name: Eve Outsider, email: {OUTSIDER}}}
  - {{name: Bob Responder, email: {RESPONDER}}}
approvers: [{APPROVER}]
"""


# -- test doubles: real adapters underneath, with counting and crashes on demand ---------------


class FlakyStatusPage:
    """The real status page, counting every publish that reaches it per key; it can be told to
    fail before its effect (vendor down) or after it (response lost, process killed)."""

    def __init__(self, real: BuiltinStatusPage) -> None:
        self.real = real
        self.calls: Counter[str] = Counter()
        self.requests: list[PublishRequest] = []
        self.fail_before = 0
        self.fail_after = 0
        self.fail_find = 0

    async def publish(self, request: PublishRequest) -> PublishedUpdate:
        if self.fail_before:
            self.fail_before -= 1
            raise ConnectionError("status page unreachable")
        self.calls[request.key] += 1
        self.requests.append(request)
        update = await self.real.publish(request)
        if self.fail_after:
            self.fail_after -= 1
            raise TimeoutError()
        return update

    async def find_published(self, key: str) -> PublishedUpdate | None:
        if self.fail_find:
            self.fail_find -= 1
            raise ConnectionError("status page unreachable")
        return await self.real.find_published(key)

    async def public_bodies(self) -> list[str]:
        """Every update body the public page shows, oldest first."""
        doc = await self.real.incidents()
        return [
            u["body"]
            for incident in reversed(doc["incidents"])
            for u in reversed(incident["incident_updates"])
        ]


class RecordingDrafter:
    """The built-in drafter, remembering what it was asked; `text` overrides its answer."""

    def __init__(self, real: BuiltinDrafter) -> None:
        self.real = real
        self.contexts: list[StatusContext] = []
        self.text: str | None = None

    async def draft_status_update(self, context: StatusContext) -> str:
        self.contexts.append(context)
        if self.text is not None:
            return self.text
        return await self.real.draft_status_update(context)

    async def draft_postmortem(self, context: PostmortemContext) -> str:
        return await self.real.draft_postmortem(context)


class ConflictingStore:
    """The real store, with someone else saving the incident just before our next `conflicts`
    saves (or every save, when `always`)."""

    def __init__(self, real: SqliteIncidentStore, *, conflicts: int = 0, always: bool = False):
        self.real = real
        self.conflicts = conflicts
        self.always = always

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)

    async def save(self, incident: Incident) -> Incident:
        if self.always:
            raise ConcurrentUpdate(f"incident {incident.id} changed under us")
        if self.conflicts:
            self.conflicts -= 1
            other = await self.real.get(incident.id)
            assert other is not None
            await self.real.save(other.update(nudges_silenced=not other.nudges_silenced))
        return await self.real.save(incident)


@dataclass
class World:
    db: Database
    clock: ManualClock
    store: SqliteIncidentStore
    audit: SqliteAuditLog
    page: FlakyStatusPage
    drafter: RecordingDrafter
    gate: StatusUpdateGate
    authority: Authority
    gates: list[StatusUpdateGate] = field(default_factory=list)

    def new_gate(self, *, store: IncidentStore | None = None, **options: Any) -> StatusUpdateGate:
        """Another gate on the same adapters: a second worker, or the process after a restart."""
        settings: dict[str, Any] = {
            "authority": self.authority,
            "recovery_grace": GRACE,
            "components": COMPONENTS,
        }
        settings.update(options)
        return StatusUpdateGate(
            store=store or self.store,
            audit=self.audit,
            status_page=self.page,
            llm=self.drafter,
            clock=self.clock,
            **settings,
        )

    async def incident(self, incident_id: str = INCIDENT_ID) -> Incident:
        found = await self.store.get(incident_id)
        assert found is not None
        return found

    async def draft(self, draft_id: str, incident_id: str = INCIDENT_ID) -> StatusDraft:
        found = (await self.incident(incident_id)).draft(draft_id)
        assert found is not None
        return found

    async def records(
        self, type_: AuditEventType, incident_id: str = INCIDENT_ID
    ) -> list[AuditRecord]:
        return await self.audit.find(incident_id, type_)

    async def open_incident(self, incident_id: str = INCIDENT_ID, **changes: Any) -> Incident:
        return await self.store.create(an_incident(self.clock, incident_id, **changes))


def an_incident(clock: ManualClock, incident_id: str = INCIDENT_ID, **changes: Any) -> Incident:
    fields: dict[str, Any] = {
        "id": incident_id,
        "status": IncidentStatus.ASSEMBLED,
        "severity": Severity.P2,
        "title": "Checkout errors",
        "source": AlertSource.ALERTMANAGER,
        "alert_group_id": f"group-{incident_id}",
        "alert_group_key": f"alertmanager:group-{incident_id}",
        "service": "checkout",
        "created_at": clock.now(),
        "updated_at": clock.now(),
        "ic": IC,
        "responders": (
            Responder(email=IC, name="Ivy IC", role="primary"),
            Responder(email=RESPONDER, name="Bob Responder", role="secondary"),
        ),
    }
    fields.update(changes)
    return Incident(**fields)


async def build_world(db: Database, clock: ManualClock) -> World:
    store = await SqliteIncidentStore(db=db, clock=clock).open()
    audit = await SqliteAuditLog(db=db, clock=clock, key=AUDIT_KEY).open()
    page = FlakyStatusPage(BuiltinStatusPage(db, base_url="http://status.test", clock=clock))
    drafter = RecordingDrafter(BuiltinDrafter(clock=clock))
    assert isinstance(db.path, Path)
    roster = db.path.parent / "roster.yaml"
    roster.write_text(ROSTER, encoding="utf-8")
    authority = Authority(directory=RosterDirectory(Roster.load(roster)))
    world = World(db, clock, store, audit, page, drafter, gate=None, authority=authority)  # type: ignore[arg-type]
    world.gate = world.new_gate()
    await world.open_incident()
    return world


@pytest.fixture
async def world(db: Database, clock: ManualClock) -> World:
    return await build_world(db, clock)


# -- the pure decision ---------------------------------------------------------------------------


def a_draft(clock: ManualClock, **changes: Any) -> StatusDraft:
    body = changes.pop("body", "We are investigating errors at checkout.")
    tampered = changes.pop("content_hash", None)
    fields: dict[str, Any] = {
        "title": "Partial outage: Checkout",
        "stage": PublicStatus.INVESTIGATING,
        "impact": Impact.MAJOR,
        "components": (PublicComponent(name="Checkout"),),
    }
    fields.update(changes)
    draft = StatusDraft(
        id="d1",
        body=body,
        content_hash="",
        created_by=RESPONDER,
        created_at=clock.now(),
        updated_at=clock.now(),
        **fields,
    ).sealed()
    return draft if tampered is None else draft.model_copy(update={"content_hash": tampered})


APPROVERS = frozenset({APPROVER})


def actor(email: str) -> Actor:
    """Everyone here is in the roster; the approvers are APPROVERS."""
    return Actor(email=email, in_roster=bool(email.strip()), approver=email.strip() in APPROVERS)


def test_the_ic_and_configured_approvers_may_approve_anyone_else_may_not(
    clock: ManualClock,
) -> None:
    incident, draft = an_incident(clock), a_draft(clock)
    for who in (IC, APPROVER, " IC@Example.com "):
        decision = approval_decision(incident, draft, actor=actor(who), version=1)
        assert decision.allowed, who
        assert decision.reasons == ()
    refused = approval_decision(incident, draft, actor=actor(OUTSIDER), version=1)
    assert not refused.allowed
    assert refused.reasons == (
        f"{OUTSIDER} may not approve: only the incident commander ({IC}) or an approver can",
    )
    assert not refused.only_stale
    nobody = approval_decision(incident, draft, actor=actor("  "), version=1)
    assert "an anonymous caller" in nobody.reasons[0]


def test_without_an_ic_only_configured_approvers_may_approve(clock: ManualClock) -> None:
    incident, draft = an_incident(clock, ic=None), a_draft(clock)
    assert approval_decision(incident, draft, actor=actor(APPROVER), version=1).allowed
    refused = approval_decision(incident, draft, actor=actor(IC), version=1)
    assert "(none assigned)" in refused.reasons[0]


def test_a_stale_version_alone_is_a_conflict_not_a_refusal(clock: ManualClock) -> None:
    incident, draft = an_incident(clock), a_draft(clock, version=3)
    decision = approval_decision(incident, draft, actor=actor(IC), version=2)
    assert decision.only_stale
    assert "version 2 of draft d1 is stale: the draft is at version 3" in decision.reasons[0]
    both = approval_decision(incident, draft, actor=actor(OUTSIDER), version=2)
    assert both.stale
    assert not both.only_stale


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"status": DraftStatus.PUBLISHED}, "draft d1 is published: only a draft can be approved"),
        ({"status": DraftStatus.REJECTED}, "draft d1 is rejected: only a draft can be approved"),
        ({"content_hash": "0" * 64}, "the content of draft d1 does not match its content hash"),
        ({"body": " \n "}, "the text is empty"),
        ({"body": "x" * (MAX_BODY_CHARS + 1)}, f"the limit is {MAX_BODY_CHARS}"),
    ],
)
def test_a_draft_that_is_not_publishable_text_is_refused(
    clock: ManualClock, changes: dict[str, Any], reason: str
) -> None:
    decision = approval_decision(
        an_incident(clock), a_draft(clock, **changes), actor=actor(IC), version=1
    )
    assert not decision.allowed
    assert any(reason in r for r in decision.reasons), decision.reasons


def test_a_draft_waits_while_another_is_still_being_published(clock: ManualClock) -> None:
    pending = a_draft(clock, status=DraftStatus.APPROVED).model_copy(update={"id": "d0"})
    draft = a_draft(clock)
    incident = an_incident(clock, drafts=(pending, draft))
    decision = approval_decision(incident, draft, actor=actor(IC), version=1)
    assert decision.reasons == (
        "draft d0 is approved and still being published: it must finish first",
    )


def test_public_status_impact_and_components_follow_the_incident(clock: ManualClock) -> None:
    incident = an_incident(clock)
    assert public_status_for(incident, DraftKind.UPDATE) is PublicStatus.INVESTIGATING
    assert public_status_for(incident, DraftKind.RESOLVED) is PublicStatus.RESOLVED
    mitigated = incident.update(status=IncidentStatus.MITIGATED)
    assert public_status_for(mitigated, DraftKind.UPDATE) is PublicStatus.MONITORING
    resolved = incident.update(status=IncidentStatus.RESOLVED)
    assert public_status_for(resolved, DraftKind.UPDATE) is PublicStatus.RESOLVED
    impacts = [impact_for(incident.update(severity=s)) for s in Severity]
    assert impacts == [Impact.CRITICAL, Impact.MAJOR, Impact.MINOR, Impact.NONE]
    mapped = ComponentMap(by_service={"checkout": "Checkout"}, default="Our services")
    fields = proposed_public_fields(
        incident.update(title="disk full on db-7.internal"), DraftKind.UPDATE, mapped
    )
    assert fields["components"] == (PublicComponent(name="Checkout"),)
    assert fields["title"] == "Partial outage: Checkout"
    internal = proposed_public_fields(
        incident.update(service="db-7.internal"), DraftKind.UPDATE, mapped
    )
    assert internal["components"] == (PublicComponent(name="Our services"),)
    assert "internal" not in internal["title"]


# -- drafting ------------------------------------------------------------------------------------


async def test_a_draft_is_written_by_the_drafter_from_public_facts_and_audited(
    world: World,
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    assert draft.status is DraftStatus.DRAFT
    assert draft.version == 1
    assert draft.kind is DraftKind.UPDATE
    assert draft.created_by == RESPONDER
    assert draft.id.startswith("d")
    assert "checkout" in draft.body.lower()
    assert (await world.incident()).drafts == (draft,)
    assert world.drafter.contexts[-1].public_status == "investigating"
    assert world.drafter.contexts[-1].previous_updates == ()
    [record] = await world.records(AuditEventType.STATUSPAGE_DRAFT_CREATED)
    assert record.actor == RESPONDER
    assert record.data["draft_id"] == draft.id
    assert record.data["content_hash"] == draft.content_hash
    assert world.page.calls == Counter()


async def test_the_drafter_is_told_the_public_status_and_what_customers_already_read(
    world: World,
) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=IC)
    await world.gate.approve_and_publish(INCIDENT_ID, first.id, version=1, actor=IC)
    incident = await world.incident()
    await world.store.save(incident.transition(IncidentStatus.MITIGATED, at=world.clock.now()))
    await world.gate.create_draft(INCIDENT_ID, actor=IC)
    assert world.drafter.contexts[-1].public_status == "monitoring"
    assert world.drafter.contexts[-1].previous_updates == (first.body,)
    resolved = await world.gate.create_draft(INCIDENT_ID, actor=IC, kind=DraftKind.RESOLVED)
    assert resolved.kind is DraftKind.RESOLVED
    assert world.drafter.contexts[-1].public_status == "resolved"


async def test_drafts_get_distinct_ids_even_when_the_generator_repeats(
    world: World,
) -> None:
    ids = iter(["dsame", "dsame", "dother"])
    gate = world.new_gate(new_id=lambda: next(ids))
    first = await gate.create_draft(INCIDENT_ID, actor=IC)
    world.drafter.text = "A different update."
    second = await gate.create_draft(INCIDENT_ID, actor=IC)
    assert (first.id, second.id) == ("dsame", "dother")


@pytest.mark.parametrize("text", ["", "   \n", "x" * (MAX_BODY_CHARS + 1)])
async def test_an_unusable_text_from_the_drafter_is_refused_and_nothing_is_stored(
    world: World, text: str
) -> None:
    world.drafter.text = text
    with pytest.raises(InvalidDraft, match="the drafter's text cannot be used"):
        await world.gate.create_draft(INCIDENT_ID, actor=IC)
    assert (await world.incident()).drafts == ()
    assert await world.audit.records(INCIDENT_ID) == []


async def test_drafting_needs_an_incident_and_an_actor(world: World) -> None:
    with pytest.raises(NotFound, match="incident inc-missing not found"):
        await world.gate.create_draft("inc-missing", actor=IC)
    with pytest.raises(InvalidDraft, match="e-mail is required"):
        await world.gate.create_draft(INCIDENT_ID, actor=" ")


async def test_editing_makes_a_new_version_with_a_new_hash(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    edited = await world.gate.edit(
        INCIDENT_ID, draft.id, body="We found the cause.", actor=RESPONDER, expected_version=1
    )
    assert (edited.version, edited.body) == (2, "We found the cause.")
    assert edited.content_hash != draft.content_hash
    assert await world.draft(draft.id) == edited
    [record] = await world.records(AuditEventType.STATUSPAGE_DRAFT_REVISED)
    assert record.data["version"] == 2
    assert record.data["content_hash"] == edited.content_hash
    assert record.actor == RESPONDER


async def test_saving_the_same_text_again_changes_nothing(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    same = await world.gate.edit(
        INCIDENT_ID, draft.id, body=draft.body, actor=IC, expected_version=1
    )
    assert same == draft
    assert await world.records(AuditEventType.STATUSPAGE_DRAFT_REVISED) == []


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("", "empty"),
        ("  \t\n", "empty"),
        ("x" * (MAX_BODY_CHARS + 1), "the limit is 5000"),
        ("half a surrogate \ud800", "not valid Unicode"),
    ],
)
async def test_an_empty_or_overlong_edit_is_refused_and_changes_nothing(
    world: World, body: str, problem: str
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    with pytest.raises(InvalidDraft, match=problem):
        await world.gate.edit(INCIDENT_ID, draft.id, body=body, actor=IC, expected_version=1)
    assert await world.draft(draft.id) == draft
    with pytest.raises(InvalidDraft, match="e-mail is required"):
        await world.gate.edit(INCIDENT_ID, draft.id, body="ok", actor="", expected_version=1)


async def test_an_edit_from_a_stale_version_is_refused(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.edit(INCIDENT_ID, draft.id, body="Mine.", actor=RESPONDER, expected_version=1)
    with pytest.raises(StaleDraftVersion, match="is at version 2, not 1") as caught:
        await world.gate.edit(INCIDENT_ID, draft.id, body="Theirs.", actor=IC, expected_version=1)
    assert (caught.value.given, caught.value.current) == (1, 2)
    assert (await world.draft(draft.id)).body == "Mine."


async def test_only_a_draft_can_be_edited(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    with pytest.raises(InvalidDraft, match="is published: only a draft can be edited"):
        await world.gate.edit(INCIDENT_ID, draft.id, body="Later.", actor=IC, expected_version=1)
    with pytest.raises(DraftNotFound, match="has no draft dnope"):
        await world.gate.edit(INCIDENT_ID, "dnope", body="x", actor=IC, expected_version=1)


async def test_the_ic_can_reject_a_draft_and_say_why(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    rejected = await world.gate.reject(INCIDENT_ID, draft.id, actor=IC, reason=" Too vague. ")
    assert rejected.status is DraftStatus.REJECTED
    assert rejected.rejected_reason == "Too vague."
    [record] = await world.records(AuditEventType.STATUSPAGE_APPROVAL_REJECTED)
    assert (record.actor, record.data["reason"]) == (IC, "Too vague.")
    with pytest.raises(InvalidDraft, match="is rejected: only a draft can be rejected"):
        await world.gate.reject(INCIDENT_ID, draft.id, actor=IC)
    with pytest.raises(ApprovalRefused, match="is rejected: only a draft can be approved"):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert world.page.calls == Counter()


async def test_an_approver_may_reject_without_a_reason_but_others_may_not_reject(
    world: World,
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    with pytest.raises(ApprovalRefused, match=f"{OUTSIDER} may not reject") as caught:
        await world.gate.reject(INCIDENT_ID, draft.id, actor=OUTSIDER, reason="no")
    assert len(caught.value.reasons) == 1
    assert (await world.draft(draft.id)).status is DraftStatus.DRAFT
    with pytest.raises(InvalidDraft, match="the limit is 1000"):
        await world.gate.reject(INCIDENT_ID, draft.id, actor=IC, reason="x" * 1001)
    with pytest.raises(InvalidDraft, match="not valid Unicode"):
        await world.gate.reject(INCIDENT_ID, draft.id, actor=IC, reason="\udfff")
    assert await world.records(AuditEventType.STATUSPAGE_APPROVAL_REJECTED) == []
    rejected = await world.gate.reject(INCIDENT_ID, draft.id, actor=APPROVER)
    assert rejected.rejected_reason is None


# -- approval and publishing ---------------------------------------------------------------------


async def test_an_outsider_cannot_approve_and_nothing_is_published(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    with pytest.raises(ApprovalRefused, match="may not approve") as caught:
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=OUTSIDER)
    assert caught.value.reasons[0].startswith(OUTSIDER)
    assert world.page.calls == Counter()
    assert await world.page.public_bodies() == []
    assert await world.draft(draft.id) == draft
    assert await world.records(AuditEventType.STATUSPAGE_DRAFT_APPROVED) == []


async def test_a_drills_draft_is_refused_publication_and_nothing_is_published(
    world: World,
) -> None:
    await world.open_incident("inc-drill", labels={"service": "checkout", "drill": "true"})
    draft = await world.gate.create_draft("inc-drill", actor=RESPONDER)
    with pytest.raises(ApprovalRefused, match="is a drill") as caught:
        await world.gate.approve_and_publish("inc-drill", draft.id, version=1, actor=IC)
    assert "never reach the public status page" in caught.value.reasons[0]
    assert world.page.calls == Counter()
    assert await world.page.public_bodies() == []
    stored = await world.store.get("inc-drill")
    assert stored is not None
    assert stored.draft(draft.id) == draft
    assert await world.audit.find("inc-drill", AuditEventType.STATUSPAGE_DRAFT_APPROVED) == []


async def test_the_ic_approves_and_exactly_that_text_is_published_once(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    outcome = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert outcome.status is DraftStatus.PUBLISHED
    assert outcome.published_now
    assert outcome.status_page is not None
    assert outcome.status_page.url.startswith("http://status.test/status/incidents/")
    assert await world.page.public_bodies() == [draft.body]
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    [request] = world.page.requests
    assert (request.status, request.impact, request.components) == (
        PublicStatus.INVESTIGATING,
        Impact.MAJOR,
        ("Checkout",),
    )
    # the public name never repeats the alert's title, which may carry internal detail
    assert request.incident_name == "Partial outage: Checkout"
    stored = await world.draft(draft.id)
    assert stored.status is DraftStatus.PUBLISHED
    assert (stored.approved_by, stored.published_at) == (IC, outcome.published_at)
    assert (await world.incident()).status_page == outcome.status_page
    [approval] = await world.records(AuditEventType.STATUSPAGE_DRAFT_APPROVED)
    assert approval.data["approved_by"] == IC
    assert (approval.data["draft_id"], approval.data["version"]) == (draft.id, 1)
    assert approval.data["content_hash"] == draft.content_hash
    [published] = await world.records(AuditEventType.STATUSPAGE_PUBLISHED)
    assert published.data["body"] == draft.body
    assert published.data["key"] == f"{draft.id}:v1"
    [sent] = await world.records(AuditEventType.STATUS_UPDATE_SENT)
    assert sent.data["status_page_incident_id"] == outcome.status_page.incident_id
    assert (await world.audit.verify(INCIDENT_ID)).ok


async def test_a_configured_approver_may_approve(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    outcome = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=APPROVER)
    assert outcome.published_now
    assert (await world.draft(draft.id)).approved_by == APPROVER


async def test_approving_a_stale_version_is_a_conflict_and_publishes_nothing(
    world: World,
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.edit(INCIDENT_ID, draft.id, body="Newer.", actor=RESPONDER, expected_version=1)
    with pytest.raises(StaleDraftVersion, match="is at version 2, not 1"):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert world.page.calls == Counter()
    assert (await world.draft(draft.id)).status is DraftStatus.DRAFT


async def test_the_edited_text_is_what_publishes_byte_for_byte(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    text = "  Payments are failing for some customers — we're on it.\n\nNext update: 10:30 UTC  "
    await world.gate.edit(INCIDENT_ID, draft.id, body=text, actor=IC, expected_version=1)
    await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=2, actor=IC)
    assert await world.page.public_bodies() == [text]
    assert world.page.calls == Counter({f"{draft.id}:v2": 1})


async def test_the_first_publish_creates_the_public_incident_and_later_ones_update_it(
    world: World,
) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    one = await world.gate.approve_and_publish(INCIDENT_ID, first.id, version=1, actor=IC)
    world.clock.advance(minutes=20)
    second = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    two = await world.gate.approve_and_publish(INCIDENT_ID, second.id, version=1, actor=IC)
    assert one.status_page is not None
    assert one.status_page == two.status_page
    assert [r.status_page_incident_id for r in world.page.requests] == [
        None,
        one.status_page.incident_id,
    ]
    doc = await world.page.real.incidents()
    assert len(doc["incidents"]) == 1
    assert await world.page.public_bodies() == [first.body, second.body]


async def test_newer_drafts_stay_drafts_when_an_older_one_publishes(world: World) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.drafter.text = "A newer update."
    second = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.approve_and_publish(INCIDENT_ID, first.id, version=1, actor=IC)
    assert await world.draft(second.id) == second


async def test_the_resolved_announcement_goes_through_the_same_gate(world: World) -> None:
    incident = await world.incident()
    await world.store.save(incident.transition(IncidentStatus.RESOLVED, at=world.clock.now()))
    draft = await world.gate.create_draft(INCIDENT_ID, actor=IC, kind=DraftKind.RESOLVED)
    with pytest.raises(ApprovalRefused):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=OUTSIDER)
    assert world.page.calls == Counter()
    await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert [r.status for r in world.page.requests] == [PublicStatus.RESOLVED]
    assert (await world.page.real.incidents())["incidents"][0]["status"] == "resolved"


async def test_approving_again_after_publishing_reports_it_without_posting_again(
    world: World,
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    first = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    again = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=APPROVER)
    assert again.status is DraftStatus.PUBLISHED
    assert not again.published_now
    assert (again.published_at, again.status_page) == (first.published_at, first.status_page)
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    with pytest.raises(ApprovalRefused):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=OUTSIDER)


@pytest.mark.parametrize("approvals", [2, 5])
async def test_concurrent_approvals_in_one_process_publish_once(
    world: World, approvals: int
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    actors = [IC, APPROVER] * approvals
    outcomes = await asyncio.gather(
        *(
            world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=actor)
            for actor in actors[:approvals]
        )
    )
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    assert sum(o.published_now for o in outcomes) == 1
    assert {o.status for o in outcomes} == {DraftStatus.PUBLISHED}
    assert len(await world.records(AuditEventType.STATUSPAGE_DRAFT_APPROVED)) == 1
    assert len(await world.records(AuditEventType.STATUSPAGE_PUBLISHED)) == 1


@pytest.mark.parametrize("workers", [2, 5])
async def test_concurrent_approvals_in_separate_workers_publish_once(
    world: World, workers: int
) -> None:
    """Separate gates share nothing but the store: the compare-and-set picks one winner."""
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    gates = [world.new_gate() for _ in range(workers)]
    outcomes = await asyncio.gather(
        *(g.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC) for g in gates)
    )
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})
    assert sum(o.published_now for o in outcomes) == 1
    assert (await world.draft(draft.id)).status is DraftStatus.PUBLISHED
    # the losers saw it approved and left the publishing to the winner
    assert all(o.status in {DraftStatus.APPROVED, DraftStatus.PUBLISHED} for o in outcomes)


async def test_a_concurrent_change_to_the_incident_is_merged_not_lost(world: World) -> None:
    store = ConflictingStore(world.store, conflicts=1)
    gate = world.new_gate(store=store)
    draft = await gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    incident = await world.incident()
    assert incident.drafts == (draft,)
    assert incident.nudges_silenced  # the other writer's change survived
    assert store.conflicts == 0


async def test_an_incident_that_never_stops_changing_gives_up_with_a_clear_error(
    world: World,
) -> None:
    gate = world.new_gate(store=ConflictingStore(world.store, always=True), max_attempts=3)
    with pytest.raises(ConcurrentUpdate, match="3 attempts to save lost"):
        await gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    assert (await world.incident()).drafts == ()


async def test_a_second_draft_waits_while_the_first_is_stuck_publishing(world: World) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.drafter.text = "A newer update."
    second = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.page.fail_before = 1
    with pytest.raises(PublishFailed):
        await world.gate.approve_and_publish(INCIDENT_ID, first.id, version=1, actor=IC)
    with pytest.raises(ApprovalRefused, match=f"draft {first.id} is approved and still being"):
        await world.gate.approve_and_publish(INCIDENT_ID, second.id, version=1, actor=IC)
    assert world.page.calls == Counter()


async def test_a_status_page_outage_keeps_the_approval_and_says_so(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.page.fail_before = 1
    with pytest.raises(PublishFailed, match="status page unreachable") as caught:
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert "recovery will publish it later" in str(caught.value)
    assert (caught.value.draft_id, caught.value.version) == (draft.id, 1)
    stored = await world.draft(draft.id)
    assert stored.status is DraftStatus.APPROVED
    assert len(await world.records(AuditEventType.STATUSPAGE_DRAFT_APPROVED)) == 1
    assert await world.records(AuditEventType.STATUSPAGE_PUBLISHED) == []
    assert await world.page.public_bodies() == []


async def test_a_failing_lookup_on_the_status_page_is_a_publish_failure(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.page.fail_find = 1
    with pytest.raises(PublishFailed, match="did not take draft"):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert world.page.calls == Counter()


async def test_a_nameless_vendor_error_is_still_named(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.page.fail_after = 1
    with pytest.raises(PublishFailed, match="TimeoutError"):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)


async def test_approving_again_retries_a_failed_publish_only_once_it_is_overdue(
    world: World,
) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.page.fail_before = 1
    with pytest.raises(PublishFailed):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    soon = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert (soon.status, soon.published_now) == (DraftStatus.APPROVED, False)
    assert world.page.calls == Counter()
    world.clock.advance(seconds=GRACE.total_seconds())
    later = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert (later.status, later.published_now) == (DraftStatus.PUBLISHED, True)
    assert world.page.calls == Counter({f"{draft.id}:v1": 1})


async def test_approving_an_unknown_draft_or_incident_is_not_found(world: World) -> None:
    with pytest.raises(DraftNotFound):
        await world.gate.approve_and_publish(INCIDENT_ID, "dnope", version=1, actor=IC)
    with pytest.raises(NotFound):
        await world.gate.approve_and_publish("inc-missing", "d1", version=1, actor=IC)


async def test_the_double_implements_the_port(world: World) -> None:
    assert isinstance(world.page, StatusPage)


# -- who may act: the policy, with approvers read live from the roster -----------------------------


def rewrite_roster(world: World, *, approvers: str) -> None:
    """Edit the roster file as an operator would while `serve` runs (a new size and mtime)."""
    assert isinstance(world.db.path, Path)
    path = world.db.path.parent / "roster.yaml"
    text = ROSTER.replace(f"approvers: [{APPROVER}]", f"approvers: [{approvers}]")
    path.write_text(text + f"# edited {world.clock.now().isoformat()}\n", encoding="utf-8")


async def test_an_approver_added_to_the_roster_may_approve_at_once(world: World) -> None:
    draft = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    with pytest.raises(ApprovalRefused, match=f"{OUTSIDER} may not approve"):
        await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=OUTSIDER)

    rewrite_roster(world, approvers=f"{APPROVER}, {OUTSIDER}")

    outcome = await world.gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=OUTSIDER)
    assert outcome.published_now
    assert (await world.draft(draft.id)).approved_by == OUTSIDER


async def test_an_approver_removed_from_the_roster_may_not_approve_any_more(world: World) -> None:
    first = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    await world.gate.approve_and_publish(INCIDENT_ID, first.id, version=1, actor=APPROVER)
    second = await world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)

    rewrite_roster(world, approvers="")

    with pytest.raises(ApprovalRefused, match=f"{APPROVER} may not approve"):
        await world.gate.approve_and_publish(INCIDENT_ID, second.id, version=1, actor=APPROVER)
    with pytest.raises(ApprovalRefused, match=f"{APPROVER} may not reject"):
        await world.gate.reject(INCIDENT_ID, second.id, actor=APPROVER)
    assert (await world.draft(second.id)).status is DraftStatus.DRAFT
    assert world.page.calls[f"{second.id}:v1"] == 0


async def test_only_the_incidents_people_and_approvers_may_draft_or_edit(world: World) -> None:
    before = await world.incident()
    with pytest.raises(NotPermitted, match=f"{OUTSIDER} may not draft or edit") as caught:
        await world.gate.create_draft(INCIDENT_ID, actor=OUTSIDER)
    assert "only the incident's responders, its incident commander" in caught.value.reasons[0]
    draft = await world.gate.create_draft(INCIDENT_ID, actor=APPROVER)
    with pytest.raises(NotPermitted, match=f"{OUTSIDER} may not draft or edit"):
        await world.gate.edit(
            INCIDENT_ID, draft.id, body="Everything is fine.", actor=OUTSIDER, expected_version=1
        )
    with pytest.raises(NotPermitted, match=r"mallory@example\.com is not in the roster"):
        await world.gate.create_draft(INCIDENT_ID, actor="mallory@example.com")
    after = await world.incident()
    assert [d.id for d in after.drafts] == [draft.id]
    assert (await world.draft(draft.id)).version == 1
    assert after.version == before.version + 1


# -- metrics (issue 13): what the gate tells the operators -------------------------------------


@dataclass
class RecordingMetrics:
    """A `Metrics` that keeps what the gate recorded."""

    published: list[tuple[float | None, str]] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)

    def status_update_published(self, *, approval_seconds: float | None, severity: str) -> None:
        self.published.append((approval_seconds, severity))

    def status_update_failed(self, *, severity: str) -> None:
        self.failed.append(severity)

    def __getattr__(self, name: str) -> Any:
        return lambda **_: None


async def test_the_gate_counts_publish_outcomes_and_times_approval_to_published(
    world: World,
) -> None:
    metrics = RecordingMetrics()
    gate = world.new_gate(metrics=metrics)
    draft = await gate.create_draft(INCIDENT_ID, actor=RESPONDER)
    world.page.fail_before = 1
    with pytest.raises(PublishFailed):
        await gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert (metrics.failed, metrics.published) == (["P2"], [])
    world.clock.advance(seconds=90)  # past the grace: recovery publishes the approved text
    await gate.recover(INCIDENT_ID)
    assert metrics.published == [(90.0, "P2")]
    await gate.recover(INCIDENT_ID)  # already on the page: not counted again
    again = await gate.approve_and_publish(INCIDENT_ID, draft.id, version=1, actor=IC)
    assert not again.published_now
    assert metrics.published == [(90.0, "P2")]
