"""Conformance suite for the LLM port (drafts only: nothing here publishes).

Subclass `LLMContract` and provide `llm`, the adapter under test (for a hosted model, wired to a
fake endpoint). Every adapter must keep people's e-mail addresses and internal hostnames out of
customer-facing drafts, whatever the model says.
"""

from __future__ import annotations

import re
from datetime import timedelta

from incident_response.domain.audit import AuditEvent, AuditEventType, seal
from incident_response.domain.context import PublicStatus
from incident_response.ports import LLM, PostmortemContext, StatusContext
from tests.contract.incident_samples import LABELS, STARTED, sample_incident
from tests.support.audit import AUDIT_KEY

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def status_context(status: PublicStatus = PublicStatus.INVESTIGATING) -> StatusContext:
    return StatusContext(incident=sample_incident(), public_status=status.value)


def postmortem_context() -> PostmortemContext:
    incident = sample_incident()
    opened = seal(
        AuditEvent(
            incident_id=incident.id,
            type=AuditEventType.INCIDENT_OPENED,
            key="opened",
            at=STARTED,
        ),
        1,
        "0" * 64,
        AUDIT_KEY,
    )
    resolved = seal(
        AuditEvent(
            incident_id=incident.id,
            type=AuditEventType.INCIDENT_RESOLVED,
            key="resolved",
            at=STARTED + timedelta(minutes=42),
            actor="alice@example.com",
        ),
        2,
        opened.hash,
        AUDIT_KEY,
    )
    return PostmortemContext(incident=incident, timeline=(opened, resolved))


class LLMContract:
    async def test_adapter_implements_the_port(self, llm: LLM) -> None:
        assert isinstance(llm, LLM)

    async def test_a_status_draft_is_text_for_every_public_status(self, llm: LLM) -> None:
        for status in PublicStatus:
            text = await llm.draft_status_update(status_context(status))
            assert text.strip()

    async def test_a_status_draft_names_no_one(self, llm: LLM) -> None:
        for status in PublicStatus:
            text = await llm.draft_status_update(status_context(status))
            assert not EMAIL.search(text), text
            assert "Alice" not in text
            assert "Bob" not in text

    async def test_a_status_draft_keeps_internal_hosts_inside(self, llm: LLM) -> None:
        text = await llm.draft_status_update(status_context())
        assert LABELS["instance"] not in text
        assert LABELS["pod"] not in text

    async def test_a_postmortem_draft_is_markdown_text(self, llm: LLM) -> None:
        text = await llm.draft_postmortem(postmortem_context())
        assert text.strip()
        assert "#" in text

    async def test_classification_answers_yes_or_no(self, llm: LLM) -> None:
        for text in ("Posted to the status page: investigating", "restarted the pods"):
            assert isinstance(await llm.is_status_update(text), bool)
