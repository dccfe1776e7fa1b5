"""A state machine over the gate: drafting, editing, approvals by the right and wrong people,
concurrent approvals, rejections, status page crashes and recovery, in any order.

Whatever happens, the status page only ever holds content (text, name, stage, impact,
components) whose exact version the IC or an approver approved, no key is posted twice, and no
draft publishes after a newer one.
"""

from __future__ import annotations

import asyncio
import shutil
import tempfile
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    Bundle,
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

from incident_response.adapters.embedded.db import Database
from incident_response.domain.audit import AuditEventType
from incident_response.domain.context import PublishRequest
from incident_response.domain.incident import IncidentStatus
from incident_response.domain.status_update import DraftKind, DraftStatus, content_hash
from incident_response.domain.text import clean_text
from incident_response.services.authority import NotPermitted
from incident_response.services.status_update_gate import (
    ApprovalRefused,
    DraftSuperseded,
    InvalidDraft,
    PublishFailed,
    StaleDraftVersion,
    StatusUpdateGate,
)
from tests.support.clock import ManualClock
from tests.unit.test_status_update_gate import (
    APPROVER,
    GRACE,
    IC,
    INCIDENT_ID,
    OUTSIDER,
    RESPONDER,
    World,
    build_world,
)

T = TypeVar("T")
ALLOWED = {IC, APPROVER}
PEOPLE = st.sampled_from([IC, APPROVER, OUTSIDER, RESPONDER])
DRAFTERS = st.sampled_from([IC, APPROVER, RESPONDER])  # the outsider's drafts are refused
BODIES = st.one_of(
    st.sampled_from(["", "  ", "We are investigating.", "A fix is rolling out."]),
    st.text(max_size=30),
)
EXPECTED = (ApprovalRefused, StaleDraftVersion, PublishFailed, DraftSuperseded)


def published_content(request: PublishRequest) -> dict[str, Any]:
    """What the page was asked to show, in the shape a draft's content hash covers."""
    return {
        "body": request.body,
        "title": request.incident_name,
        "stage": request.status.value,
        "impact": request.impact.value,
        "components": [{"name": name} for name in request.components],
    }


