"""Fixtures of the contract tests: one moto server for the whole session (the AWS adapters),
answering one request at a time as tests/support/serial_moto.py explains."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.dynamodb import Tables, fresh_tables, serial_moto_server
from tests.support.moto_server import ACCESS_KEY, REGION, SECRET_KEY, MotoServer

# what boto3 needs to sign requests, and nothing that could point it at a real account
DUMMY_AWS = {
    "AWS_ACCESS_KEY_ID": ACCESS_KEY,
    "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
    "AWS_REGION": REGION,
    "AWS_DEFAULT_REGION": REGION,
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with serial_moto_server() as aws:
        yield aws


@pytest.fixture
def aws_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    """Dummy credentials for the clients a test builds, for that test only (the endpoint is
    passed to each client, never set for the process)."""
    for name, value in DUMMY_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    monkeypatch.delenv("AWS_SESSION_TOKEN", raising=False)


@pytest.fixture
def dynamodb(moto_server: MotoServer, aws_credentials: None) -> Tables:
    """Both tables, empty, in a fresh moto account."""
    return fresh_tables(moto_server)
