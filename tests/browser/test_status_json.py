"""The public status JSON validates against Statuspage's public v2 shape and the vendor's schemas,
and carries only text the IC approved."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import httpx

from tests.browser.harness import Site, wait_for
from tests.browser.status_shapes import incidents_problems, summary_problems

ATOM = "http://www.w3.org/2005/Atom"


def documents(site: Site) -> dict[str, dict[str, Any]]:
    paths = ("summary", "incidents", "status", "components", "incidents/unresolved")
    with httpx.Client(base_url=site.base, timeout=10) as anonymous:
        docs = {}
        for path in paths:
            response = anonymous.get(f"/status/api/v2/{path}.json")
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith("application/json")
            docs[path] = response.json()
        return docs


def strings(doc: Any) -> list[str]:
    if isinstance(doc, str):
        return [doc]
    if isinstance(doc, dict):
        return [s for v in doc.values() for s in strings(v)]
    if isinstance(doc, list):
        return [s for v in doc for s in strings(v)]
    return []


def test_status_json_has_the_public_shape_with_open_and_resolved_incidents(site: Site) -> None:
    site.fire_alert("ISHAPE01", title="Search is slow", service="api", alertname="SearchLatency")
    site.fire_alert("ISHAPE02", title="Payments fail", service="payments", alertname="PayErrors")
    first, second = site.incident_for("ISHAPE01"), site.incident_for("ISHAPE02")
    for incident in (first, second):
        ic = incident["ic"]["email"]
        site.approve(incident["id"], ic, site.draft(incident["id"], ic))
    unapproved = site.draft(first["id"], first["ic"]["email"])
    site.command(second["id"], second["ic"]["email"], "resolve")
    closing = wait_for(
        lambda: next(
            (d for d in site.incident(second["id"])["drafts"] if d["kind"] == "resolved"), None
        )
    )
    site.approve(second["id"], second["ic"]["email"], closing)

    docs = documents(site)
    assert summary_problems(docs["summary"]) == []
    assert incidents_problems(docs["incidents"]) == []
    assert incidents_problems(docs["incidents/unresolved"]) == []
    assert summary_problems({**docs["summary"], **docs["status"], **docs["components"]}) == []
    live, done = (site.incident(i["id"])["status_page"]["incident_id"] for i in (first, second))
    statuses = {i["id"]: i["status"] for i in docs["incidents"]["incidents"]}
    assert statuses[done] == "resolved"
    assert statuses[live] != "resolved"
    unresolved = [i["id"] for i in docs["incidents/unresolved"]["incidents"]]
    assert live in unresolved
    assert done not in unresolved
    assert docs["summary"]["status"]["indicator"] != "none"
    for doc in docs.values():
        assert unapproved["body"] not in strings(doc)

    feed = atom(site)
    published = [u["body"] for i in docs["incidents"]["incidents"] for u in i["incident_updates"]]
    assert sorted(feed) == sorted(published)
    assert unapproved["body"] not in feed


def atom(site: Site) -> list[str]:
    """The Atom feed's entry texts, after checking what RFC 4287 requires of the feed."""
    response = httpx.get(site.base + "/status/history.atom", timeout=10)
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = ElementTree.fromstring(response.content)
    assert feed.tag == f"{{{ATOM}}}feed"
    for required in ("id", "title", "updated"):
        assert feed.find(f"{{{ATOM}}}{required}") is not None, required
    entries = feed.findall(f"{{{ATOM}}}entry")
    ids = [e.findtext(f"{{{ATOM}}}id") for e in entries]
    assert len(set(ids)) == len(ids)
    for entry in entries:
        for required in ("id", "title", "updated", "content"):
            assert entry.find(f"{{{ATOM}}}{required}") is not None, required
    return [e.findtext(f"{{{ATOM}}}content") or "" for e in entries]


def test_the_shape_check_names_what_is_wrong(site: Site) -> None:
    good = documents(site)["incidents"]
    assert good["incidents"], "needs an incident on the page"
    broken = {
        **good,
        "incidents": [
            {**good["incidents"][0], "status": "on fire", "created_at": "yesterday"},
            {k: v for k, v in good["incidents"][0].items() if k != "shortlink"},
        ],
    }
    problems = incidents_problems(broken)
    assert any("incidents[0].status: 'on fire'" in p for p in problems)
    assert any("incidents[0].created_at" in p for p in problems)
    assert "incidents[1]: missing shortlink" in problems