class GateMachine(RuleBasedStateMachine):
    drafts = Bundle("drafts")

    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = Path(tempfile.mkdtemp(prefix="gate-machine-"))
        self.db = Database(self.tmp / "gate.sqlite3")
        self.world: World = self.run(self._open())
        # a second worker on the same store and audit log, as in a two-process deployment
        self.workers: list[StatusUpdateGate] = [self.world.gate, self.world.new_gate()]

    async def _open(self) -> World:
        await self.db.open()
        return await build_world(self.db, ManualClock())

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @initialize(target=drafts)
    def first_draft(self) -> str:
        return self.run(self.world.gate.create_draft(INCIDENT_ID, actor=RESPONDER)).id

    @rule(target=drafts, kind=st.sampled_from(DraftKind), actor=DRAFTERS, worker=st.integers(0, 1))
    def create(self, kind: DraftKind, actor: str, worker: int) -> str:
        return self.run(self.workers[worker].create_draft(INCIDENT_ID, actor=actor, kind=kind)).id

    @rule(draft_id=drafts, body=BODIES, stale=st.booleans(), actor=PEOPLE)
    def edit(self, draft_id: str, body: str, stale: bool, actor: str) -> None:
        before = self.run(self.world.draft(draft_id))
        expected = before.version - 1 if stale else before.version
        try:
            after = self.run(
                self.world.gate.edit(
                    INCIDENT_ID, draft_id, body=body, actor=actor, expected_version=expected
                )
            )
        except (InvalidDraft, StaleDraftVersion, DraftSuperseded, NotPermitted):
            assert self.run(self.world.draft(draft_id)) == before
            return
        assert actor != OUTSIDER
        assert not stale
        assert before.status is DraftStatus.DRAFT
        assert after.body == clean_text(body)  # pasted control characters are removed
        assert after.version == before.version + (after.body != before.body)

    @rule(draft_id=drafts, actor=PEOPLE, stale=st.booleans(), worker=st.integers(0, 1))
    def approve(self, draft_id: str, actor: str, stale: bool, worker: int) -> None:
        draft = self.run(self.world.draft(draft_id))
        version = draft.version - 1 if stale else draft.version
        gate = self.workers[worker]
        approval = gate.approve_and_publish(INCIDENT_ID, draft_id, version=version, actor=actor)
        if actor not in ALLOWED:
            with pytest.raises(ApprovalRefused):
                self.run(approval)
            return
        try:
            outcome = self.run(approval)
        except EXPECTED:
            return
        assert not stale
        assert outcome.status in {DraftStatus.APPROVED, DraftStatus.PUBLISHED}

    @rule(
        draft_id=drafts,
        actors=st.tuples(PEOPLE, PEOPLE),
        workers=st.tuples(st.integers(0, 1), st.integers(0, 1)),
    )
    def approve_concurrently(
        self, draft_id: str, actors: tuple[str, str], workers: tuple[int, int]
    ) -> None:
        version = self.run(self.world.draft(draft_id)).version

        async def both() -> list[Any]:
            return await asyncio.gather(
                *(
                    self.workers[w].approve_and_publish(
                        INCIDENT_ID, draft_id, version=version, actor=a
                    )
                    for a, w in zip(actors, workers, strict=True)
                ),
                return_exceptions=True,
            )

        for actor, result in zip(actors, self.run(both()), strict=True):
            if isinstance(result, BaseException):
                assert isinstance(result, EXPECTED), repr(result)
            else:
                assert actor in ALLOWED

    @rule(draft_id=drafts, actor=PEOPLE)
    def reject(self, draft_id: str, actor: str) -> None:
        try:
            self.run(self.world.gate.reject(INCIDENT_ID, draft_id, actor=actor, reason="no"))
        except (ApprovalRefused, InvalidDraft, DraftSuperseded):
            return
        assert actor in ALLOWED

    @rule(mode=st.sampled_from(["before", "after", "find"]))
    def crash_next_publish(self, mode: str) -> None:
        page = self.world.page
        if mode == "before":
            page.fail_before += 1
        elif mode == "after":
            page.fail_after += 1
        else:
            page.fail_find += 1

    @rule(seconds=st.sampled_from([1, 30, GRACE.total_seconds()]))
    def time_passes(self, seconds: float) -> None:
        self.world.clock.advance(seconds=seconds)

    @rule(worker=st.integers(0, 1))
    def recover(self, worker: int) -> None:
        report = self.run(self.workers[worker].recover_all())
        for problem in report.failures.values():
            assert "did not take" in problem, problem

    @rule()
    def mitigate_or_reopen(self) -> None:
        incident = self.run(self.world.incident())
        target = (
            IncidentStatus.ASSEMBLED
            if incident.status is IncidentStatus.MITIGATED
            else IncidentStatus.MITIGATED
        )
        now = self.world.clock.now()
        self.run(self.world.store.save(incident.transition(target, at=now)))

    # -- what must always hold ---------------------------------------------------------------

    @invariant()
    def no_key_is_published_twice(self) -> None:
        assert all(n == 1 for n in self.world.page.calls.values()), self.world.page.calls

    @invariant()
    def the_page_holds_only_approved_text(self) -> None:
        approvals = self.run(self.world.records(AuditEventType.STATUSPAGE_DRAFT_APPROVED))
        approved = {
            (r.data["draft_id"], r.data["version"], r.data["content_hash"]) for r in approvals
        }
        assert all(r.data["approved_by"] in ALLOWED for r in approvals)
        for request in self.world.page.requests:
            draft_id, version = request.key.split(":v")
            assert (draft_id, int(version), content_hash(published_content(request))) in approved
        approved_bodies = {r.data["body"] for r in approvals}
        for body in self.run(self.world.page.public_bodies()):
            assert body in approved_bodies

    @invariant()
    def no_draft_publishes_after_a_newer_one(self) -> None:
        order = [d.id for d in self.run(self.world.incident()).drafts]
        published = [r.key.split(":v")[0] for r in self.world.page.requests]
        positions = [order.index(d) for d in dict.fromkeys(published)]
        assert positions == sorted(positions), (published, order)

    @invariant()
    def a_published_draft_is_what_the_page_shows(self) -> None:
        incident = self.run(self.world.incident())
        for draft in incident.drafts:
            if draft.status is DraftStatus.PUBLISHED:
                key = f"{draft.id}:v{draft.version}"
                assert self.run(self.world.page.real.find_published(key)) is not None
                assert self.world.page.calls[key] == 1
        assert sum(d.status is DraftStatus.APPROVED for d in incident.drafts) <= 1

    @invariant()
    def the_audit_chain_holds(self) -> None:
        assert self.run(self.world.audit.verify(INCIDENT_ID)).ok


GateMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=20,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestGateStateMachine = GateMachine.TestCase
