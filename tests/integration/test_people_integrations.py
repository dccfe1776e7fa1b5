"""Who to call, wired as `serve` wires it: WorkOS and Grafana OnCall enabled by settings and
pointed at their fakes, an alert from Grafana OnCall assembled into a room staffed from them,
and its alert group acknowledged once the room is assembled."""

from __future__ import annotations

import json
from pathlib import Path

from incident_response.bootstrap import build
from incident_response.config import load_settings
from incident_response.domain.incident import IncidentStatus
from tests.fakes.grafana_oncall import FakeGrafanaOnCall
from tests.fakes.workos import FakeWorkOS
from tests.support.clock import ManualClock
from tests.support.payloads import oncall_payload

DIRECTORY = "directory_01HINTEGRATION0000000000000"

# the roster would staff the room with dan and alice: the room must not be staffed from it
ROSTER = """
people:
  - {name: Alice Martin, email: alice@example.com}
  - {name: Bob Okafor, email: bob@example.com, chat_id: UBOB}
  - {name: Dan Kowalski, email: dan@example.com}
teams:
  payments: [alice@example.com]
services:
  checkout: payments
rotations:
  payments: {primary: dan@example.com}
"""


async def test_a_grafana_alert_is_staffed_from_grafana_oncall_and_workos_then_acknowledged(
    tmp_path: Path,
) -> None:
    (tmp_path / "roster.yaml").write_text(ROSTER, encoding="utf-8")
    async with FakeWorkOS(api_key="sk_test_k") as workos, FakeGrafanaOnCall(token="t") as grafana:
        payments = workos.add_group(DIRECTORY, "Payments")
        for email in ("alice@example.com", "bob@example.com", "carol@example.com"):
            member = [payments] if email != "alice@example.com" else []
            workos.add_user(DIRECTORY, email, first_name=email[0].upper(), groups=member)
        frank, bob = grafana.add_user("frank@example.com"), grafana.add_user("bob@example.com")
        schedule = grafana.add_schedule("payments", fixed=[frank])
        chain = grafana.add_chain(
            {"type": "notify_on_call_from_schedule", "notify_on_call_from_schedule": schedule},
            {"type": "notify_persons", "persons_to_notify": [bob]},
        )
        group = grafana.add_alert_group(chain)
        settings = load_settings(
            {
                "INCIDENT_RESPONSE_DATA_DIR": str(tmp_path),
                "INCIDENT_RESPONSE_WEBHOOK_SECRET": "s" * 32,
                "WORKOS_API_KEY": "sk_test_k",
                "WORKOS_DIRECTORY_ID": DIRECTORY,
                "WORKOS_TEAM_GROUP_MAP": f"payments={payments.id}",
                "WORKOS_API_URL": workos.url,
                "GRAFANA_ONCALL_TOKEN": "t",
                "GRAFANA_ONCALL_API_URL": grafana.url,
                "INCIDENT_RESPONSE_ONCALL_ACKNOWLEDGE": "true",
            }
        )
        container = await build(settings, base_url="http://t", clock=ManualClock())
        try:
            body = oncall_payload(group=group)
            await container.intake.accept("grafana-oncall", json.dumps(body).encode())
            container.processor.start()
            await container.processor.drain(within_seconds=10)
            [incident] = await container.store.recent()
        finally:
            await container.processor.stop()
            await container.aclose()

    assert incident.status is IncidentStatus.ASSEMBLED
    assert incident.ic == "frank@example.com"
    assert {r.email: r.role for r in incident.responders} == {
        "frank@example.com": "primary",
        "bob@example.com": "secondary",
        "carol@example.com": "team",
    }
    assert grafana.alert_groups[group].state == "acknowledged"
    asked = workos.calls_to("GET", "/directory_users")
    assert payments.id in {c.query.get("group") for c in asked}  # the team, from its group
    assert any("group" not in c.query for c in asked)  # the on-call people, looked up in WorkOS
    assert workos.violations == []
    assert grafana.violations == []
