"""What SlackChat promises beyond the Chat suite, against the fake Slack: one room per incident
across restarts (`name_taken`), idempotent posts after a restart, batched invites and the
user-id cache."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from incident_response.adapters.slack import RateTable, SlackChat, SlackWebApi
from incident_response.domain.chat import ChatMessage
from incident_response.domain.errors import AlreadyExists
from incident_response.domain.people import Person
from tests.fakes.slack import FakeSlack
from tests.integration.slack.conftest import TIME_SCALE

NAME = "inc-p1-20261126-checkout-3f9a2c"
Restart = Callable[..., Awaitable[SlackChat]]


@pytest.fixture
async def restart(slack_api: SlackWebApi) -> AsyncIterator[Restart]:
    """A fresh SlackChat on the same workspace, as after a crash; `owners` is what the incident
    store says about which incident each channel id belongs to."""
    made: list[SlackChat] = []

    async def fresh(owners: dict[str, str] | None = None) -> SlackChat:
        async def owner(channel_id: str) -> str | None:
            return (owners or {}).get(channel_id)

        chat = SlackChat(api=slack_api, room_owner=owner, rates=RateTable().scaled(TIME_SCALE))
        made.append(chat)
        return await chat.open()

    yield fresh
    for chat in made:
        await chat.aclose()


def rooms_named(slack: FakeSlack, prefix: str) -> list[str]:
    return sorted(c.name for c in slack.channels.values() if c.name.startswith(prefix))


async def test_after_a_restart_the_incident_gets_its_own_room_back(
    slack_chat: SlackChat, fake_slack: FakeSlack, restart: Restart
) -> None:
    first = await slack_chat.create_channel(name=NAME, incident_id="inc-1")
    again = await (await restart({first.id: "inc-1"})).create_channel(
        name=NAME, incident_id="inc-1"
    )
    assert again.id == first.id
    assert rooms_named(fake_slack, NAME) == [NAME]


async def test_a_room_made_just_before_a_crash_is_adopted_not_duplicated(
    slack_chat: SlackChat, fake_slack: FakeSlack, restart: Restart
) -> None:
    first = await slack_chat.create_channel(name=NAME, incident_id="inc-1")
    # the crash came before the incident recorded its channel: the store knows no owner
    again = await (await restart({})).create_channel(name=NAME, incident_id="inc-1")
    assert again.id == first.id
    assert rooms_named(fake_slack, NAME) == [NAME]


async def test_another_incidents_room_is_refused_after_a_restart(
    slack_chat: SlackChat, restart: Restart
) -> None:
    first = await slack_chat.create_channel(name=NAME, incident_id="inc-1")
    later = await restart({first.id: "inc-1"})
    with pytest.raises(AlreadyExists, match="inc-1"):
        await later.create_channel(name=NAME, incident_id="inc-2")


async def test_a_name_someone_else_took_gets_a_suffix_once(
    fake_slack: FakeSlack, slack_chat: SlackChat, restart: Restart
) -> None:
    fake_slack.workspace.add_channel(NAME, is_private=False, creator="U0BOB")
    room = await slack_chat.create_channel(name=NAME, incident_id="inc-1")
    assert room.name == f"{NAME}-2"
    again = await (await restart({room.id: "inc-1"})).create_channel(name=NAME, incident_id="inc-1")
    assert again.id == room.id
    assert rooms_named(fake_slack, NAME) == [NAME, f"{NAME}-2"]


async def test_a_keyed_post_retried_after_a_restart_is_not_posted_again(
    slack_chat: SlackChat, fake_slack: FakeSlack, restart: Restart
) -> None:
    room = await slack_chat.create_channel(name=NAME, incident_id="inc-1")
    checklist = ChatMessage(text="P1 checklist: 5 items", key="inc-1:checklist")
    first = await slack_chat.post(room.id, checklist)
    await slack_chat.update(room.id, first, ChatMessage(text="P1 checklist: 1 of 5 done"))
    later = await restart({room.id: "inc-1"})
    assert await later.post(room.id, checklist) == first
    assert [m.text for m in fake_slack.messages[room.id]] == ["P1 checklist: 1 of 5 done"]


async def test_everyone_is_invited_in_one_call_and_only_strangers_fail(
    slack_chat: SlackChat, fake_slack: FakeSlack
) -> None:
    room = await slack_chat.create_channel(name=NAME, incident_id="inc-1")
    await slack_chat.invite(room.id, ["U0ALICE"])
    result = await slack_chat.invite(room.id, ["U0ALICE", "U0BOB", "U0NOBODY", "U0CAROL", ""])
    assert set(result.invited) == {"U0ALICE", "U0BOB", "U0CAROL"}
    assert result.failed == {"U0NOBODY": "user_not_found", "": "blank user id"}
    assert fake_slack.channels[room.id].members >= {"U0ALICE", "U0BOB", "U0CAROL"}
    assert len(fake_slack.calls_to("conversations.invite")) == 2


async def test_user_ids_are_looked_up_once_per_person(
    slack_chat: SlackChat, fake_slack: FakeSlack
) -> None:
    erin = Person(email="Erin@Example.com", name="Erin")
    ids = [await slack_chat.user_id_for(erin) for _ in range(3)]
    stranger = Person(email="nobody@example.com", name="Nobody")
    misses = [await slack_chat.user_id_for(stranger) for _ in range(2)]
    assert ids == ["U0ERIN"] * 3
    assert misses == [None, None]
    asked = [c.params["email"] for c in fake_slack.calls_to("users.lookupByEmail")]
    assert asked == ["erin@example.com", "nobody@example.com"]
