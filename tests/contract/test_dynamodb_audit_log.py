"""The DynamoDB AuditLog against the AuditLog suite on a moto server (real HTTP), plus tampering
with its items, and the ConsistentRead the approval gate depends on."""

from __future__ import annotations

import pytest

from incident_response.adapters.aws.dynamodb_audit import DynamoDbAuditLog
from tests.contract.audit_log_suite import AuditLogContract
from tests.support.audit import AUDIT_KEY
from tests.support.clock import ManualClock
from tests.support.dynamodb import Tables


def make_log(tables: Tables, clock: ManualClock) -> DynamoDbAuditLog:
    return DynamoDbAuditLog(client=tables.client, table=tables.audit, clock=clock, key=AUDIT_KEY)


class TestDynamoDbAuditLog(AuditLogContract):
    @pytest.fixture
    def audit_log(self, dynamodb: Tables, clock: ManualClock) -> DynamoDbAuditLog:
        return make_log(dynamodb, clock)
