"""`GET /api/insights`: MTTA, MTTR, time to first public update and incidents by service and
severity, per ISO week, as JSON or CSV (bearer token; reading them is anyone in the roster).

`from` and `to` are ISO dates or weeks (default: the last 12 weeks); `service` and `severity`
may repeat. A range that cannot be answered is a 422 saying why.
"""

# No `from __future__ import annotations`: FastAPI must see the dependency type defined inside
# the router factory, which string annotations would hide from it.
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import JSONResponse, Response

from incident_response.domain.authority import Action
from incident_response.domain.clock import Clock
from incident_response.domain.insights import InvalidInsightsQuery
from incident_response.domain.people import Person
from incident_response.services.authority import Authority
from incident_response.services.insights import InsightsReader
from incident_response.web.auth import PersonLookup
from incident_response.web.insights_export import (
    CSV_MEDIA_TYPE,
    csv_headers,
    csv_text,
    insights_json,
    query,
)


def insights_router(
    *, reader: InsightsReader, authority: Authority, person: PersonLookup, clock: Clock
) -> APIRouter:
    router = APIRouter(prefix="/api", tags=["insights"])
    Caller = Annotated[Person, Depends(person)]

    @router.get(
        "/insights",
        responses={200: {"content": {"text/csv": {}}, "description": "JSON, or CSV on request"}},
    )
    async def read_insights(
        caller: Caller,
        start: Annotated[str | None, Query(alias="from")] = None,
        end: Annotated[str | None, Query(alias="to")] = None,
        service: Annotated[list[str] | None, Query()] = None,
        severity: Annotated[list[str] | None, Query()] = None,
        format: Annotated[Literal["json", "csv"], Query()] = "json",
    ) -> Response:
        """The incidents opened in the range, week by week (docs/metrics.md defines each figure)."""
        decision = await authority.decide(Action.READ, None, caller.email)
        if not decision.allowed:
            raise HTTPException(403, decision.text)
        try:
            weeks, only = query(
                start=start,
                end=end,
                services=service or [],
                severities=severity or [],
                now=clock.now(),
            )
        except InvalidInsightsQuery as exc:
            raise HTTPException(422, str(exc)) from None
        report = await reader.read(weeks, only)
        if format == "csv":
            return Response(
                csv_text(report.insights),
                media_type=CSV_MEDIA_TYPE,
                headers=csv_headers(report.insights),
            )
        return JSONResponse(
            insights_json(report.insights, truncated=report.truncated),
            headers={"Cache-Control": "private, no-store"},
        )

    return router
