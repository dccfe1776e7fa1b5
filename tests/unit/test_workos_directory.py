"""WorkOS Directory Sync adapter against the fake WorkOS: pagination and its cap, WorkOS's rate
limit, retries, time-outs, the circuit breaker and the stale-cache fallback, team mapping, the
roster's chat ids, the credential probe, and the team map's settings."""

from __future__ import annotations

from pathlib import Path

import pytest
import structlog

from incident_response.adapters.workos.directory import Limits, WorkOSDirectory
from incident_response.config import ConfigurationError, load_settings, parse_team_group_map
from incident_response.http import CircuitOpen, VendorError
from tests.support.workos import API_KEY, DIRECTORY, OTHER_DIRECTORY, workos_world

EVERYONE = ["alice@example.com", "bob@example.com", "carol@example.com", "dan@example.com"]


def emails(people: list[object]) -> list[str]:
    return sorted(p.email for p in people)  # type: ignore[attr-defined]


# -- pagination ----------------------------------------------------------------------------------


async def test_people_are_read_page_after_page_while_workos_gives_a_cursor(
    tmp_path: Path,
) -> None:
    async with workos_world(tmp_path, limits=Limits(page_size=2)) as world:
        assert emails(await world.directory.people()) == EVERYONE

        calls = world.fake.calls_to("GET", "/directory_users")
        # five users in the directory (one suspended), two a page: three pages
        assert len(calls) == 3
        assert all(c.query["directory"] == DIRECTORY and c.query["limit"] == "2" for c in calls)
        cursors = [c.query.get("after") for c in calls]
        assert cursors[0] is None
        assert cursors[1]
        assert cursors[2]
        assert cursors[1] != cursors[2]
        assert world.fake.violations == []


@pytest.mark.parametrize("limits", [Limits(page_size=2, max_pages=2), Limits(2, 50, 3)])
async def test_a_listing_stops_at_its_cap_with_a_warning_and_uses_what_it_read(
    tmp_path: Path, limits: Limits
) -> None:
    async with workos_world(tmp_path, limits=limits) as world:
        with structlog.testing.capture_logs() as logs:
            people = await world.directory.people()

        # newest first: eve (suspended), dan | carol, bob | alice is beyond the cap
        assert "alice@example.com" not in emails(people)
        assert "dan@example.com" in emails(people)
        assert len(world.fake.calls_to("GET", "/directory_users")) == 2
        capped = [e for e in logs if e["event"] == "workos.listing_capped"]
        assert capped
        assert capped[0]["log_level"] == "warning"


# -- WorkOS failing ------------------------------------------------------------------------------


