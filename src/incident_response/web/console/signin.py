"""Signing in to the console with the personal token from `incident-response token EMAIL`.

The token is checked exactly as the API checks it (signature, then the person must still be in
the directory), and exchanged for a session cookie so it is typed once, not sent on every page.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from incident_response import tokens
from incident_response.domain.people import Person
from incident_response.ports import Directory
from incident_response.web.console.rendering import PageError, Pages, Redirect, html_route_class
from incident_response.web.console.session import Flash, Session, Sessions

SIGN_IN = "/console/sign-in"
HOME = "/console"
MAX_TOKEN_CHARS = 1000


@dataclass(frozen=True)
class Visitor:
    """A signed-in person and their session (its CSRF token goes into every form)."""

    person: Person
    session: Session


def safe_next(target: str | None) -> str:
    """Where to go after signing in: only a path inside the console, never another site."""
    if not target:
        return HOME
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith(HOME) or "\\" in target:
        return HOME
    if parts.path.startswith(SIGN_IN):
        return HOME
    return parts.path + (f"?{parts.query}" if parts.query else "")


class ConsoleAuth:
    def __init__(self, *, sessions: Sessions, directory: Directory, key: bytes) -> None:
        self.sessions = sessions
        self._directory = directory
        self._key = key

    async def visitor(self, request: Request) -> Visitor | None:
        session = self.sessions.read(request)
        if session is None or session.email is None:
            return None
        person = await self._directory.person(session.email)
        if person is None:
            return None  # removed from the roster: access ends at once
        return Visitor(person=person, session=session)

    async def require(self, request: Request) -> Visitor:
        """The signed-in visitor, or a redirect to the sign-in page that comes back here."""
        visitor = await self.visitor(request)
        if visitor is None:
            here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise Redirect(f"{SIGN_IN}?next={quote(here, safe='/')}")
        return visitor

    async def form(self, request: Request, session: Session | None) -> FormData:
        """The posted form, refused (403, nothing done) unless it carries the session's token."""
        form = await request.form()
        if not self.sessions.csrf_ok(session, form.get("csrf")):
            raise PageError(
                403,
                "This form has expired or did not come from this console, so nothing was done. "
                "Go back, reload the page and try again.",
                title="Form expired",
            )
        return form

    async def person_for_token(self, token: str) -> Person | None:
        email = tokens.verify(token.strip(), self._key) if token.strip() else None
        return await self._directory.person(email) if email else None


def signin_router(*, auth: ConsoleAuth, pages: Pages) -> APIRouter:
    router = APIRouter(route_class=html_route_class(pages), include_in_schema=False)
    sessions = auth.sessions

    def sign_in_page(
        session: Session, *, next_url: str, error: str = "", status: int = 200
    ) -> Response:
        response = pages.page(
            "sign_in.html",
            status=status,
            title="Sign in",
            csrf=session.csrf,
            next_url=next_url,
            error=error,
        )
        sessions.write(response, session)
        return response

    @router.get(SIGN_IN)
    async def sign_in_form(request: Request, next: str = HOME) -> Response:
        if await auth.visitor(request) is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        session = sessions.anonymous(sessions.read(request))
        return sign_in_page(session, next_url=safe_next(next))

    @router.post(SIGN_IN)
    async def sign_in(request: Request) -> Response:
        current = sessions.read(request)
        form = await auth.form(request, current)
        token = str(form.get("token") or "")[:MAX_TOKEN_CHARS]
        next_url = safe_next(str(form.get("next") or HOME))
        person = await auth.person_for_token(token)
        if person is None:
            return sign_in_page(
                sessions.anonymous(current),
                next_url=next_url,
                status=401,
                error="That token was not accepted. Paste the whole output of "
                "`incident-response token YOUR-EMAIL`, run against this server's data dir; "
                "your e-mail must be in the roster.",
            )
        response = RedirectResponse(next_url, status_code=303)
        sessions.write(response, sessions.new(person.email))
        sessions.flash(response, Flash(f"Signed in as {person.name or person.email}."))
        return response

    @router.post("/console/sign-out")
    async def sign_out(request: Request) -> Response:
        await auth.form(request, sessions.read(request))
        response = RedirectResponse(SIGN_IN, status_code=303)
        sessions.clear(response)
        return response

    return router
