"""The Slack pacer on a virtual clock: calls wait for their tier's tokens instead of meeting
429s, a 429 pauses only its method for Retry-After, and queued updates of one message collapse
into the latest."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_response.adapters.slack.client import SlackCallFailed
from incident_response.adapters.slack.pacing import Rate, RateTable, SlackPacer


class VirtualTimer:
    """Time that moves only when the test says; sleepers wake in deadline order."""

    def __init__(self) -> None:
        self.t = 0.0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def now(self) -> float:
        return self.t

    async def sleep(self, seconds: float) -> None:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.t + seconds, next(self._seq), future))
        await future

    async def advance(self, seconds: float) -> None:
        target = self.t + seconds
        await settle()
        while self._sleepers and self._sleepers[0][0] <= target:
            deadline, _, future = heapq.heappop(self._sleepers)
            self.t = max(self.t, deadline)
            if not future.done():
                future.set_result(None)
            await settle()
        self.t = target
        await settle()


async def settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


class RecordingApi:
    """A Web API that records when each call arrived and can answer 429 on demand."""

    def __init__(self, timer: VirtualTimer) -> None:
        self.timer = timer
        self.sent: list[tuple[float, str, dict[str, Any]]] = []
        self.refuse: dict[str, list[float]] = {}  # method -> Retry-After of the next 429s

    async def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        self.sent.append((self.timer.now(), method, dict(params)))
        pending = self.refuse.get(method)
        if pending:
            raise SlackCallFailed(method, "ratelimited", status=429, retry_after=pending.pop(0))
        return {"ok": True, "ts": str(len(self.sent))}

    def times(self, method: str) -> list[float]:
        return [t for t, m, _ in self.sent if m == method]


TABLE = RateTable(
    tiers={2: Rate(per_minute=20, burst=5), 3: Rate(per_minute=60, burst=1)},
    method_tiers={"conversations.create": 2, "pins.add": 2, "chat.update": 3},
    per_channel_posts=Rate(per_minute=60, burst=3),
    default_tier=3,
)


@pytest.fixture
def timer() -> VirtualTimer:
    return VirtualTimer()


@pytest.fixture
def api(timer: VirtualTimer) -> RecordingApi:
    return RecordingApi(timer)


@pytest.fixture
def pacer(api: RecordingApi, timer: VirtualTimer) -> SlackPacer:
    return SlackPacer(api, rates=TABLE, timer=timer)


async def test_a_burst_beyond_the_tier_is_queued_at_the_tier_rate(
    pacer: SlackPacer, api: RecordingApi, timer: VirtualTimer
) -> None:
    calls = [
        asyncio.create_task(pacer.call("conversations.create", name=f"inc-{i}")) for i in range(8)
    ]
    await timer.advance(0)
    assert len(api.sent) == 5  # the burst goes at once, the rest wait for tokens
    await timer.advance(9)
    await asyncio.gather(*calls)
    assert api.times("conversations.create") == [0, 0, 0, 0, 0, 3, 6, 9]
    assert [p["name"] for _, _, p in api.sent] == [f"inc-{i}" for i in range(8)]  # FIFO


async def test_a_429_pauses_its_method_for_retry_after_and_is_sent_again(
    pacer: SlackPacer, api: RecordingApi, timer: VirtualTimer
) -> None:
    api.refuse["conversations.create"] = [7.0]
    create = asyncio.create_task(pacer.call("conversations.create", name="inc-1"))
    await timer.advance(1)
    pin = asyncio.create_task(pacer.call("pins.add", channel="C1", timestamp="1.0"))
    await timer.advance(0)
    assert pin.done()  # another method is not held up
    await timer.advance(5)
    assert not create.done()
    await timer.advance(1)
    assert await create == {"ok": True, "ts": "3"}
    assert api.times("conversations.create") == [0, 7]
    assert pacer.rate_limited == 1


async def test_429s_beyond_the_retry_budget_are_raised(
    api: RecordingApi, timer: VirtualTimer
) -> None:
    pacer = SlackPacer(api, rates=TABLE, timer=timer, max_rate_limited_retries=2)
    api.refuse["pins.add"] = [1.0, 1.0, 1.0]
    pin = asyncio.create_task(pacer.call("pins.add", channel="C1", timestamp="1.0"))
    await timer.advance(10)
    with pytest.raises(SlackCallFailed, match="ratelimited"):
        await pin
    assert len(api.times("pins.add")) == 3


async def test_posts_are_paced_per_channel(
    pacer: SlackPacer, api: RecordingApi, timer: VirtualTimer
) -> None:
    posts = [
        asyncio.create_task(pacer.call("chat.postMessage", channel="C1", text=str(i)))
        for i in range(5)
    ]
    other = asyncio.create_task(pacer.call("chat.postMessage", channel="C2", text="x"))
    await timer.advance(0)
    assert other.done()
    await timer.advance(2)
    await asyncio.gather(*posts)
    channel_one = [t for t, _, p in api.sent if p["channel"] == "C1"]
    assert channel_one == [0, 0, 0, 1, 2]


async def test_queued_updates_of_one_message_send_only_the_latest(
    pacer: SlackPacer, api: RecordingApi, timer: VirtualTimer
) -> None:
    first = asyncio.create_task(pacer.update_message(channel="C1", ts="1.0", text="v1"))
    await timer.advance(0)
    queued = [
        asyncio.create_task(pacer.update_message(channel="C1", ts="1.0", text=f"v{n}"))
        for n in (2, 3, 4)
    ]
    await timer.advance(0)
    assert [p["text"] for _, _, p in api.sent] == ["v1"]
    await timer.advance(1)
    await asyncio.gather(first, *queued)
    assert [p["text"] for _, _, p in api.sent] == ["v1", "v4"]


async def test_updates_of_different_messages_are_not_coalesced(
    pacer: SlackPacer, api: RecordingApi, timer: VirtualTimer
) -> None:
    updates = [
        asyncio.create_task(pacer.update_message(channel="C1", ts=ts, text=ts))
        for ts in ("1.0", "2.0", "3.0")
    ]
    await timer.advance(2)
    await asyncio.gather(*updates)
    assert sorted(p["ts"] for _, _, p in api.sent) == ["1.0", "2.0", "3.0"]


async def test_a_failed_update_fails_its_waiters_and_later_updates_still_go(
    pacer: SlackPacer, api: RecordingApi, timer: VirtualTimer
) -> None:
    class Failing(RecordingApi):
        async def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
            await super().call(method, params)
            if params["text"] == "bad":
                raise SlackCallFailed(method, "message_not_found")
            return {"ok": True}

    failing = Failing(timer)
    pacer = SlackPacer(failing, rates=TABLE, timer=timer)
    bad = asyncio.create_task(pacer.update_message(channel="C1", ts="1.0", text="bad"))
    await timer.advance(0)
    good = asyncio.create_task(pacer.update_message(channel="C1", ts="1.0", text="good"))
    await timer.advance(1)
    with pytest.raises(SlackCallFailed, match="message_not_found"):
        await bad
    assert await good == {"ok": True}
    assert [p["text"] for _, _, p in failing.sent] == ["bad", "good"]


@settings(max_examples=40, deadline=None)
@given(
    gaps=st.lists(st.floats(min_value=0, max_value=20), min_size=1, max_size=60),
    per_minute=st.sampled_from([20, 50, 100]),
    burst=st.integers(min_value=1, max_value=20),
)
def test_no_minute_ever_holds_more_than_burst_plus_rate(
    gaps: list[float], per_minute: int, burst: int
) -> None:
    async def scenario() -> list[float]:
        timer = VirtualTimer()
        api = RecordingApi(timer)
        table = RateTable(tiers={2: Rate(per_minute, burst)}, method_tiers={}, default_tier=2)
        pacer = SlackPacer(api, rates=table, timer=timer)
        tasks = []
        for gap in gaps:
            await timer.advance(gap)
            tasks.append(asyncio.create_task(pacer.call("x.y")))
        while not all(t.done() for t in tasks):
            await timer.advance(1)
        return api.times("x.y")

    sent = asyncio.run(scenario())
    assert len(sent) == len(gaps)
    for i, start in enumerate(sent):
        within = [t for t in sent[i:] if t < start + 60 - 1e-9]
        assert len(within) <= burst + per_minute
