"""Signing in to the console with the personal token from `incident-response token EMAIL`.

The token is checked exactly as the API checks it (signature, generation and lifetime, then the
person must still be in the directory), and exchanged for a session cookie so it is typed once,
not sent on every page. The signed-in session is kept server-side (Credentials port): signing
out deletes it, and `incident-response token revoke EMAIL` moves the person's session generation
on, so a copied cookie, and the CSRF token in it, is worth nothing afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlsplit

from fastapi import APIRouter
from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from incident_response.domain.people import Person
from incident_response.ports import ConsoleSessionRecord, Credentials, Directory
from incident_response.tokens import TokenProblem, TokenRefused, TokenVerifier
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
    def __init__(
        self,
        *,
        sessions: Sessions,
        directory: Directory,
        tokens: TokenVerifier,
        credentials: Credentials,
    ) -> None:
        self.sessions = sessions
        self._directory = directory
        self._tokens = tokens
        self._credentials = credentials

    async def session(self, request: Request) -> Session | None:
        """The request's session: an anonymous one as its cookie says, a signed-in one only
        while the server still holds it at the person's current session generation."""
        session = self.sessions.read(request)
        if session is None or session.id is None or session.email is None:
            return session
        stored = await self._credentials.session(self.sessions.key_of(session.id))
        if stored is None or stored.email != session.email.strip().lower():
            return None  # signed out (or never stored)
        current = await self._credentials.generations(session.email)
        if stored.generation != current.sessions:
            return None  # the person's tokens and sessions were revoked since
        return session

    async def sign_in(self, person: Person) -> Session:
        """A new signed-in session for `person`, stored before its cookie is handed out."""
        session = self.sessions.new(person.email)
        assert session.id is not None  # signed-in sessions always have one
        current = await self._credentials.generations(person.email)
        await self._credentials.open_session(
            ConsoleSessionRecord(
                key=self.sessions.key_of(session.id),
                email=person.email,
                generation=current.sessions,
                issued_at=session.issued_at,
                expires_at=self.sessions.expires_at(session),
            )
        )
        return session

    async def sign_out(self, session: Session | None) -> None:
        if session is not None and session.id is not None:
            await self._credentials.end_session(self.sessions.key_of(session.id))

    async def visitor(self, request: Request) -> Visitor | None:
        session = await self.session(request)
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

    async def person_for_token(self, token: str) -> Person:
        """The token's person, or TokenRefused saying why not."""
        email = await self._tokens.email(token)
        person = await self._directory.person(email)
        if person is None:
            raise TokenRefused(TokenProblem.INVALID)
        return person


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
        session = sessions.anonymous(await auth.session(request))
        return sign_in_page(session, next_url=safe_next(next))

    @router.post(SIGN_IN)
    async def sign_in(request: Request) -> Response:
        current = await auth.session(request)
        form = await auth.form(request, current)
        token = str(form.get("token") or "")[:MAX_TOKEN_CHARS]
        next_url = safe_next(str(form.get("next") or HOME))
        try:
            person = await auth.person_for_token(token)
        except TokenRefused as refused:
            why = "" if refused.problem is TokenProblem.INVALID else f" ({refused})"
            return sign_in_page(
                sessions.anonymous(current),
                next_url=next_url,
                status=401,
                error=f"That token was not accepted{why}. Paste the whole output of "
                "`incident-response token YOUR-EMAIL`, run against this server's data dir; "
                "your e-mail must be in the roster.",
            )
        await auth.sign_out(current)  # signing in again replaces this browser's session
        response = RedirectResponse(next_url, status_code=303)
        sessions.write(response, await auth.sign_in(person))
        sessions.flash(response, Flash(f"Signed in as {person.name or person.email}."))
        return response

    @router.post("/console/sign-out")
    async def sign_out(request: Request) -> Response:
        current = await auth.session(request)
        await auth.form(request, current)
        await auth.sign_out(current)
        response = RedirectResponse(SIGN_IN, status_code=303)
        sessions.clear(response)
        return response

    return router
