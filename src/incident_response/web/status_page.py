"""The public status page as HTML and an Atom feed (the Statuspage-shaped JSON is in public.py).

Everything shown is read from the built-in status page's public documents, which only ever hold
what the StatusUpdateGate published: approved text, the public incident name, its status,
impact and components. Nothing here reads incidents, people, labels or chat, so no internal
detail can leak onto the page. No sign-in.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit
from xml.etree import ElementTree as ET

from fastapi import APIRouter
from starlette.responses import JSONResponse, RedirectResponse, Response

from incident_response.adapters.statuspage.builtin import BuiltinStatusPage
from incident_response.domain.clock import isoformat, utc
from incident_response.domain.maintenance import PHASE_LABELS, MaintenancePhase
from incident_response.domain.public import IMPACT_LABELS as PUBLIC_IMPACT_LABELS
from incident_response.domain.public import STAGE_LABELS
from incident_response.domain.text import xml_text
from incident_response.web.console.rendering import (
    SECURITY_HEADERS,
    Pages,
    html_route_class,
)

ATOM = "http://www.w3.org/2005/Atom"
# browsers always revalidate (an IC checking their update sees it at once); a CDN may hold 15 s
PUBLIC_CACHE = "public, max-age=0, s-maxage=15"
RECENT_HISTORY = 5
HOST = re.compile(r"[A-Za-z0-9.\-]+(?::[0-9]{1,5})?")

COMPONENT_LABELS: Mapping[str, str] = {
    "operational": "Operational",
    "degraded_performance": "Degraded performance",
    "partial_outage": "Partial outage",
    "major_outage": "Major outage",
    "under_maintenance": "Under maintenance",
}

# the same words the console and Slack show the IC before approving
STATUS_LABELS: Mapping[str, str] = {
    **{stage.value: label for stage, label in STAGE_LABELS.items()},
    "postmortem": "Postmortem",
    "scheduled": "Scheduled",
}
IMPACT_LABELS: Mapping[str, str] = {
    impact.value: label for impact, label in PUBLIC_IMPACT_LABELS.items()
}


def parse_time(value: str | None) -> datetime | None:
    if not value:
        return None
    return utc(datetime.fromisoformat(value.replace("Z", "+00:00")))


def public_incident(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A Statuspage incident document with its times parsed and its words readable."""
    updates = [
        {
            "id": u["id"],
            "status": u["status"],
            "status_label": STATUS_LABELS.get(u["status"], u["status"].title()),
            "body": u["body"],
            "at": parse_time(u["display_at"] or u["created_at"]),
        }
        for u in doc.get("incident_updates", [])
    ]
    return {
        "id": doc["id"],
        "name": doc["name"],
        "status": doc["status"],
        "status_label": STATUS_LABELS.get(doc["status"], doc["status"].title()),
        "impact": doc["impact"],
        "impact_label": IMPACT_LABELS.get(doc["impact"], doc["impact"]),
        "created_at": parse_time(doc["created_at"]),
        "updated_at": parse_time(doc["updated_at"]),
        "resolved_at": parse_time(doc.get("resolved_at")),
        "components": [c["name"] for c in doc.get("components", [])],
        "updates": updates,
        "url": f"/status/incidents/{doc['id']}",
    }


def public_maintenance(doc: Mapping[str, Any]) -> dict[str, Any]:
    """A scheduled maintenance with its window parsed and its phase in words."""
    return {
        **public_incident(doc),
        "phase_label": PHASE_LABELS.get(MaintenancePhase(doc["status"]), doc["status"]),
        "scheduled_for": parse_time(doc["scheduled_for"]),
        "scheduled_until": parse_time(doc["scheduled_until"]),
    }


def public_component(doc: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "name": doc["name"],
        "status": doc["status"],
        "status_label": COMPONENT_LABELS.get(doc["status"], doc["status"]),
    }


