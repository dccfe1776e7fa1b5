"""Grafana OnCall adapter against the fake Grafana OnCall: the walk from alert group to the
people on call, pagination, acknowledging, the roster standing in when Grafana cannot answer
(5xx, time-out, open circuit, unknown alert group, no alert group), and the credential probe."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import structlog

from incident_response.http import VendorError
from tests.fakes.grafana_oncall import FakeGrafanaOnCall
from tests.support.grafana_oncall import OnCallWorld, oncall_world

AT = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)

ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com, chat_id: UALICE}
  - {name: Bob Okafor, email: bob@example.com, chat_id: UBOB}
  - {name: Carol Nguyen, email: carol@example.com}
  - {name: Erin Silva, email: erin@example.com, chat_id: UERIN}
  - {name: Dan Kowalski, email: dan@example.com}
teams:
  payments: [alice@example.com, bob@example.com]
services:
  checkout: payments
rotations:
  default: {primary: erin@example.com, secondary: dan@example.com}
"""


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[OnCallWorld]:
    path = tmp_path / "roster.yaml"
    path.write_text(ROSTER, encoding="utf-8")
    async with oncall_world(path, call_timeout=0.2) as built:
        yield built


class Seeded:
    def __init__(self, fake: FakeGrafanaOnCall) -> None:
        self.alice = fake.add_user("alice@example.com")
        self.bob = fake.add_user("bob@example.com")
        self.carol = fake.add_user("carol@example.com")
        self.zed = fake.add_user("zed@example.com", timezone="Europe/Paris")
        self.primary = fake.add_schedule("primary", fixed=[self.alice])
        self.secondary = fake.add_schedule("secondary", fixed=[self.bob])
        self.chain = fake.add_chain(
            {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": self.primary},
            {"type": "wait", "duration": 600},
            {"type": "notify_persons", "persons_to_notify": [self.carol]},
            {
                "type": "notify_on_call_from_schedule",
                "notify_on_call_from_schedule": self.secondary,
            },
        )
        self.group = fake.add_alert_group(self.chain)


def emails(shift: object) -> tuple[str | None, str | None]:
    primary, secondary = shift.primary, shift.secondary  # type: ignore[attr-defined]
    return (primary.email if primary else None, secondary.email if secondary else None)


# -- the walk ------------------------------------------------------------------------------------


async def test_primary_and_secondary_are_the_chains_schedules_on_call_now(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("alice@example.com", "bob@example.com")
    assert shift.note == ""
    assert shift.primary is not None
    assert (shift.primary.name, shift.primary.chat_id) == ("Alice Martin", "UALICE")
    paths = [c.path for c in world.fake.calls]
    assert paths[:4] == [
        f"/api/v1/alert_groups/{seeded.group}",
        f"/api/v1/routes/{world.fake._group_doc(world.fake.alert_groups[seeded.group])['route_id']}/",
        "/api/v1/escalation_policies/",
        f"/api/v1/schedules/{seeded.primary}/",
    ]
    assert world.fake.calls[2].query == {"escalation_chain_id": seeded.chain}
    assert all(c.headers["Authorization"] == "oncall-token" for c in world.fake.calls)
    assert world.fake.violations == []


async def test_with_one_schedule_the_secondary_is_the_next_person_the_chain_names(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)
    world.fake.schedules[seeded.secondary].fixed = []

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("alice@example.com", "carol@example.com")


async def test_two_people_on_call_in_the_first_schedule_are_primary_and_secondary(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)
    world.fake.schedules[seeded.primary].fixed = [seeded.zed, seeded.alice]

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("zed@example.com", "alice@example.com")
    assert shift.primary is not None  # not in the directory: Grafana's own name and timezone
    assert (shift.primary.name, shift.primary.timezone) == ("zed", "Europe/Paris")


async def test_nobody_on_call_is_said_not_replaced_by_the_roster(world: OnCallWorld) -> None:
    chain = world.fake.add_chain({"type": "wait", "duration": 60})
    group = world.fake.add_alert_group(chain)

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=group)

    assert emails(shift) == (None, None)
    assert f"nobody is on call now in chain {chain}" in shift.note


async def test_the_chains_policies_are_read_page_after_page(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    world.fake.page_size = 1

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("alice@example.com", "bob@example.com")
    pages = [c.query.get("page") for c in world.fake.calls_to("GET", "/api/v1/escalation_policies")]
    assert pages == [None, "2", "3", "4"]
    assert world.fake.violations == []


async def test_a_chain_longer_than_the_cap_is_read_to_the_cap_with_a_warning(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)
    world.fake.page_size = 1
    world.oncall._max_pages = 3

    with structlog.testing.capture_logs() as logs:
        shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    # the 4th policy (the secondary schedule) is beyond the cap: carol, named in the 3rd, follows
    assert emails(shift) == ("alice@example.com", "carol@example.com")
    assert len(world.fake.calls_to("GET", "/api/v1/escalation_policies")) == 3
    assert any(e["event"] == "grafana_oncall.list_capped" for e in logs)


async def test_routes_chains_and_users_are_kept_schedules_are_read_each_time(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)
    await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)
    world.fake.schedules[seeded.primary].fixed = [seeded.carol]
    calls = len(world.fake.calls)

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("carol@example.com", "bob@example.com")
    assert [c.path.split("/")[3] for c in world.fake.calls[calls:]] == [
        "alert_groups",
        "schedules",
        "schedules",
        "users",  # carol, not read before
    ]


# -- Grafana failing: the roster stands in -------------------------------------------------------


async def test_a_5xx_on_a_read_is_retried(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    world.fake.fail_next(2, status=502, only="/api/v1/alert_groups")

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("alice@example.com", "bob@example.com")
    assert len(world.fake.calls_to("GET", "/api/v1/alert_groups")) == 3


async def test_a_429_is_waited_out_for_its_retry_after(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    world.fake.fail_next(1, status=429, retry_after=4, body={"detail": "Request was throttled."})

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("alice@example.com", "bob@example.com")
    assert 4.0 in world.ticks.slept


async def test_the_roster_answers_when_grafana_keeps_failing(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    world.fake.fail_next(3, status=503)

    with structlog.testing.capture_logs() as logs:
        shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("erin@example.com", "dan@example.com")
    assert shift.note.startswith("from the roster: Grafana OnCall could not say (HTTP 503")
    warned = [e for e in logs if e["event"] == "grafana_oncall.roster_stands_in"]
    assert warned[0]["log_level"] == "warning"
    assert warned[0]["alert_group_id"] == seeded.group


async def test_the_roster_answers_when_grafana_does_not_answer_in_time(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)
    world.fake.stall_next(3, seconds=0.6)

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("erin@example.com", "dan@example.com")
    assert "no answer within 0.2 s" in shift.note


async def test_the_roster_answers_at_once_while_the_circuit_is_open(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    breaker = world.http.breakers["grafana-oncall"]
    for _ in range(breaker.policy.failures):
        breaker.failed()

    shift = await world.oncall.shift("checkout", at=AT, alert_group_id=seeded.group)

    assert emails(shift) == ("erin@example.com", "dan@example.com")
    assert "circuit open" in shift.note
    assert world.fake.calls == []


async def test_an_alert_group_grafana_does_not_know_is_answered_by_the_roster(
    world: OnCallWorld,
) -> None:
    shift = await world.oncall.shift("checkout", at=AT, alert_group_id="INOSUCHGROUP")

    assert emails(shift) == ("erin@example.com", "dan@example.com")
    assert "HTTP 404" in shift.note


async def test_without_an_alert_group_the_roster_answers_and_says_so(world: OnCallWorld) -> None:
    shift = await world.oncall.shift("checkout", at=AT)

    assert emails(shift) == ("erin@example.com", "dan@example.com")
    assert shift.note == "from the roster: this incident has no Grafana OnCall alert group"
    assert world.fake.calls == []


async def test_an_id_that_is_not_grafanas_never_reaches_a_url(world: OnCallWorld) -> None:
    shift = await world.oncall.shift("checkout", at=AT, alert_group_id="../users")

    assert "not a Grafana OnCall id" in shift.note
    with pytest.raises(VendorError, match="not a Grafana OnCall id"):
        await world.oncall.acknowledge("I1/../../users")
    assert world.fake.calls == []


# -- acknowledging -------------------------------------------------------------------------------


async def test_acknowledge_acknowledges_the_alert_group(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)

    assert await world.oncall.acknowledge(seeded.group) is True

    assert world.fake.alert_groups[seeded.group].state == "acknowledged"
    posted = world.fake.calls_to("POST", "/api/v1/alert_groups")
    assert [c.path for c in posted] == [f"/api/v1/alert_groups/{seeded.group}/acknowledge"]


async def test_acknowledging_an_acknowledged_group_is_true_a_resolved_one_false(
    world: OnCallWorld,
) -> None:
    seeded = Seeded(world.fake)
    world.fake.alert_groups[seeded.group].state = "acknowledged"
    resolved = world.fake.add_alert_group(seeded.chain, state="resolved")

    assert await world.oncall.acknowledge(seeded.group) is True
    assert await world.oncall.acknowledge(resolved) is False


async def test_acknowledge_is_retried_through_a_5xx(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    world.fake.fail_next(1, status=503)

    assert await world.oncall.acknowledge(seeded.group) is True
    assert len(world.fake.calls_to("POST", "/api/v1/alert_groups")) == 2


async def test_acknowledge_failing_raises_for_the_caller_to_report(world: OnCallWorld) -> None:
    seeded = Seeded(world.fake)
    world.fake.fail_next(3, status=500)

    with pytest.raises(VendorError, match=r"grafana-oncall POST .* failed: HTTP 500"):
        await world.oncall.acknowledge(seeded.group)
    assert world.fake.alert_groups[seeded.group].state == "firing"


# -- probe ---------------------------------------------------------------------------------------


async def test_probe_lists_users(world: OnCallWorld) -> None:
    Seeded(world.fake)

    assert await world.oncall.probe() == "Grafana OnCall reachable, 4 users"


async def test_probe_with_a_bad_token_says_so(world: OnCallWorld) -> None:
    world.fake.token = "another-token"

    with pytest.raises(VendorError, match="grafana-oncall GET /api/v1/users/ failed: HTTP 401"):
        await world.oncall.probe()
