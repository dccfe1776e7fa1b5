"""The alert webhooks: authenticate, bound the body, parse, record, enqueue, answer 202.

Checks run cheapest first and none of the refusals stores or enqueues anything:
413 (Content-Length) -> 401 (a bearer secret, before the body is read) -> 413 (the bytes
actually read) -> 401 (a signature, which covers the body) -> 422 -> 202.
OnCall gives a receiver 4 s and retries only time-outs, so nothing here waits on a vendor; storage
that stays busy past the intake's budget (about 3 s) is a 503 with Retry-After, never a 500.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import APIRouter, Request, status
from fastapi.responses import JSONResponse
from starlette.requests import ClientDisconnect

from incident_response.domain.alert import AlertSource
from incident_response.domain.errors import InvalidAlert, StorageBusy
from incident_response.intake.auth import (
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    Unauthorized,
    WebhookVerifier,
)
from incident_response.intake.service import AlertIntake
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

DEFAULT_MAX_BODY_BYTES = 1024 * 1024
RETRY_AFTER_SECONDS = 2

_RESPONSES: dict[int | str, dict[str, Any]] = {
    202: {"description": "Accepted: `{accepted, duplicates}`"},
    401: {"description": "Missing or wrong credentials"},
    413: {"description": "Body larger than the limit"},
    422: {"description": "Invalid body: `{error: '<field>: <problem>'}`"},
    503: {"description": "Storage busy for too long: send the same body again after Retry-After"},
}


class _TooLarge(Exception):
    pass


def webhook_router(
    intake: AlertIntake,
    verifier: WebhookVerifier,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
) -> APIRouter:
    router = APIRouter(tags=["webhooks"])

    def endpoint(source: AlertSource) -> Callable[[Request], Awaitable[JSONResponse]]:
        async def receive(request: Request) -> JSONResponse:
            declared = request.headers.get("content-length")
            if declared is not None:
                declared = declared.strip()
                if not (declared.isascii() and declared.isdigit() and len(declared) <= 19):
                    return _error(status.HTTP_400_BAD_REQUEST, "Content-Length: not a number")
                if int(declared) > max_body_bytes:
                    return _too_large(max_body_bytes)
            signed = any(h in request.headers for h in (TIMESTAMP_HEADER, SIGNATURE_HEADER))
            if not signed:
                # a bearer secret is all in the headers: refuse a stranger before reading a
                # byte of what may be a large (or never-ending) body
                refused = await _unauthorized(verifier, request, b"")
                if refused is not None:
                    return refused
            try:
                body = await _read(request, max_body_bytes)
            except _TooLarge:
                return _too_large(max_body_bytes)
            except ClientDisconnect:
                return _error(status.HTTP_400_BAD_REQUEST, "body: the client went away")
            if signed:
                refused = await _unauthorized(verifier, request, body)
                if refused is not None:
                    return refused
            try:
                result = await intake.accept(source.value, body, request.headers)
            except InvalidAlert as exc:
                return _error(status.HTTP_422_UNPROCESSABLE_CONTENT, str(exc))
            except StorageBusy as exc:
                log.warning("intake.busy", source=source.value, error=str(exc))
                return _error(
                    status.HTTP_503_SERVICE_UNAVAILABLE,
                    f"{exc}: send the same body again",
                    headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
                )
            return JSONResponse(
                {"accepted": result.accepted, "duplicates": result.duplicates},
                status_code=status.HTTP_202_ACCEPTED,
            )

        receive.__name__ = f"receive_{source.name.lower()}"
        return receive

    router.add_api_route(
        "/webhooks/grafana-oncall",
        endpoint(AlertSource.GRAFANA_ONCALL),
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        summary="Grafana OnCall outgoing webhook",
        responses=_RESPONSES,
    )
    router.add_api_route(
        "/webhooks/alertmanager",
        endpoint(AlertSource.ALERTMANAGER),
        methods=["POST"],
        status_code=status.HTTP_202_ACCEPTED,
        summary="Prometheus Alertmanager webhook (version 4)",
        responses=_RESPONSES,
    )
    return router


async def _read(request: Request, limit: int) -> bytes:
    """The body, refusing as soon as it grows past `limit` (a chunked upload has no length)."""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
    return b"".join(chunks)


async def _unauthorized(
    verifier: WebhookVerifier, request: Request, body: bytes
) -> JSONResponse | None:
    try:
        await verifier.verify(request.headers, body)
    except Unauthorized as exc:
        return _error(
            status.HTTP_401_UNAUTHORIZED, str(exc), headers={"WWW-Authenticate": "Bearer"}
        )
    return None


def _too_large(limit: int) -> JSONResponse:
    return _error(status.HTTP_413_CONTENT_TOO_LARGE, f"body: larger than {limit} bytes")


def _error(code: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=code, headers=headers)
