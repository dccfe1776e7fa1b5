"""Conformance suite for the Directory port.

Subclass `DirectoryContract` and provide a `directory` fixture holding exactly `SEED`: its people,
teams and service owners (the roster writes them to YAML; a WorkOS fake serves them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from incident_response.domain.people import Person
from incident_response.ports import Directory


@dataclass(frozen=True)
class DirectorySeed:
    people: tuple[Person, ...]
    teams: dict[str, tuple[str, ...]] = field(default_factory=dict)
    services: dict[str, str] = field(default_factory=dict)
    approvers: tuple[str, ...] = ()


ALICE = Person(
    email="alice@example.com", name="Alice Martin", chat_id="U0ALICE", timezone="Europe/London"
)
BOB = Person(email="bob@example.com", name="Bob Okafor", chat_id="U0BOB")
CAROL = Person(email="carol@example.com", name="Carol Nguyen", timezone="America/New_York")
DAN = Person(email="dan@example.com", name="Dan Kowalski")

SEED = DirectorySeed(
    people=(ALICE, BOB, CAROL, DAN),
    teams={"payments": (ALICE.email, BOB.email), "platform": (CAROL.email, DAN.email, ALICE.email)},
    services={"checkout": "payments", "api": "platform"},
    approvers=(DAN.email,),
)


class DirectoryContract:
    async def test_adapter_implements_the_port(self, directory: Directory) -> None:
        assert isinstance(directory, Directory)

    async def test_finds_a_person_by_email(self, directory: Directory) -> None:
        found = await directory.person(ALICE.email)
        assert found is not None
        assert (found.email, found.name, found.chat_id) == (ALICE.email, ALICE.name, ALICE.chat_id)

    async def test_email_lookup_ignores_case(self, directory: Directory) -> None:
        found = await directory.person("Bob@Example.COM")
        assert found is not None
        assert found.email == BOB.email

    async def test_an_unknown_email_is_nobody(self, directory: Directory) -> None:
        assert await directory.person("mallory@example.com") is None

    async def test_finds_a_person_by_chat_id(self, directory: Directory) -> None:
        found = await directory.person_by_chat_id("U0BOB")
        assert found is not None
        assert found.email == BOB.email

    async def test_an_unknown_chat_id_is_nobody(self, directory: Directory) -> None:
        assert await directory.person_by_chat_id("U0NOBODY") is None

    async def test_team_members_are_the_team(self, directory: Directory) -> None:
        members = await directory.team_members("platform")
        assert sorted(p.email for p in members) == sorted(SEED.teams["platform"])

    async def test_an_unknown_team_has_no_members(self, directory: Directory) -> None:
        assert await directory.team_members("marketing") == []

    async def test_services_map_to_their_owning_team(self, directory: Directory) -> None:
        for service, team in SEED.services.items():
            assert await directory.team_for_service(service) == team

    async def test_an_unknown_service_has_no_team(self, directory: Directory) -> None:
        assert await directory.team_for_service("ledger") is None

    async def test_people_lists_everyone_once(self, directory: Directory) -> None:
        emails = [p.email for p in await directory.people()]
        assert sorted(emails) == sorted(p.email for p in SEED.people)

    async def test_approvers_are_the_named_approvers(self, directory: Directory) -> None:
        assert await directory.approvers() == frozenset(SEED.approvers)