def with_image_origin(policy: str, url: str) -> str:
    """`policy` with `url`'s origin added to `img-src` (the page's logo may be hosted elsewhere)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not HOST.fullmatch(parts.netloc):
        return policy  # nothing that could smuggle a directive into the header
    origin = f"{parts.scheme}://{parts.netloc}"
    return policy.replace("img-src 'self'", f"img-src 'self' {origin}", 1)


def atom_feed(page: Mapping[str, Any], incidents: Sequence[Mapping[str, Any]]) -> bytes:
    """One entry per published update, newest first (RFC 4287); never a character XML 1.0
    forbids, so one stored control character cannot break the feed for every subscriber."""
    ET.register_namespace("", ATOM)

    def sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
        # whatever the database holds (text stored before it was cleaned), the feed must parse
        safe = {name: xml_text(value) for name, value in attrs.items()}
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", safe)
        if text is not None:
            element.text = xml_text(text)
        return element

    base = str(page["url"]).rstrip("/")
    entries = sorted(
        (
            (incident, update)
            for incident in incidents
            for update in incident.get("incident_updates", [])
        ),
        key=lambda pair: str(pair[1]["created_at"]),
        reverse=True,
    )
    feed = ET.Element(f"{{{ATOM}}}feed")
    sub(feed, "id", f"{base}/history.atom")
    sub(feed, "title", f"{page['name']}: incident history")
    newest = entries[0][1]["created_at"] if entries else page["updated_at"]
    sub(feed, "updated", _atom_time(newest))
    sub(feed, "link", href=f"{base}/history.atom", rel="self", type="application/atom+xml")
    sub(feed, "link", href=f"{base}/history", rel="alternate", type="text/html")
    author = sub(feed, "author")
    sub(author, "name", str(page["name"]))
    for incident, update in entries:
        entry = sub(feed, "entry")
        sub(entry, "id", f"{base}/incidents/{incident['id']}#update-{update['id']}")
        label = STATUS_LABELS.get(update["status"], str(update["status"]).title())
        sub(entry, "title", f"{incident['name']}: {label}")
        sub(entry, "updated", _atom_time(update["created_at"]))
        sub(entry, "published", _atom_time(update["created_at"]))
        sub(entry, "link", href=f"{base}/incidents/{incident['id']}", rel="alternate")
        sub(entry, "content", str(update["body"]), type="text")
    xml: bytes = ET.tostring(feed, encoding="utf-8", xml_declaration=True)
    return xml


def _atom_time(value: str) -> str:
    parsed = parse_time(value)
    return isoformat(parsed) if parsed is not None else value


def status_page_html_router(*, status_page: BuiltinStatusPage, pages: Pages) -> APIRouter:
    router = APIRouter(
        prefix="/status", route_class=html_route_class(pages), include_in_schema=False
    )

    def page(name: str, **context: Any) -> Response:
        response = pages.page(name, cache=PUBLIC_CACHE, brand=status_page.branding, **context)
        logo = status_page.branding["logo_url"]
        if logo:  # the logo may live elsewhere: allow its origin for images, nothing more
            response.headers["Content-Security-Policy"] = with_image_origin(
                response.headers["Content-Security-Policy"], logo
            )
        return response

    @router.get("")
    async def status() -> Response:
        summary = await status_page.summary()
        recent = await status_page.incidents()
        history = [public_incident(i) for i in recent["incidents"] if i["status"] == "resolved"][
            :RECENT_HISTORY
        ]
        return page(
            "status.html",
            title=summary["page"]["name"],
            page_doc=summary["page"],
            updated_at=parse_time(summary["page"]["updated_at"]),
            overall=summary["status"],
            components=[public_component(c) for c in summary["components"]],
            open_incidents=[public_incident(i) for i in summary["incidents"]],
            history=history,
            maintenances=[public_maintenance(m) for m in await status_page.maintenances()],
        )

    @router.get("/history")
    async def history() -> Response:
        recent = await status_page.incidents()
        return page(
            "status_history.html",
            title=f"{recent['page']['name']}: history",
            page_doc=recent["page"],
            incidents=[public_incident(i) for i in recent["incidents"]],
        )

    @router.get("/history.atom")
    async def feed() -> Response:
        recent = await status_page.incidents()
        return Response(
            atom_feed(recent["page"], recent["incidents"]),
            media_type="application/atom+xml; charset=utf-8",
            headers={"Cache-Control": PUBLIC_CACHE, **SECURITY_HEADERS},
        )

    async def not_found(message: str) -> Response:
        """The public page's own 404: its look and links, nothing of the console."""
        summary = await status_page.status()
        return page(
            "status_error.html",
            status=404,
            title=f"Page not found · {summary['page']['name']}",
            page_doc=summary["page"],
            code=404,
            heading="Page not found",
            message=message,
        )

    @router.get("/incidents/{incident_id}")
    async def incident(incident_id: str) -> Response:
        doc = await status_page.incident(incident_id)
        if doc is None:
            return await not_found("There is no such incident on this status page.")
        summary = await status_page.status()
        shown = public_incident(doc)
        return page(
            "status_incident.html",
            title=f"{shown['name']}",
            page_doc=summary["page"],
            item=shown,
        )

    @router.get("/{rest:path}")
    async def unknown(rest: str) -> Response:
        if not rest:
            return RedirectResponse("/status", status_code=308)
        if rest.startswith("api/"):  # the Statuspage JSON answers in JSON, as before
            return JSONResponse({"error": "Not Found"}, status_code=404)
        return await not_found("There is no page at this address on the status page.")

    return router
