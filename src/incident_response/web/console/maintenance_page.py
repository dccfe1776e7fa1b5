"""The console's scheduled-maintenance page: approvers announce planned work and approve it.

The page lists every maintenance with its current draft shown exactly as customers will read it
(name, window, components, text); the Approve & Publish button beside it carries that draft's
version, so what is approved is what was on screen. Scheduling and approving go through
`services.maintenance` (and so the StatusUpdateGate), like the API; everyone in the roster may
look, only approvers are offered the forms (and only they are allowed by the service).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from incident_response.domain.authority import Action
from incident_response.domain.errors import IncidentResponseError
from incident_response.domain.maintenance import PHASE_LABELS, phase
from incident_response.domain.status_update import DraftStatus
from incident_response.services.maintenance import MaintenanceDesk
from incident_response.web.console.incidents import ConsolePages
from incident_response.web.console.rendering import PageError, Pages, html_route_class
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.session import Flash
from incident_response.web.console.signin import ConsoleAuth

PAGE = "/console/maintenance"


def _field(form: FormData, name: str, limit: int = 6000) -> str:
    value = form.get(name)
    return value[:limit] if isinstance(value, str) else ""


def _utc(raw: str) -> str:
    """A `datetime-local` field's value (no zone; the form says UTC) as ISO 8601 UTC."""
    raw = raw.strip()
    if raw and "T" in raw and not raw.endswith("Z") and "+" not in raw[10:]:
        return raw + ("Z" if raw.count(":") >= 2 else ":00Z")
    return raw


def maintenance_router(*, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)
    console = ConsolePages(pages=pages, auth=auth)

    def desk() -> MaintenanceDesk:
        if services.maintenance is None:
            raise PageError(404, "Scheduled maintenance is not available here.")
        return services.maintenance

    def answer(text: str, *, ok: bool) -> Response:
        response = RedirectResponse(PAGE, status_code=303)
        auth.sessions.flash(response, Flash(text, ok))
        return response

    @router.get(PAGE)
    async def listing(request: Request) -> Response:
        visitor = await auth.require(request)
        email = visitor.person.email
        found = await desk().recent(actor=email)
        now = services.clock.now()
        items = []
        for m in found:
            current = m.drafts[-1]
            shown = None
            if current.scheduled_for and current.scheduled_until:
                shown = PHASE_LABELS[phase(current.scheduled_for, current.scheduled_until, now)]
            items.append({"m": m, "draft": current, "phase": shown})
        may = await services.authority.decide(Action.MANAGE_STATUS_PAGE, None, email)
        return console.show(
            request,
            visitor,
            "maintenance.html",
            nav="maintenance",
            title="Scheduled maintenance",
            items=items,
            may_manage=may.allowed,
            published=DraftStatus.PUBLISHED,
        )

    @router.post(PAGE)
    async def schedule(request: Request) -> Response:
        visitor = await auth.require(request)
        form = await auth.form(request, visitor.session)
        try:
            made = await desk().schedule(
                actor=visitor.person.email,
                title=_field(form, "title", 200),
                body=_field(form, "body").replace("\r\n", "\n"),
                scheduled_for=_utc(_field(form, "scheduled_for", 40)),
                scheduled_until=_utc(_field(form, "scheduled_until", 40)),
                components=[n for n in _field(form, "components", 700).split(",") if n.strip()],
            )
        except IncidentResponseError as exc:
            return answer(f"Not scheduled: {exc}", ok=False)
        return answer(
            f"Maintenance {made.id} is drafted. Nothing is public until an approver approves it.",
            ok=True,
        )

    @router.post(PAGE + "/{maintenance_id}/drafts/{draft_id}/approve")
    async def approve(request: Request, maintenance_id: str, draft_id: str) -> Response:
        visitor = await auth.require(request)
        form = await auth.form(request, visitor.session)
        version = _field(form, "version", 12)
        if not version.isdigit():
            raise PageError(400, "The form did not say which version you read.")
        try:
            await desk().approve(
                maintenance_id, draft_id, actor=visitor.person.email, version=int(version)
            )
        except IncidentResponseError as exc:
            return answer(f"Not published: {exc}", ok=False)
        return answer(f"Maintenance {maintenance_id} is on the status page.", ok=True)

    return router
