"""The lifecycle of tests/e2e/test_lifecycle.py through a real `serve` process with every AWS
backend selected (DynamoDB, SQS FIFO, EventBridge Scheduler, Secrets Manager), on moto servers
this test starts, after `incident-response aws bootstrap --env e2e` created the resources.

DynamoDB is served by the serial moto (tests/support/serial_moto.py: moto's threaded server does
not isolate concurrent transactions); SQS, Scheduler, IAM and Secrets Manager by the threaded one
(a 20 s SQS long poll must not hold up every other request). moto stores EventBridge schedules but
never fires them, so the nudge timers are checked as created and deleted, never as firing."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest

from tests.e2e.conftest import roster_emails
from tests.e2e.test_lifecycle import strings, wait_for
from tests.support.dynamodb import serial_moto_server
from tests.support.moto_server import MotoServer, put_secret
from tests.support.payloads import oncall_payload
from tests.support.server import ServeProcess, clean_env, executable

pytestmark = pytest.mark.slow

WEBHOOK_SECRET = "aws-e2e-webhook-secret-0123456789abcdef"
SETTING = re.compile(r"^([A-Z][A-Z0-9_]*)=(\S+)$")


def client(env: dict[str, str], service: str, endpoint: str) -> Any:
    """A client of this test process on the moto server, with the dummy credentials."""
    return boto3.session.Session().client(
        service,
        endpoint_url=endpoint,
        region_name=env["AWS_REGION"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
    )


@pytest.fixture
def aws_env(tmp_path: Path) -> Iterator[dict[str, str]]:
    """The environment of `serve` and the CLI: the moto endpoints, what `aws bootstrap` printed,
    and the webhook secret in Secrets Manager (no webhook secret or key in the environment)."""
    with MotoServer.started() as aws, serial_moto_server() as dynamodb:
        env = clean_env(tmp_path / "data", **aws.environ())
        del env["INCIDENT_RESPONSE_WEBHOOK_SECRET"]
        env["AWS_ENDPOINT_URL_DYNAMODB"] = dynamodb.url
        done = subprocess.run(
            [executable(), "aws", "bootstrap", "--env", "e2e"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 0, done.stderr
        lines = [SETTING.fullmatch(line) for line in done.stdout.splitlines()]
        assert all(lines), done.stdout  # KEY=VALUE lines only
        printed = dict(m.groups() for m in lines if m is not None)
        assert {"INCIDENTS_TABLE_NAME", "INCIDENT_EVENTS_QUEUE_URL", "SCHEDULER_ROLE_ARN"} <= set(
            printed
        )
        env.update(printed)
        # the audit and token keys stay in Secrets Manager, where `aws bootstrap` made them;
        # the webhook secret becomes the senders', as an operator puts it
        assert (
            printed["GRAFANA_ONCALL_HMAC_SECRET_ID"] == "incident-response/e2e/grafana-oncall-hmac"
        )
        put_secret(env, printed["GRAFANA_ONCALL_HMAC_SECRET_ID"], WEBHOOK_SECRET)
        yield env


def test_alert_to_postmortem_on_the_aws_backends(tmp_path: Path, aws_env: dict[str, str]) -> None:
    data = tmp_path / "data"
    with ServeProcess(data, env=aws_env) as server:
        check = subprocess.run(
            [executable(), "config", "check"],
            env={**aws_env, "COLUMNS": "300"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert check.returncode == 0, check.stderr
        for port, integration in [
            ("IncidentStore", "dynamodb"),
            ("AuditLog", "dynamodb"),
            ("Credentials", "dynamodb"),
            ("EventQueue", "sqs"),
            ("Scheduler", "eventbridge-scheduler"),
            ("Secrets", "secrets-manager"),
        ]:
            assert re.search(rf"{port}\s+│ {integration}\s", check.stdout), check.stdout
            assert re.search(rf"{integration}\s+│.*│ yes", check.stdout), check.stdout
        ready = httpx.get(server.base + "/readyz", timeout=10)
        assert ready.status_code == 200, ready.text
        checks = ready.json()["checks"]
        assert {"dynamodb", "sqs", "eventbridge-scheduler", "secrets-manager"} <= set(checks)
        assert "database" not in checks

        emails = roster_emails(data)
        admin = server.client(server.token(emails[0]))
        alert = oncall_payload(group="IAWS001", title="HighErrorRate checkout")
        refused = httpx.post(
            server.base + "/webhooks/grafana-oncall",
            content=json.dumps(alert),
            headers={"Authorization": "Bearer not-the-secret-in-secrets-manager"},
        )
        assert refused.status_code == 401
        posted = httpx.post(
            server.base + "/webhooks/grafana-oncall",
            content=json.dumps(alert),
            headers={"Authorization": f"Bearer {WEBHOOK_SECRET}"},
        )
        assert posted.status_code == 202, posted.text

        def assembled() -> dict[str, Any] | None:
            for item in admin.get("/api/incidents").json()["incidents"]:
                if item["alert_group_id"] == "IAWS001" and item["assembled_at"]:
                    return item  # type: ignore[no-any-return]
            return None

        incident = wait_for(assembled, timeout=60)
        iid = incident["id"]
        assert incident["status"] == "assembled"
        assert incident["channel"]["name"].startswith("inc-p1-")
        ic_email = incident["ic"]["email"]
        assert ic_email in {r["email"] for r in incident["responders"]}
        assert incident["checklist"]
        assert {"WAR_ROOM_CREATED", "WAR_ROOM_ASSEMBLED"} <= {e["type"] for e in incident["audit"]}
        # the reminder is an EventBridge schedule in the bootstrapped group (moto never fires it)
        assert incident["nudges"]["scheduled"]
        scheduler = client(aws_env, "scheduler", aws_env["AWS_ENDPOINT_URL"])
        group = aws_env["INCIDENT_RESPONSE_SCHEDULE_GROUP"]
        names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
        assert f"nudge.{iid}" in names

        ic = server.client(server.token(ic_email))
        other = server.client(server.token(next(e for e in emails if e != ic_email)))

        reply = ic.post(f"/api/incidents/{iid}/commands", json={"text": "draft"})
        assert reply.status_code == 200, reply.text
        draft = ic.get(f"/api/incidents/{iid}").json()["drafts"][-1]
        assert (draft["status"], draft["version"]) == ("draft", 1)
        edited_text = "Checkout: we are investigating elevated errors. Next update in 30 minutes."
        edit = ic.post(
            f"/api/incidents/{iid}/drafts/{draft['id']}/edit",
            json={"body": edited_text, "version": 1},
        )
        assert edit.status_code == 200, edit.text
        assert edit.json()["version"] == 2

        approve = f"/api/incidents/{iid}/drafts/{draft['id']}/approve"
        assert other.post(approve, json={"version": 2}).status_code == 403
        assert server.client().get("/status/api/v2/incidents.json").json()["incidents"] == []
        assert ic.post(approve, json={"version": 1}).status_code == 409
        published = ic.post(approve, json={"version": 2})
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        again = ic.post(approve, json={"version": 2})
        assert again.status_code == 200
        assert again.json()["published_now"] is False
        public = server.client().get("/status/api/v2/incidents.json").json()
        assert sum(1 for s in strings(public) if s == edited_text) == 1
        assert strings(public).count(draft["body"]) == 0

        resolve = ic.post(f"/api/incidents/{iid}/commands", json={"text": "resolve"})
        assert resolve.status_code == 200, resolve.text

        def resolved() -> dict[str, Any] | None:
            body: dict[str, Any] = ic.get(f"/api/incidents/{iid}").json()
            done = (
                body["status"] == "resolved" and body["postmortem"] and body["channel"]["archived"]
            )
            return body if done else None

        final = wait_for(resolved, timeout=60)
        assert final["nudges"]["scheduled"] is False
        names = [s["Name"] for s in scheduler.list_schedules(GroupName=group)["Schedules"]]
        assert f"nudge.{iid}" not in names
        listed = ic.get("/api/postmortems").json()["postmortems"]
        assert [p["incident_id"] for p in listed] == [iid]
        markdown = ic.get(f"/api/postmortems/{final['postmortem']['id']}")
        assert markdown.status_code == 200
        assert edited_text in markdown.text

        resolved_draft = next(d for d in final["drafts"] if d["kind"] == "resolved")
        ic.post(
            f"/api/incidents/{iid}/drafts/{resolved_draft['id']}/approve",
            json={"version": resolved_draft["version"]},
        ).raise_for_status()
        page = server.client().get("/status/api/v2/incidents.json").json()["incidents"][0]
        assert page["status"] == "resolved"

        # the incident and its audit chain live in DynamoDB, not in the data dir's SQLite
        dynamodb = client(aws_env, "dynamodb", aws_env["AWS_ENDPOINT_URL_DYNAMODB"])
        item = dynamodb.get_item(
            TableName=aws_env["INCIDENTS_TABLE_NAME"],
            Key={"pk": {"S": f"INCIDENT#{iid}"}},
            ConsistentRead=True,
        )
        assert "Item" in item

    verify = server.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # tampering with one audit record in DynamoDB is caught
    table = aws_env["AUDIT_TABLE_NAME"]
    found = dynamodb.query(
        TableName=table,
        KeyConditionExpression="pk = :pk",
        ExpressionAttributeValues={":pk": {"S": f"AUDIT#{iid}"}},
        ConsistentRead=True,
    )["Items"]
    approved = next(i for i in found if i.get("type", {}).get("S") == "STATUSPAGE_DRAFT_APPROVED")
    dynamodb.update_item(
        TableName=table,
        Key={"pk": approved["pk"], "sk": approved["sk"]},
        UpdateExpression="SET actor = :mallory",
        ExpressionAttributeValues={":mallory": {"S": "mallory@example.com"}},
    )
    tampered = server.cli("audit", "verify")
    assert tampered.returncode == 1
    assert iid in tampered.stdout
