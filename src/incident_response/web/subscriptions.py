"""The status page's webhook subscribers over HTTP: approvers only (bearer token).

`POST /api/status/subscriptions {"url"}` answers 201 with the subscriber and its signing secret
(shown this once); `GET` lists them (never a secret); `DELETE .../{id}` unsubscribes;
`GET .../{id}/deliveries/{key}` says what became of one update's delivery. Refusals: 403 not an
approver, 422 an address that may not be called (or too many subscriptions), 404 unknown.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency types.
from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Response
from pydantic import BaseModel, Field

from incident_response.domain.errors import IncidentResponseError, NotFound
from incident_response.domain.people import Person
from incident_response.domain.subscriptions import MAX_URL_CHARS
from incident_response.services.authority import NotPermitted
from incident_response.services.status_subscriptions import (
    StatusSubscriptions,
    SubscriptionRefused,
)
from incident_response.web.auth import PersonLookup


class SubscribeRequest(BaseModel):
    url: str = Field(max_length=MAX_URL_CHARS, description="Where each update is POSTed.")


def _http_error(exc: IncidentResponseError) -> HTTPException:
    for kind, code in ((NotPermitted, 403), (SubscriptionRefused, 422), (NotFound, 404)):
        if isinstance(exc, kind):
            return HTTPException(code, str(exc))
    return HTTPException(400, str(exc))


def subscriptions_router(*, subscriptions: StatusSubscriptions, person: PersonLookup) -> APIRouter:
    router = APIRouter(prefix="/api/status/subscriptions", tags=["status page"])
    Caller = Annotated[Person, Depends(person)]

    @router.post("", status_code=201)
    async def subscribe(request: SubscribeRequest, caller: Caller) -> dict[str, Any]:
        try:
            subscriber = await subscriptions.subscribe(request.url, actor=caller.email)
        except IncidentResponseError as exc:
            raise _http_error(exc) from None
        return {**subscriber.public(), "secret": subscriber.secret}

    @router.get("")
    async def listing(caller: Caller) -> dict[str, Any]:
        try:
            found = await subscriptions.subscribers(actor=caller.email)
        except IncidentResponseError as exc:
            raise _http_error(exc) from None
        return {"subscribers": [s.public() for s in found]}

    @router.delete("/{subscriber_id}", status_code=204)
    async def unsubscribe(subscriber_id: str, caller: Caller) -> Response:
        try:
            await subscriptions.unsubscribe(subscriber_id, actor=caller.email)
        except IncidentResponseError as exc:
            raise _http_error(exc) from None
        return Response(status_code=204)

    @router.get("/{subscriber_id}/deliveries/{key}")
    async def delivery(subscriber_id: str, key: str, caller: Caller) -> dict[str, Any]:
        try:
            await subscriptions.subscribers(actor=caller.email)  # approvers only
        except IncidentResponseError as exc:
            raise _http_error(exc) from None
        found = await subscriptions.delivery(subscriber_id, key)
        if found is None:
            raise HTTPException(404, f"no delivery {key} to {subscriber_id}")
        return {
            "state": found.state.value,
            "attempts": found.attempts,
            "last_error": found.last_error,
        }

    return router
