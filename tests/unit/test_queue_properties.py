"""The SQLite EventQueue under random sends, receives, acks, retries, expiries and crashes.

The machine keeps its own model of what the queue promised (which receipt is current, what is
in flight until when) and checks after every step that no message was lost, that a group never
has two messages in flight, and that each group's first deliveries follow its send order.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from incident_response.adapters.embedded.db import Database
from incident_response.adapters.embedded.queue import SqliteEventQueue
from incident_response.domain.messages import Delivery, QueueMessage
from tests.support.clock import ManualClock

R = TypeVar("R")

MAX_RECEIVES = 3
VISIBILITY = 30.0
DEDUP_WINDOW = 300.0
GROUPS = ("inc-a", "inc-b", "inc-c")


class QueueMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.tmp = tempfile.TemporaryDirectory()
        self.clock = ManualClock()
        self.db = self.run(Database(Path(self.tmp.name) / "queue.sqlite3").open())
        self.queue = self.run(
            SqliteEventQueue(
                db=self.db,
                clock=self.clock,
                max_receives=MAX_RECEIVES,
                dedup_window_seconds=DEDUP_WINDOW,
            ).open()
        )
        self.next_n = 0
        self.sent: dict[str, list[int]] = {g: [] for g in GROUPS}  # accepted, in send order
        self.group_of: dict[int, str] = {}
        self.dedup_sent_at: dict[str, datetime] = {}
        self.first_deliveries: dict[str, list[int]] = {g: [] for g in GROUPS}
        self.receive_count: dict[int, int] = {}
        self.receipt: dict[int, str | None] = {}  # the receipt handed out last, if still valid
        self.hidden_until: dict[int, datetime] = {}
        self.held: list[Delivery] = []  # what the worker is processing right now
        self.acked: set[int] = set()
        self.dead: set[int] = set()

    def run(self, coro: Coroutine[Any, Any, R]) -> R:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.db.close())
        self.loop.close()
        self.tmp.cleanup()

    def in_flight(self, n: int) -> bool:
        return (
            n not in self.acked
            and n not in self.dead
            and self.receipt.get(n) is not None
            and self.clock.now() < self.hidden_until[n]
        )

    @rule(group=st.sampled_from(GROUPS), dedup=st.integers(0, 15))
    def send(self, group: str, dedup: int) -> None:
        dedup_id, now = f"dedup-{dedup}", self.clock.now()
        last = self.dedup_sent_at.get(dedup_id)
        expect_new = last is None or now - last >= timedelta(seconds=DEDUP_WINDOW)
        n = self.next_n
        accepted = self.run(
            self.queue.send(
                QueueMessage(type="TEST", payload={"n": n}),
                group_id=group,
                dedup_id=dedup_id,
            )
        )
        assert accepted is expect_new
        if accepted:
            self.next_n += 1
            self.dedup_sent_at[dedup_id] = now
            self.sent[group].append(n)
            self.group_of[n] = group
            self.hidden_until[n] = now

    @rule(max_messages=st.integers(1, 4))
    def receive(self, max_messages: int) -> None:
        batch = self.run(
            self.queue.receive(max_messages=max_messages, visibility_timeout=VISIBILITY)
        )
        assert len(batch) <= max_messages
        assert len({d.group_id for d in batch}) == len(batch), "two of one group in a batch"
        for delivery in batch:
            n = int(delivery.body.payload["n"])
            group = self.group_of[n]
            assert delivery.group_id == group
            busy = [m for m in self.sent[group] if self.in_flight(m)]
            assert not busy, f"group {group} already has {busy} in flight"
            assert n not in self.acked | self.dead
            assert self.clock.now() >= self.hidden_until[n], "delivered while invisible"
            assert delivery.receive_count == self.receive_count.get(n, 0) + 1
            if n not in self.receive_count:
                self.first_deliveries[group].append(n)
                firsts = self.first_deliveries[group]
                assert firsts == self.sent[group][: len(firsts)], "out of send order"
            self.receive_count[n] = delivery.receive_count
            self.receipt[n] = delivery.receipt
            self.hidden_until[n] = self.clock.now() + timedelta(seconds=VISIBILITY)
            self.held.append(delivery)

    @precondition(lambda self: self.held)
    @rule(pick=st.integers(0, 100))
    def ack(self, pick: int) -> None:
        delivery = self.held.pop(pick % len(self.held))
        n = int(delivery.body.payload["n"])
        current = self.receipt.get(n) == delivery.receipt and n not in self.dead
        self.run(self.queue.ack(delivery))
        if current:
            self.acked.add(n)

    @precondition(lambda self: self.held)
    @rule(pick=st.integers(0, 100), delay=st.sampled_from([0, 10, 45]))
    def retry(self, pick: int, delay: float) -> None:
        delivery = self.held.pop(pick % len(self.held))
        n = int(delivery.body.payload["n"])
        current = self.receipt.get(n) == delivery.receipt and n not in self.dead
        self.run(self.queue.retry(delivery, error=f"failed {n}", delay_seconds=delay))
        if not current:
            return
        self.receipt[n] = None
        if self.receive_count[n] >= MAX_RECEIVES:
            self.dead.add(n)
            dead = {int(d.body.payload["n"]): d for d in self.run(self.queue.dead_letters())}
            assert dead[n].last_error == f"failed {n}"
        else:
            self.hidden_until[n] = self.clock.now() + timedelta(seconds=delay)

    @rule()
    def let_visibility_expire(self) -> None:
        self.clock.advance(VISIBILITY + 1)

    @rule(seconds=st.integers(1, 20))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule()
    def worker_crashes(self) -> None:
        self.held.clear()  # in-flight deliveries are dropped without ack or retry

    @invariant()
    def nothing_is_lost(self) -> None:
        rows = self.run(self.db.fetchall("SELECT body FROM queue_messages"))
        pending = [int(json.loads(row["body"])["payload"]["n"]) for row in rows]
        dead = [int(d.body.payload["n"]) for d in self.run(self.queue.dead_letters())]
        for n in set(dead) - self.dead:
            # dead-lettered on receive: it had used up its receives and was visible again
            assert self.receive_count[n] >= MAX_RECEIVES
            assert not self.in_flight(n)
        self.dead = set(dead)
        everything = [n for group in self.sent.values() for n in group]
        assert sorted(pending + dead + list(self.acked)) == sorted(everything)
        assert self.run(self.queue.depth()) == len(pending)

    @rule()
    def drain_everything(self) -> None:
        """Given time, every pending message is delivered (in order) and can be acked."""
        for _ in range(len(self.group_of) * (MAX_RECEIVES + 1) + 2):
            self.clock.advance(3600)
            self.held.clear()
            self.receive(max_messages=4)
            while self.held:
                self.ack(0)
            self.nothing_is_lost()
            if self.run(self.queue.depth()) == 0:
                break
        assert self.acked | self.dead == set(self.group_of)


QueueMachine.TestCase.settings = settings(
    max_examples=50,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
test_queue_state_machine = QueueMachine.TestCase
