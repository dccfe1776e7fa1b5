"""Who is calling the API: a personal bearer token, checked against the signing key and the roster."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import HTTPException, Request, status

from incident_response import tokens
from incident_response.domain.people import Person
from incident_response.ports import Directory

PersonLookup = Callable[[Request], Awaitable[Person]]


def bearer_token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


def person_dependency(*, key: bytes, directory: Directory) -> PersonLookup:
    """A FastAPI dependency that yields the calling Person or answers 401."""

    async def current_person(request: Request) -> Person:
        token = bearer_token(request)
        email = tokens.verify(token, key) if token else None
        person = await directory.person(email) if email else None
        if person is None:
            raise HTTPException(
                status_code=status.HTTP_401_UNAUTHORIZED,
                detail="a valid personal token is required: run `incident-response token EMAIL`",
                headers={"WWW-Authenticate": "Bearer"},
            )
        request.state.person = person
        return person

    return current_person
