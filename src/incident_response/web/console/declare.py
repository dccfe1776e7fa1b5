"""The console's Declare incident form: the same declaration service as Slack and the API.

The form carries a key made when it is shown, so posting it twice (a double click, a resend after
a lost answer) opens one incident. A refused field comes back in the form, beside its input,
with what was typed kept; nothing is stored then.
"""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from incident_response.domain.alert import Severity
from incident_response.domain.declaration import (
    MAX_SERVICE_CHARS,
    MAX_SUMMARY_CHARS,
    MAX_TITLE_CHARS,
    InvalidDeclaration,
)
from incident_response.services.authority import NotPermitted
from incident_response.web.console.incidents import ConsolePages, incident_url
from incident_response.web.console.rendering import PageError, Pages, html_route_class
from incident_response.web.console.services import ConsoleServices
from incident_response.web.console.session import Flash
from incident_response.web.console.signin import ConsoleAuth, Visitor

DECLARE_URL = "/console/declare"
FIELDS = ("title", "severity", "service", "summary", "ic")
KEY_CHARS = 64


def _entered(form: FormData) -> dict[str, str]:
    return {name: str(form.get(name) or "")[:20_000] for name in FIELDS}


class DeclareForm:
    def __init__(self, *, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> None:
        self._services = services
        self._auth = auth
        self._console = ConsolePages(pages=pages, auth=auth)

    async def show(self, request: Request) -> Response:
        visitor = await self._auth.require(request)
        return await self._page(request, visitor, {"ic": visitor.person.email}, {})

    async def submit(self, request: Request) -> Response:
        visitor = await self._auth.require(request)
        form = await self._auth.form(request, visitor.session)
        entered = _entered(form)
        key = str(form.get("key") or "")[:KEY_CHARS]
        try:
            declared = await self._services.declarations.declare(
                declared_by=visitor.person.email,
                title=entered["title"],
                severity=entered["severity"],
                service=entered["service"],
                summary=entered["summary"],
                ic=entered["ic"] or None,
                key=f"console:{key}" if key else None,
            )
        except InvalidDeclaration as exc:
            return await self._page(request, visitor, entered, exc.problems, key=key, status=422)
        except NotPermitted as exc:
            raise PageError(403, "; ".join(exc.reasons)) from None
        incident = declared.incident
        response = RedirectResponse(incident_url(incident.id), status_code=303)
        self._auth.sessions.flash(
            response,
            Flash(
                f"Declared {incident.severity.value} incident {incident.id}. Its war room is "
                "being assembled: the IC and who is on call are invited.",
                True,
            ),
        )
        return response

    async def _page(
        self,
        request: Request,
        visitor: Visitor,
        entered: dict[str, str],
        problems: dict[str, str],
        *,
        key: str = "",
        status: int = 200,
    ) -> Response:
        people = sorted(
            await self._services.directory.people(), key=lambda p: (p.name or p.email).casefold()
        )
        response = self._console.show(
            request,
            visitor,
            "declare.html",
            nav="incidents",
            title="Declare incident",
            entered=entered,
            problems=problems,
            key=key or uuid.uuid4().hex,
            severities=[s.value for s in Severity],
            people=people,
            max_title=MAX_TITLE_CHARS,
            max_service=MAX_SERVICE_CHARS,
            max_summary=MAX_SUMMARY_CHARS,
        )
        response.status_code = status
        return response


def declare_router(*, services: ConsoleServices, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)
    form = DeclareForm(services=services, auth=auth, pages=pages)
    router.add_api_route(DECLARE_URL, form.show, methods=["GET"])
    router.add_api_route(DECLARE_URL, form.submit, methods=["POST"])
    return router
