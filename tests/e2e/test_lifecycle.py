"""The whole lifecycle through the HTTP interface of a real `serve` process:
alert -> war room -> draft -> edit -> approval gate -> one publish -> resolve -> postmortem."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.e2e.conftest import roster_emails
from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess

pytestmark = pytest.mark.slow
T = TypeVar("T")


def wait_for(check: Callable[[], T | None], timeout: float = 20) -> T:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


def test_alert_to_postmortem_through_the_http_interface(tmp_path: Path) -> None:
    with ServeProcess(tmp_path) as server:
        emails = roster_emails(tmp_path)
        admin = server.client(server.token(emails[0]))
        alert = oncall_payload(group="ILIFE001", title="HighErrorRate checkout")
        posted = httpx.post(
            server.base + "/webhooks/grafana-oncall",
            content=json.dumps(alert),
            headers={"Authorization": f"Bearer {SECRET}"},
        )
        assert posted.status_code == 202

        def assembled() -> dict[str, Any] | None:
            for item in admin.get("/api/incidents").json()["incidents"]:
                if item["alert_group_id"] == "ILIFE001" and item["assembled_at"]:
                    return item  # type: ignore[no-any-return]
            return None

        incident = wait_for(assembled)
        iid = incident["id"]
        # the war room: channel, IC, responders, context, checklist, reminders
        assert incident["status"] == "assembled"
        assert incident["channel"]["name"].startswith("inc-p1-")
        assert not incident["channel"]["archived"]
        ic_email = incident["ic"]["email"]
        assert ic_email in {r["email"] for r in incident["responders"]}
        assert len(incident["responders"]) >= 2
        assert incident["checklist"]
        assert not any(i["done"] for i in incident["checklist"])
        kinds = {e["type"] for e in incident["audit"]}
        assert {
            "WAR_ROOM_CREATED",
            "RESPONDER_INVITED",
            "CONTEXT_SNAPSHOT_ATTACHED",
            "CHECKLIST_PINNED",
            "WAR_ROOM_ASSEMBLED",
        } <= kinds
        assert incident["nudges"]["scheduled"]
        assert incident["nudges"]["enabled"]

        ic = server.client(server.token(ic_email))
        other = server.client(server.token(next(e for e in emails if e != ic_email)))

        # draft, then edit: the approval must bind the edited text
        reply = ic.post(f"/api/incidents/{iid}/commands", json={"text": "draft"})
        assert reply.status_code == 200, reply.text
        draft = ic.get(f"/api/incidents/{iid}").json()["drafts"][-1]
        assert draft["status"] == "draft"
        assert draft["version"] == 1
        edited_text = (
            "Checkout: we are investigating elevated errors. Next update within 30 minutes."
        )
        edit = ic.post(
            f"/api/incidents/{iid}/drafts/{draft['id']}/edit",
            json={"body": edited_text, "version": 1},
        )
        assert edit.status_code == 200, edit.text
        assert edit.json()["version"] == 2

        approve = f"/api/incidents/{iid}/drafts/{draft['id']}/approve"
        refused = other.post(approve, json={"version": 2})
        assert refused.status_code == 403
        assert server.client().get("/status/api/v2/incidents.json").json()["incidents"] == []
        stale = ic.post(approve, json={"version": 1})
        assert stale.status_code == 409

        published = ic.post(approve, json={"version": 2})
        assert published.status_code == 200, published.text
        assert published.json()["status"] == "published"
        again = ic.post(approve, json={"version": 2})
        assert again.status_code == 200
        assert again.json()["published_now"] is False

        public = server.client().get("/status/api/v2/incidents.json").json()
        assert sum(1 for s in strings(public) if s == edited_text) == 1
        assert (
            strings(public).count(draft["body"]) == 0
        )  # the unapproved first version never went out
        summary = server.client().get("/status/api/v2/summary.json").json()
        assert summary["incidents"]
        assert summary["incidents"][0]["status"] != "resolved"

        # resolve: postmortem filed, room archived, reminders gone
        resolve = ic.post(f"/api/incidents/{iid}/commands", json={"text": "resolve"})
        assert resolve.status_code == 200, resolve.text

        def resolved() -> dict[str, Any] | None:
            body: dict[str, Any] = ic.get(f"/api/incidents/{iid}").json()
            done = (
                body["status"] == "resolved" and body["postmortem"] and body["channel"]["archived"]
            )
            return body if done else None

        final = wait_for(resolved, timeout=30)
        assert final["nudges"]["scheduled"] is False
        listed = ic.get("/api/postmortems").json()["postmortems"]
        assert [p["incident_id"] for p in listed] == [iid]
        # the postmortem is internal: its console page sends a stranger to sign in, and API
        # clients read the Markdown with a personal token
        page = server.client().get(final["postmortem"]["url"].removeprefix(server.base))
        assert page.status_code == 303
        assert page.headers["location"].startswith("/console/sign-in?next=/console/postmortems/")
        path = f"/api/postmortems/{final['postmortem']['id']}"
        assert server.client().get(path).status_code == 401
        markdown = ic.get(path)
        assert markdown.status_code == 200
        assert markdown.headers["content-type"].startswith("text/markdown")
        assert "WAR_ROOM_CREATED" in markdown.text or "War room" in markdown.text
        assert edited_text in markdown.text

        # the final public text goes through the same gate: drafted, not published
        resolved_draft = next(d for d in final["drafts"] if d["kind"] == "resolved")
        assert resolved_draft["status"] == "draft"
        page = server.client().get("/status/api/v2/incidents.json").json()["incidents"][0]
        assert page["status"] != "resolved"
        ic.post(
            f"/api/incidents/{iid}/drafts/{resolved_draft['id']}/approve",
            json={"version": resolved_draft["version"]},
        ).raise_for_status()
        page = server.client().get("/status/api/v2/incidents.json").json()["incidents"][0]
        assert page["status"] == "resolved"

    verify = server.cli("audit", "verify")
    assert verify.returncode == 0, verify.stdout + verify.stderr

    # tampering with one stored audit record is caught
    with sqlite3.connect(tmp_path / "incident-response.sqlite3") as db:
        db.execute(
            "UPDATE audit_records SET actor = 'mallory@example.com' "
            "WHERE incident_id = ? AND type = 'STATUSPAGE_DRAFT_APPROVED'",
            (iid,),
        )
    tampered = server.cli("audit", "verify")
    assert tampered.returncode == 1
    assert iid in tampered.stdout
