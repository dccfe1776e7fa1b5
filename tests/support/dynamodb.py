"""DynamoDB tables on a moto server for the AWS adapters' tests: a fresh account per test."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from incident_response.adapters.aws.dynamodb_client import dynamodb_client
from incident_response.adapters.aws.tables import create_tables
from tests.support.moto_server import MotoServer

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
    with MotoServer.started(module="tests.support.serial_moto", timeout=timeout) as server:
        yield server


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
