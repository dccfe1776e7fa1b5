"""Who is calling the API: a personal bearer token, checked against the signing key, the person's
token generation (rotated or revoked tokens stop working at once) and the roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status

from incident_response.domain.clock import Clock
from incident_response.domain.people import Person
from incident_response.ports import Credentials, Directory
from incident_response.tokens import MESSAGES, TokenProblem, TokenRefused, TokenVerifier

PersonLookup = Callable[[Request], Awaitable[Person]]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def person_dependency(
    *, key: bytes, directory: Directory, credentials: Credentials, clock: Clock
) -> PersonLookup:
    """A FastAPI dependency that yields the calling Person or answers 401 saying why."""
    verifier = TokenVerifier(key=key, credentials=credentials, clock=clock)

    def refuse(problem: TokenProblem) -> HTTPException:
        return HTTPException(
            status_code=status.HTTP_401_UNAUTHORIZED,
            detail=MESSAGES[problem],
            headers={"WWW-Authenticate": "Bearer"},
        )

    async def current_person(request: Request) -> Person:
        token = bearer_token(request)
        if token is None:
            raise refuse(TokenProblem.INVALID)
        try:
            email = await verifier.email(token)
        except TokenRefused as refused:
            raise refuse(refused.problem) from None
        person = await directory.person(email)
        if person is None:
            raise refuse(TokenProblem.INVALID)
        request.state.person = person
        return person

    return current_person
