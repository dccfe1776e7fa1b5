"""Fixtures of the contract tests: one moto server for the whole session (the AWS adapters),
answering one request at a time as tests/support/serial_moto.py explains."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.support.dynamodb import Tables, fresh_tables, serial_moto_server
from tests.support.moto_server import MotoServer


@pytest.fixture(scope="session")
def moto_server() -> Iterator[MotoServer]:
    with serial_moto_server() as aws:
        saved = {name: os.environ.get(name) for name in aws.environ()}
        os.environ.update(aws.environ())  # dummy credentials for boto3 in this process
        try:
            yield aws
        finally:
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@pytest.fixture
def dynamodb(moto_server: MotoServer) -> Tables:
    """Both tables, empty, in a fresh moto account."""
    return fresh_tables(moto_server)
