"""`GET /metrics`: the service's metrics in Prometheus text format, for teams without an
OpenTelemetry collector. Unauthenticated like /healthz (a scraper has no token); its labels
hold no incident data, only severity, outcome and the failing lookup's source."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import Response
from prometheus_client import CONTENT_TYPE_LATEST


def prometheus_router(render: Callable[[], Awaitable[bytes]]) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/metrics")
    async def metrics() -> Response:
        """Every metric in the Prometheus text exposition format."""
        return Response(await render(), media_type=CONTENT_TYPE_LATEST)

    return router
