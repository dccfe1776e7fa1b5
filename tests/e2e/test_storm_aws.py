"""A 500-alert storm on the AWS backends (moto): two `serve --role webhook` and three
`serve --role processor` processes, processors SIGKILLed in the middle; 0 alerts lost, 0
duplicated war rooms, 0 duplicated publishes.

The resources come from `incident-response aws bootstrap --env storm`, whose KEY=VALUE stdout is
the environment of every process. DynamoDB is a serial moto server (tests/support/serial_moto.py:
the threaded one does not isolate concurrent transactions, DynamoDB does); SQS, EventBridge
Scheduler and IAM are a threaded moto server, because one long poll would hold a serial server
for 20 s. Both are reached through the standard AWS_ENDPOINT_URL(_DYNAMODB). The five processes
share one data dir only for what stays embedded here (console chat, built-in status page, the
roster); pods in production use Slack and Statuspage for those instead.

The storm: GROUPS Grafana OnCall alert groups of distinct services (the storm cap is lifted so
each opens its own incident), each fired REFIRES + 1 times with distinct event times, every
delivery posted to one webhook process at random and a fifth of them posted again to the other
(the same delivery twice changes nothing); a 503 (storage busy) is sent again after its
Retry-After, as Grafana OnCall does. The visibility timeout is short, so a killed
processor's messages come back within the test. The counts are read from the DynamoDB tables
through the DynamoDB adapter itself (strongly consistent reads) and from the console chat.
Afterwards a sample of incidents gets one draft each, approved at once through both webhook
processes while a processor is killed: each publishes exactly once on the status page.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from incident_response.adapters.aws.dynamodb_client import dynamodb_client
from incident_response.adapters.aws.dynamodb_store import DynamoDbIncidentStore
from incident_response.adapters.aws.sqs_queue import sqs_client
from incident_response.domain.alert import DEFAULT_SEVERITY_MAP
from incident_response.domain.clock import SystemClock
from incident_response.domain.incident import Incident
from incident_response.intake import grafana_oncall
from tests.support.dynamodb import serial_moto_server
from tests.support.moto_server import MotoServer, put_secret
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env, executable

pytestmark = pytest.mark.slow

GROUPS = 50
REFIRES = 9  # each group fires 1 + REFIRES times: 500 deliveries
ALERTS = GROUPS * (1 + REFIRES)
REPEATED = 5  # every REPEATED-th delivery is posted again, to the other webhook process
WEBHOOKS = 2
PROCESSORS = 3
SAMPLE = 10  # incidents that get a draft approved and published
APPROVER = "alice@example.com"  # in the sample roster every first start writes


# -- the storm ------------------------------------------------------------------------------


def group_id(g: int) -> str:
    return f"AWSSTORM{g:03d}"


def storm() -> list[bytes]:
    """Round by round: every group's first firing, then every group's first re-fire, ... so
    re-fires of a group arrive while its incident is being opened and assembled."""
    start = datetime.now(UTC)
    bodies = []
    for round_ in range(1 + REFIRES):
        for g in range(GROUPS):
            event = "alert group created" if round_ == 0 else "unresolve"
            body = oncall_payload(
                event,
                group=group_id(g),
                title=f"Down svc-{g}",
                labels={"alertname": "Down", "service": f"storm-svc-{g}", "severity": "critical"},
                at=start + timedelta(milliseconds=round_, microseconds=g),
            )
            bodies.append(json.dumps(body).encode())
    return bodies


def delivery_ids(bodies: list[bytes]) -> dict[str, str]:
    """delivery id -> alert group id, as intake will compute them."""
    now = datetime.now(UTC)
    return {
        alert.delivery_id: alert.alert_group_id
        for body in bodies
        for alert in grafana_oncall.parse(body, received_at=now, severity_map=DEFAULT_SEVERITY_MAP)
    }


def post(base: str, body: bytes, *, attempts: int = 5) -> int:
    """As Grafana OnCall sends: a 503 (storage busy past intake's budget) is sent again after
    its Retry-After; the last answer is returned."""
    code = -1
    for _ in range(attempts):
        try:
            response = httpx.post(
                base + "/webhooks/grafana-oncall",
                content=body,
                headers={"Content-Type": "application/json", "Authorization": f"Bearer {SECRET}"},
                timeout=10,
            )
        except httpx.HTTPError:
            return -1
        code = response.status_code
        if code != 503:
            return code
        time.sleep(float(response.headers.get("Retry-After", "1")))
    return code


# -- the AWS side ---------------------------------------------------------------------------


def bootstrapped(env: dict[str, str]) -> dict[str, str]:
    """`incident-response aws bootstrap --env storm`: its stdout, KEY=VALUE lines, and only those."""
    done = subprocess.run(
        [executable(), "aws", "bootstrap", "--env", "storm"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines, done.stderr
    assert all("=" in line for line in lines), done.stdout
    return dict(line.split("=", 1) for line in lines)


class Backends:
    """The DynamoDB tables through the DynamoDB adapter, and the queue, read from the test."""

    def __init__(self, settings: dict[str, str], *, dynamodb_url: str, region: str) -> None:
        self.store = DynamoDbIncidentStore(
            client=dynamodb_client(region=region, endpoint_url=dynamodb_url),
            table=settings["INCIDENTS_TABLE_NAME"],
            clock=SystemClock(),
        )
        self.sqs = sqs_client(region=region)
        self.queue_url = settings["INCIDENT_EVENTS_QUEUE_URL"]

    def unprocessed(self, deliveries: list[str]) -> list[str]:
        async def check() -> list[str]:
            done = await asyncio.gather(*(self.store.alert_processed(d) for d in deliveries))
            return [d for d, ok in zip(deliveries, done, strict=True) if not ok]

        return asyncio.run(check())

    def incidents(self) -> list[Incident]:
        async def read() -> list[Incident]:
            found = await asyncio.gather(
                *(self.store.get(i) for i in await self.store.incident_ids())
            )
            return [i for i in found if i is not None]

        return asyncio.run(read())

    async def some(self, ids: list[str]) -> list[Incident]:
        found = await asyncio.gather(*(self.store.get(i) for i in ids))
        return [i for i in found if i is not None]

    def queue_depth(self, url: str | None = None) -> int:
        attributes = self.sqs.get_queue_attributes(
            QueueUrl=url or self.queue_url,
            AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return sum(int(v) for v in attributes.values())

    def dead_letter_depth(self) -> int:
        policy = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["RedrivePolicy"]
        )["Attributes"]["RedrivePolicy"]
        arn = json.loads(policy)["deadLetterTargetArn"]
        name = arn.rsplit(":", 1)[-1]
        return self.queue_depth(self.sqs.get_queue_url(QueueName=name)["QueueUrl"])


def console_channels(data_dir: Path) -> Counter[str]:
    """incident id -> how many console war rooms it has."""
    path = data_dir / "incident-response.sqlite3"
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10) as db:
        rows = db.execute(
            "SELECT incident_id FROM console_channels WHERE incident_id != ''"
        ).fetchall()
    return Counter(row[0] for row in rows)


@pytest.fixture(scope="module")
def aws() -> Iterator[tuple[MotoServer, MotoServer]]:
    """(threaded moto for SQS, Scheduler and IAM; serial moto for DynamoDB)."""
    with MotoServer.started() as threaded, serial_moto_server() as serial:
        yield threaded, serial


# -- the processes --------------------------------------------------------------------------


class Fleet:
    def __init__(self, data_dir: Path, env: dict[str, str], rng: random.Random) -> None:
        self.data_dir = data_dir
        self.env = env
        self.rng = rng
        self.kills = 0
        # the first start writes the roster and the audit key file: one process alone
        self.webhooks = [ServeProcess(data_dir, role="webhook", env=env)]
        with ThreadPoolExecutor(WEBHOOKS - 1 + PROCESSORS) as pool:
            more = [
                pool.submit(ServeProcess, data_dir, role="webhook", env=env)
                for _ in range(WEBHOOKS - 1)
            ]
            started = [
                pool.submit(ServeProcess, data_dir, role="processor", env=env)
                for _ in range(PROCESSORS)
            ]
            self.webhooks += [f.result() for f in more]
            self.processors = [f.result() for f in started]

    def kill_one_processor(self) -> None:
        """SIGKILL a random processor mid-work and start its replacement, as a crashed pod."""
        n = self.rng.randrange(len(self.processors))
        self.processors[n].kill()
        self.kills += 1
        self.processors[n] = ServeProcess(self.data_dir, role="processor", env=self.env)

    def all(self) -> list[ServeProcess]:
        return [*self.webhooks, *self.processors]

    def stop(self) -> None:
        for server in self.all():
            if server.proc.poll() is None:
                server.stop()


# -- the test -------------------------------------------------------------------------------


def test_a_500_alert_storm_on_aws_with_processor_kills_loses_nothing_and_duplicates_nothing(
    tmp_path: Path, aws: tuple[MotoServer, MotoServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    threaded, serial = aws
    for key, value in threaded.environ().items():  # the test's own boto3 clients, this test only
        monkeypatch.setenv(key, value)
    threaded.reset()
    serial.reset()
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    base_env = clean_env(
        tmp_path,
        **threaded.environ(),
        AWS_ENDPOINT_URL_DYNAMODB=serial.url,
        INCIDENT_RESPONSE_QUEUE_VISIBILITY_TIMEOUT_SECONDS="5",
        # kills can take a message several times; this test is about deciding, not the redrive
        INCIDENT_RESPONSE_QUEUE_MAX_RECEIVES="50",
        INCIDENT_RESPONSE_MAX_NEW_INCIDENTS_PER_MINUTE="100000",
        INCIDENT_RESPONSE_APPROVERS=APPROVER,
    )
    # the shared keys come from Secrets Manager, where `aws bootstrap` made them; the webhook
    # secret is the one the senders use, put there as an operator would
    settings = bootstrapped(base_env)
    put_secret(base_env, settings["GRAFANA_ONCALL_HMAC_SECRET_ID"], SECRET)
    assert {"INCIDENTS_TABLE_NAME", "AUDIT_TABLE_NAME", "INCIDENT_EVENTS_QUEUE_URL"} <= set(
        settings
    )
    env = {**base_env, **settings}
    backends = Backends(settings, dynamodb_url=serial.url, region=threaded.region)

    bodies = storm()
    sent = delivery_ids(bodies)
    assert len(sent) == ALERTS
    fleet = Fleet(tmp_path, env, rng)
    try:
        # -- the storm, with processors killed while they decide and assemble
        codes: list[int] = []
        stop_killing = threading.Event()

        def killer() -> None:
            while not stop_killing.wait(rng.uniform(2.0, 5.0)):
                fleet.kill_one_processor()

        killing = threading.Thread(target=killer)
        killing.start()
        try:
            jobs = []
            for n, body in enumerate(bodies):
                first = rng.randrange(WEBHOOKS)
                jobs.append((fleet.webhooks[first].base, body))
                if n % REPEATED == 0:
                    jobs.append((fleet.webhooks[1 - first].base, body))
            with ThreadPoolExecutor(16) as pool:
                codes = list(pool.map(lambda job: post(*job), jobs))
            # keep killing while the queue drains, then let the last replacement finish
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline and fleet.kills < 3:
                time.sleep(0.5)
        finally:
            stop_killing.set()
            killing.join()
        assert Counter(codes) == Counter({202: len(jobs)}), f"seed {seed}"

        deadline = time.monotonic() + 150
        unprocessed = list(sent)
        while time.monotonic() < deadline:
            unprocessed = backends.unprocessed(unprocessed)
            if not unprocessed and backends.queue_depth() == 0:
                break
            time.sleep(1)
        assert unprocessed == [], f"seed {seed}: {len(unprocessed)} deliveries never processed"

        # -- the counts, from DynamoDB (strongly consistent) and the console chat
        incidents = backends.incidents()
        where: dict[str, list[str]] = {d: [] for d in sent}
        groups: dict[str, set[str]] = {}
        for incident in incidents:
            for alert in incident.alerts:
                where.setdefault(alert.delivery_id, []).append(incident.id)
                groups.setdefault(alert.alert_group_key.rsplit(":", 1)[-1], set()).add(incident.id)
        misplaced = {d: ids for d, ids in where.items() if len(ids) != 1}
        assert misplaced == {}, f"seed {seed}, {fleet.kills} kills: {misplaced}"
        split = {g: ids for g, ids in groups.items() if len(ids) != 1}
        assert split == {}, f"seed {seed}: alert groups in more than one incident: {split}"
        assert set(groups) == {group_id(g) for g in range(GROUPS)}
        assert len(incidents) == GROUPS, f"seed {seed}"
        rooms = console_channels(tmp_path)
        assert {i.id for i in incidents} == set(rooms), f"seed {seed}: incidents without a room"
        doubled = {i: n for i, n in rooms.items() if n != 1}
        assert doubled == {}, f"seed {seed}: incidents with more than one war room: {doubled}"
        deadline = time.monotonic() + 60
        while (
            unassembled := [i.id for i in backends.incidents() if i.assembled_at is None]
        ) and time.monotonic() < deadline:
            time.sleep(1)
        assert unassembled == [], f"seed {seed}: {len(unassembled)} rooms never assembled"
        assert backends.dead_letter_depth() == 0

        # -- publishes: one draft per sampled incident, approved through both webhooks at once
        token = fleet.webhooks[0].token(APPROVER)
        sample = rng.sample(sorted(i.id for i in incidents), SAMPLE)
        clients = [server.client(token) for server in fleet.webhooks]
        approvals: list[Any] = []
        try:

            def approve(incident_id: str) -> list[tuple[int, Any]]:
                made = clients[0].post(f"/api/incidents/{incident_id}/drafts")
                assert made.status_code == 200, made.text
                draft = made.json()
                path = f"/api/incidents/{incident_id}/drafts/{draft['id']}/approve"
                with ThreadPoolExecutor(WEBHOOKS) as both:
                    answers = list(
                        both.map(
                            lambda c: c.post(path, json={"version": draft["version"]}), clients
                        )
                    )
                return [(a.status_code, a.json()) for a in answers]

            with ThreadPoolExecutor(4) as pool:
                pending = [pool.submit(approve, i) for i in sample]
                fleet.kill_one_processor()  # its upkeep recovers approved drafts meanwhile
                approvals = [p.result() for p in pending]
        finally:
            for client in clients:
                client.close()
        for answers in approvals:
            assert any(code == 200 and body["status"] == "published" for code, body in answers), (
                answers
            )
            assert sum(1 for code, body in answers if code == 200 and body["published_now"]) <= 1
        # each page update counted on the public page: one per sampled incident, no more
        page = httpx.get(fleet.webhooks[1].base + "/status/api/v2/incidents.json", timeout=10)
        updates = Counter(
            incident["id"]
            for incident in page.json()["incidents"]
            for _ in incident["incident_updates"]
        )
        sampled = asyncio.run(backends.some(sample))
        on_the_page = {i.id: updates[i.status_page.incident_id] for i in sampled if i.status_page}
        assert on_the_page == dict.fromkeys(sample, 1), f"seed {seed}: {updates}"
        assert sum(updates.values()) == SAMPLE, f"seed {seed}: {updates}"
        drafts = {i.id: [d.status.value for d in i.drafts] for i in sampled}
        assert drafts == {i: ["published"] for i in sample}, f"seed {seed}"
    finally:
        fleet.stop()

    for server in fleet.all():
        text = server.log_path.read_text()
        assert "Task exception was never retrieved" not in text, server.log_path
    verify = subprocess.run(
        [executable(), "audit", "verify"], env=env, capture_output=True, text=True, timeout=120
    )
    assert verify.returncode == 0, verify.stdout + verify.stderr