async def test_a_429_is_waited_out_for_exactly_its_retry_after(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        world.fake.fail_next(
            1,
            status=429,
            retry_after=3,
            body={"message": "Rate limit exceeded"},
            only="/directory_users",
        )

        assert emails(await world.directory.people()) == EVERYONE
        assert 3.0 in world.ticks.slept
        assert len(world.fake.calls_to("GET", "/directory_users")) == 2


async def test_a_5xx_is_retried(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        world.fake.fail_next(2, status=503)

        assert emails(await world.directory.people()) == EVERYONE
        assert len(world.fake.calls_to("GET", "/directory_users")) == 3


async def test_a_stalled_read_times_out_and_is_tried_again(tmp_path: Path) -> None:
    async with workos_world(tmp_path, call_timeout=0.2) as world:
        world.fake.stall_next(1, seconds=1.0)

        assert emails(await world.directory.people()) == EVERYONE
        assert len(world.fake.calls_to("GET", "/directory_users")) == 2


async def test_the_first_read_failing_is_a_clear_error(tmp_path: Path) -> None:
    async with workos_world(tmp_path, call_timeout=0.2) as world:
        world.fake.fail_next(3, status=503)

        with pytest.raises(VendorError) as failed:
            await world.directory.people()

        message = str(failed.value)
        assert "workos GET /directory_users failed: HTTP 503" in message
        assert "no earlier answer to fall back on" in message
        assert failed.value.transient


async def test_after_a_good_read_a_failing_workos_is_answered_from_the_last_one(
    tmp_path: Path,
) -> None:
    async with workos_world(tmp_path) as world:
        assert emails(await world.directory.people()) == EVERYONE
        world.fake.add_user(DIRECTORY, "frank@example.com", first_name="Frank")
        world.clock.advance(minutes=6)  # the read is stale now
        world.fake.fail_next(3, status=502)

        with structlog.testing.capture_logs() as logs:
            people = await world.directory.people()
            person = await world.directory.person("alice@example.com")

        assert emails(people) == EVERYONE
        assert person is not None
        assert person.chat_id == "U0ALICE"
        stale = [e for e in logs if e["event"] == "directory.stale_answer_served"]
        assert stale
        assert stale[0]["log_level"] == "warning"
        assert stale[0]["age_seconds"] == 360
        # WorkOS back: the next read refreshes (the stale answer was not re-stamped as fresh)
        assert "frank@example.com" in emails(await world.directory.people())


async def test_an_open_circuit_is_answered_from_the_last_read_without_calling(
    tmp_path: Path,
) -> None:
    async with workos_world(tmp_path) as world:
        assert emails(await world.directory.people()) == EVERYONE
        calls = len(world.fake.calls)
        breaker = world.http.breakers["workos"]
        for _ in range(breaker.policy.failures):
            breaker.failed()
        world.clock.advance(minutes=6)

        assert emails(await world.directory.people()) == EVERYONE
        assert len(world.fake.calls) == calls


async def test_an_open_circuit_with_nothing_read_yet_is_the_error(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        breaker = world.http.breakers["workos"]
        for _ in range(breaker.policy.failures):
            breaker.failed()

        with pytest.raises(CircuitOpen, match="circuit open"):
            await world.directory.people()
        assert world.fake.calls == []


async def test_within_five_minutes_the_directory_is_not_read_again(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        await world.directory.people()
        world.fake.add_user(DIRECTORY, "frank@example.com", first_name="Frank")
        world.clock.advance(minutes=4)
        assert "frank@example.com" not in emails(await world.directory.people())
        world.clock.advance(minutes=1)
        assert "frank@example.com" in emails(await world.directory.people())


# -- the pace ------------------------------------------------------------------------------------


async def test_the_pacer_keeps_to_four_requests_a_second_per_directory(tmp_path: Path) -> None:
    async with workos_world(tmp_path, limits=Limits(page_size=1)) as world:
        started = world.ticks.now
        people = await world.directory.people()  # 5 users, one a page: 5 calls

        assert emails(people) == EVERYONE
        assert world.fake.rate_limited == 0
        assert world.ticks.now - started >= 4 * 0.25
        assert all(wait <= 0.25 + 1e-9 for wait in world.ticks.slept)


async def test_without_the_pacer_the_same_reads_draw_429s(tmp_path: Path) -> None:
    """The control for the test above: the fake's limit is real, and only pacing avoids it."""
    async with workos_world(tmp_path, limits=Limits(page_size=1)) as world:
        unpaced = WorkOSDirectory(
            client=world.http.vendor(
                "workos-unpaced",
                base_url=world.fake.url,
                headers={"Authorization": f"Bearer {API_KEY}"},
            ),
            directory_id=DIRECTORY,
            teams=world.groups,
            roster=world.directory._roster,
            clock=world.clock,
            limits=Limits(page_size=1),
        )

        assert emails(await unpaced.people()) == EVERYONE  # 429s are waited out
        assert world.fake.rate_limited >= 1


# -- teams, people, chat ids ---------------------------------------------------------------------


async def test_team_members_are_the_active_members_of_the_mapped_group(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        members = await world.directory.team_members("platform")

        assert emails(members) == ["alice@example.com", "carol@example.com", "dan@example.com"]
        calls = world.fake.calls_to("GET", "/directory_users")
        assert calls[-1].query["group"] == world.groups["platform"]
        assert "directory" not in calls[-1].query
        assert world.fake.calls_to("GET", "/directory_groups")[0].query["directory"] == DIRECTORY


async def test_a_team_mapped_to_another_directorys_group_has_nobody(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        foreign = world.fake.add_group(OTHER_DIRECTORY, "Ops")
        world.fake.users[-1].groups.append(foreign.id)  # mallory, of the other directory
        world.directory._teams["ops"] = foreign.id

        with structlog.testing.capture_logs() as logs:
            assert await world.directory.team_members("ops") == []
            assert await world.directory.team_members("sales") == []

        events = {e["event"] for e in logs if e["log_level"] == "warning"}
        assert events == {"workos.group_not_in_directory", "workos.team_not_mapped"}


async def test_people_get_the_rosters_chat_id_and_timezone_where_it_has_them(
    tmp_path: Path,
) -> None:
    async with workos_world(tmp_path) as world:
        alice = await world.directory.person("alice@example.com")
        carol = await world.directory.person("carol@example.com")

        assert alice is not None
        assert (alice.chat_id, alice.timezone) == ("U0ALICE", "Europe/London")
        assert carol is not None
        assert (carol.name, carol.chat_id) == ("Carol Nguyen", "")


async def test_someone_suspended_in_workos_is_nobody_even_by_chat_id(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        next(u for u in world.fake.users if u.email == "bob@example.com").state = "inactive"

        assert await world.directory.person("bob@example.com") is None
        assert await world.directory.person_by_chat_id("U0BOB") is None
        assert "bob@example.com" not in emails(await world.directory.team_members("payments"))


async def test_the_primary_address_of_emails_is_used_when_email_is_absent(
    tmp_path: Path,
) -> None:
    async with workos_world(tmp_path) as world:
        world.fake.add_user(
            DIRECTORY,
            "Gina@Example.com",
            first_name="Gina",
            extra_emails=["gina@home.example"],
            primary_in_emails_only=True,
        )

        gina = await world.directory.person("gina@example.com")
        assert gina is not None
        assert gina.name == "Gina"
        assert await world.directory.person("gina@home.example") is None


# -- probe ---------------------------------------------------------------------------------------


async def test_probe_reads_one_user_of_the_directory(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        assert await world.directory.probe() == f"directory {DIRECTORY} reachable, 1+ users"
        assert world.fake.calls[-1].query == {"directory": DIRECTORY, "limit": "1"}


async def test_probe_with_a_bad_key_says_so(tmp_path: Path) -> None:
    async with workos_world(tmp_path) as world:
        world.fake.api_key = "sk_test_other"
        with pytest.raises(VendorError, match="workos GET /directory_users failed: HTTP 401"):
            await world.directory.probe()


# -- settings ------------------------------------------------------------------------------------

GROUP_A = "directory_group_01HAAAA"
GROUP_B = "directory_group_01HBBBB"


@pytest.mark.parametrize(
    "raw",
    [
        f'{{"payments": "{GROUP_A}", "platform": "{GROUP_B}"}}',
        f"payments={GROUP_A}, platform={GROUP_B}",
        f" payments = {GROUP_A},platform={GROUP_B}, ",
    ],
)
def test_the_team_map_reads_as_json_or_as_pairs(raw: str) -> None:
    assert parse_team_group_map(raw) == {"payments": GROUP_A, "platform": GROUP_B}
    settings = load_settings(
        {
            "WORKOS_API_KEY": "k",
            "WORKOS_DIRECTORY_ID": DIRECTORY,
            "WORKOS_TEAM_GROUP_MAP": raw,
        }
    )
    assert settings.workos_team_groups == {"payments": GROUP_A, "platform": GROUP_B}


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"payments": ', "not valid JSON"),
        ('["payments"]', "must be a JSON object"),
        ('{"payments": 3}', "the group id must be a string"),
        ("payments", "is not team=group"),
        ("payments=Payments Team", "is not a WorkOS directory group id"),
        (f"payments={GROUP_A},payments={GROUP_B}", "mapped twice"),
        (f"pay ments={GROUP_A}", "is not a team name"),
        (",", "maps no team"),
    ],
)
def test_a_bad_team_map_stops_start_up_naming_the_variable(raw: str, problem: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        load_settings(
            {"WORKOS_API_KEY": "k", "WORKOS_DIRECTORY_ID": DIRECTORY, "WORKOS_TEAM_GROUP_MAP": raw}
        )
    assert "WORKOS_TEAM_GROUP_MAP" in str(refused.value)
    assert problem in str(refused.value)


def test_a_directory_id_of_the_wrong_shape_is_refused() -> None:
    with pytest.raises(ConfigurationError, match="WORKOS_DIRECTORY_ID: 'Acme' is not a WorkOS"):
        load_settings(
            {
                "WORKOS_API_KEY": "k",
                "WORKOS_DIRECTORY_ID": "Acme",
                "WORKOS_TEAM_GROUP_MAP": f"payments={GROUP_A}",
            }
        )
