"""The DynamoDB Credentials against the Credentials suite on a moto server (real HTTP)."""

from __future__ import annotations

import pytest

from incident_response.adapters.aws.dynamodb_client import dynamodb_client
from incident_response.adapters.aws.dynamodb_credentials import DynamoDbCredentials
from tests.contract.credentials_suite import CredentialsContract
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables


class TestDynamoDbCredentials(CredentialsContract):
    @pytest.fixture
    def credentials(self, dynamodb: Tables, clock: ManualClock) -> DynamoDbCredentials:
        return DynamoDbCredentials(client=dynamodb.client, table=dynamodb.incidents, clock=clock)

    @pytest.fixture
    def credentials_elsewhere(self, dynamodb: Tables, clock: ManualClock) -> DynamoDbCredentials:
        """Another client on the same table, as the CLI's process builds it."""
        other = dynamodb_client(region=dynamodb.aws.region, endpoint_url=dynamodb.aws.url)
        return DynamoDbCredentials(client=other, table=dynamodb.incidents, clock=clock)
