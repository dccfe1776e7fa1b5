"""Postmortem drafts on request: written like the resolver's from the record, filed nowhere; the
filed text once there is one to show; a code host that fails costs the changes, not the draft."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from incident_response.domain.audit import AuditRecord
from incident_response.domain.context import Change
from incident_response.domain.errors import NotFound
from incident_response.domain.incident import Incident, PostmortemRef
from incident_response.ports import PostmortemContext
from incident_response.services.postmortem import PostmortemWriter
from incident_response.services.postmortem_drafts import PostmortemDrafts
from incident_response.services.resolution_steps import Step
from tests.contract.incident_samples import STARTED, sample_incident
from tests.support.clock import ManualClock

CHANGE = Change(
    repo="acme/checkout", sha="0123456789abcdef", title="Raise pool size", author="dan", at=STARTED
)


class Store:
    def __init__(self, *incidents: Incident) -> None:
        self.incidents = {i.id: i for i in incidents}

    async def get(self, incident_id: str, *, consistent: bool = False) -> Incident | None:
        return self.incidents.get(incident_id)


class Audit:
    async def records(self, incident_id: str) -> list[AuditRecord]:
        return []


class Drafter:
    def __init__(self) -> None:
        self.contexts: list[PostmortemContext] = []

    async def draft_status_update(self, context: Any) -> str:
        raise AssertionError("not asked")

    async def draft_postmortem(self, context: PostmortemContext) -> str:
        self.contexts.append(context)
        return f"# Postmortem of {context.incident.id}\n"


class CodeHost:
    def __init__(self, *, fails: bool = False) -> None:
        self.fails = fails
        self.asked: list[tuple[str, datetime, datetime]] = []

    async def recent_changes(
        self, *, service: str, since: datetime, until: datetime
    ) -> list[Change]:
        self.asked.append((service, since, until))
        if self.fails:
            raise ConnectionError("github unreachable")
        return [CHANGE]


class Files:
    def __init__(self, texts: dict[str, str]) -> None:
        self.texts = texts

    async def read(self, name: str) -> str | None:
        return self.texts.get(name)


def drafts(
    incident: Incident, *, code_host: CodeHost | None = None, files: dict[str, str] | None = None
) -> tuple[PostmortemDrafts, Drafter]:
    drafter = Drafter()
    built = PostmortemDrafts(
        store=Store(incident),  # type: ignore[arg-type]
        writer=PostmortemWriter(llm=drafter, audit=Audit()),  # type: ignore[arg-type]
        code_host=code_host or CodeHost(),
        files=Files(files or {}),
        clock=ManualClock(STARTED + timedelta(hours=1)),
    )
    return built, drafter


async def test_an_open_incident_is_drafted_with_the_code_hosts_changes_and_filed_nowhere() -> None:
    incident = sample_incident()
    host = CodeHost()
    built, drafter = drafts(incident, code_host=host)
    draft = await built.for_incident(incident.id)
    assert (draft.source, draft.filed) == ("draft", None)
    assert draft.markdown == f"# Postmortem of {incident.id}\n"
    assert drafter.contexts[0].changes == (CHANGE,)
    assert host.asked == [("checkout", STARTED - timedelta(hours=24), STARTED + timedelta(hours=1))]


async def test_a_failing_code_host_costs_the_changes_not_the_draft() -> None:
    incident = sample_incident()
    built, drafter = drafts(incident, code_host=CodeHost(fails=True))
    draft = await built.for_incident(incident.id)
    assert draft.source == "draft"
    assert drafter.contexts[0].changes == ()


async def test_the_changes_the_resolution_recorded_are_used_as_they_are() -> None:
    recorded = {Step.CHANGES.value: {"changes": [CHANGE.model_dump(mode="json")], "count": 1}}
    incident = sample_incident(resolution_steps=recorded)
    host = CodeHost()
    built, drafter = drafts(incident, code_host=host)
    await built.for_incident(incident.id)
    assert drafter.contexts[0].changes == (CHANGE,)
    assert host.asked == []


async def test_once_filed_the_filed_text_comes_back_when_the_tracker_can_show_it() -> None:
    ref = PostmortemRef(id="2026-11-26-inc", url="http://x/console/postmortems/2026-11-26-inc")
    incident = sample_incident(postmortem=ref)
    shown, drafter = drafts(incident, files={ref.id: "# As filed\n"})
    draft = await shown.for_incident(incident.id)
    assert (draft.source, draft.filed, draft.markdown) == ("filed", ref, "# As filed\n")
    assert drafter.contexts == []

    elsewhere, _ = drafts(incident)  # filed in a tracker this process cannot read (Linear)
    fresh = await elsewhere.for_incident(incident.id)
    assert (fresh.source, fresh.filed) == ("draft", ref)
    assert fresh.as_json()["filed"] == {"id": ref.id, "url": ref.url}


async def test_an_unknown_incident_is_not_found() -> None:
    built, _ = drafts(sample_incident())
    with pytest.raises(NotFound, match="no incident inc-nope"):
        await built.for_incident("inc-nope")
