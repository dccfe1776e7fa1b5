"""The DynamoDB IncidentStore against the IncidentStore suite on a moto server (real HTTP), plus
what only this backend can get wrong: transactions, compare-and-set, TTL, throttling."""

from __future__ import annotations

import pytest

from incident_response.adapters.aws.dynamodb_store import DynamoDbIncidentStore
from tests.contract.incident_store_suite import IncidentStoreContract
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables


def make_store(tables: Tables, clock: ManualClock) -> DynamoDbIncidentStore:
    return DynamoDbIncidentStore(client=tables.client, table=tables.incidents, clock=clock)


class TestDynamoDbIncidentStore(IncidentStoreContract):
    @pytest.fixture
    def store(self, dynamodb: Tables, clock: ManualClock) -> DynamoDbIncidentStore:
        return make_store(dynamodb, clock)
