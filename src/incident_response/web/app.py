"""The HTTP application, assembled from routers the composition root hands it."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from incident_response import __version__
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

Hook = Callable[[], Awaitable[None]]


def create_app(
    *,
    routers: Sequence[APIRouter],
    on_startup: Sequence[Hook] = (),
    on_shutdown: Sequence[Hook] = (),
) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        for hook in on_startup:
            await hook()
        try:
            yield
        finally:
            for hook in on_shutdown:
                try:
                    await hook()
                except Exception:
                    log.exception("shutdown.hook_failed")

    # No /docs or /redoc: FastAPI's pages load their scripts from a CDN, which a production
    # service must not pull into an operator's browser. /openapi.json describes the API.
    app = FastAPI(
        title="incident-response",
        version=__version__,
        description="Incident commander's assistant: alert intake, war rooms, approved status updates.",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    for router in routers:
        app.include_router(router)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return JSONResponse({"error": exc.detail}, status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        field = ".".join(str(p) for p in first["loc"] if p != "body")
        return JSONResponse({"error": f"{field}: {first['msg']}" if field else first["msg"]}, 422)

    @app.middleware("http")
    async def access_log(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        # a JSON (or any) answer is never to be sniffed into something a browser would run
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if request.url.path not in ("/healthz", "/readyz"):
            log.info(
                "http.request",
                method=request.method,
                path=request.url.path,
                status=response.status_code,
                duration_ms=round((time.perf_counter() - started) * 1000, 2),
            )
        return response

    return app
