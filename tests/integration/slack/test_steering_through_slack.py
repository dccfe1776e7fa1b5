"""Steering the incident from Slack: `/incident-response severity`, `stage` and `role` change it,
the channel's topic in the fake Slack follows, role holders are mentioned the way Slack notifies
them, and a raise pages the on-call by direct message."""

from __future__ import annotations

from incident_response.domain.alert import Severity
from incident_response.domain.context import PublicStatus
from incident_response.domain.incident import IncidentRole
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import FakeSlackProbe
from tests.integration.slack.test_lifecycle_through_slack import ALICE, Room, eventually
from tests.integration.slack.test_lifecycle_through_slack import room as room  # fixtures
from tests.integration.slack.test_lifecycle_through_slack import world as world


async def test_severity_stage_and_role_from_slack_follow_in_the_topic(room: Room) -> None:
    slack, probe = room.slack, FakeSlackProbe(room.slack)
    steps = (
        ("severity P3", "Severity lowered from P1 to P3"),
        ("stage identified", "Stage moved from investigating to identified"),
        ("role comms <@U0CAROL|carol>", "is now the communications lead"),
    )
    for text, line in steps:  # one after the other, as a person types them
        await slack.send_slash_command(text=text, user_id=ALICE, channel_id=room.channel)
        await eventually(lambda line=line: _said(probe, room, line))

    expected = "P3 · checkout · IC: Alice Martin · status: identified · comms: Carol Nguyen"

    assert await probe.topic(room.channel) == expected
    current = await room.current()
    assert current.severity is Severity.P3
    assert current.stage is PublicStatus.IDENTIFIED
    assert current.roles == {IncidentRole.COMMS: "carol@example.com"}
    texts = await probe.texts(room.channel)
    assert any(t.startswith("Severity lowered from P1 to P3 by Alice Martin") for t in texts)
    assert any(
        t.startswith("<@U0CAROL> (carol@example.com) is now the communications lead") for t in texts
    )


async def test_a_raise_from_slack_pages_the_on_call_directly(room: Room) -> None:
    slack: FakeSlack = room.slack
    probe = FakeSlackProbe(slack)
    await slack.send_slash_command(text="severity P3", user_id=ALICE, channel_id=room.channel)
    await eventually(lambda: _is(room, Severity.P3))

    await slack.send_slash_command(text="severity P1", user_id=ALICE, channel_id=room.channel)
    await eventually(lambda: _is(room, Severity.P1))

    async def paged() -> list[str]:
        return [t for t in await probe.direct_texts("U0BOB") if "raised from P3 to P1" in t]

    assert await eventually(paged)
    assert [t for t in await probe.direct_texts(ALICE) if "raised from P3 to P1" in t]

    async def topic_raised() -> bool:
        return (await probe.topic(room.channel)).startswith("P1 · checkout")

    await eventually(topic_raised)


async def _is(room: Room, severity: Severity) -> bool:
    return (await room.current()).severity is severity


async def _said(probe: FakeSlackProbe, room: Room, line: str) -> bool:
    return any(line in t for t in await probe.texts(room.channel))
