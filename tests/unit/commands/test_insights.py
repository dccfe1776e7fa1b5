"""`insights`: the weekly figures in a chat reply, for anyone in the roster, anywhere."""

from __future__ import annotations

from datetime import timedelta

from incident_response.domain.alert import Severity
from incident_response.domain.incident import IncidentStatus
from tests.unit.commands.world import World


async def test_insights_lists_the_last_weeks_newest_first(world: World) -> None:
    incident = await world.open_incident()  # Thursday 2026-11-26, ISO week 2026-W48
    await world.store.save(
        incident.transition(IncidentStatus.RESOLVED, at=incident.created_at + timedelta(hours=1))
    )
    await world.open_incident(incident_id="inc-0002", severity=Severity.P1)

    reply = await world.command("insights", actor="carol@example.com", incident_id=None)

    assert reply.ok, reply.text
    lines = reply.text.splitlines()
    assert lines[0].startswith("Insights 2026-W45 to 2026-W48: 2 incidents, 1 still open;")
    assert "MTTR 1h 00m (median 1h 00m, 1)" in lines[0]
    assert "MTTA 0s (median 0s, 2)" in lines[0]  # assembled with an IC at once
    assert lines[1].startswith("- 2026-W48: 2 incidents")
    assert lines[1].endswith("P1 1, P2 1; checkout 2")
    assert lines[2:5] == [
        "- 2026-W47: no incidents",
        "- 2026-W46: no incidents",
        "- 2026-W45: no incidents",
    ]
    assert "still open are counted but not in MTTR" in lines[5]
    assert reply.data["incidents"] == 2
    assert reply.data["mttr_seconds"] == 3600


async def test_insights_filters_by_weeks_service_and_severity(world: World) -> None:
    await world.open_incident()

    reply = await world.command("insights weeks 1 service search severity p1")

    assert reply.ok, reply.text
    assert reply.text.startswith("Insights 2026-W48 to 2026-W48 (search, P1): 0 incidents")
    assert "MTTA no data" in reply.text
    checkout = await world.command("insights weeks 1 service checkout")
    assert checkout.data["incidents"] == 1


async def test_insights_refuses_words_it_cannot_read(world: World) -> None:
    await world.open_incident()
    for words, says in [
        ("insights weeks 0", "weeks must be a whole number from 1 to 104"),
        ("insights weeks", "`weeks` needs a value"),
        ("insights severity P9", "severity must be one of P1, P2, P3, P4"),
        ("insights colour red", "`colour` is not something insights can filter by"),
    ]:
        reply = await world.command(words)
        assert not reply.ok, words
        assert says in reply.text
        assert "Usage: `insights [weeks N] [service NAME] [severity P1]`" in reply.text
