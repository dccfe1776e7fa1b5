"""DynamoDB tables on a moto server for the AWS adapters' tests: a fresh account per test."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from incident_response.adapters.aws.dynamodb_client import dynamodb_client
from incident_response.adapters.aws.tables import create_tables
from tests.support.moto_server import MotoServer, _free_port

REPOSITORY = Path(__file__).resolve().parents[2]

INCIDENTS = "ir-test-incidents"
AUDIT = "ir-test-audit"


@dataclass
class Tables:
    aws: MotoServer
    client: Any
    incidents: str = INCIDENTS
    audit: str = AUDIT

    def raw(self) -> Any:
        """Another client on the same tables, for tampering and for looking at raw items."""
        return dynamodb_client(region=self.aws.region, endpoint_url=self.aws.url)


@contextlib.contextmanager
def serial_moto_server(*, timeout: float = 30.0) -> Iterator[MotoServer]:
    """A moto server that answers one request at a time (see tests/support/serial_moto.py:
    the threaded one does not isolate concurrent transactions, DynamoDB does)."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.support.serial_moto", str(port)],
        cwd=REPOSITORY,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    server = MotoServer(url=f"http://127.0.0.1:{port}", process=process)
    try:
        server._wait_ready(timeout)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def fresh_tables(aws: MotoServer) -> Tables:
    aws.reset()
    client = dynamodb_client(region=aws.region, endpoint_url=aws.url)
    create_tables(client, incidents=INCIDENTS, audit=AUDIT)
    return Tables(aws=aws, client=client)


def record_requests(client: Any) -> list[tuple[str, dict[str, Any]]]:
    """(operation, parameters) of every request `client` sends from now on, as botocore is about
    to send it (the `before-call` event): what DynamoDB is actually asked, not what we meant."""
    sent: list[tuple[str, dict[str, Any]]] = []

    def seen(*, model: Any, params: dict[str, Any], **_: Any) -> None:
        sent.append((str(model.name), json.loads(params["body"])))

    client.meta.events.register("before-call.dynamodb", seen)
    return sent
