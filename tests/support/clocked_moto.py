"""moto's server with a clock the tests move: `python -m tests.support.clocked_moto PORT`.

SQS keeps its timers (visibility timeouts, the 5-minute deduplication window, long polls) on
AWS's clock, and moto keeps them on the wall clock. The EventQueue suite moves the service's
clock by hand (a ManualClock) past those timers; `MovableClock` (below) moves this server's clock
with it, so the suite runs unchanged against SQS without waiting out real minutes. Only SQS's
notion of now is moved: requests are still signed and dated with the real time.

    POST /_clock/advance?seconds=29.5   moves SQS's clock forward (answers the new offset)

It also keeps one promise of SQS's that moto does not: a receipt handle is good only until the
message is received again. SQS documents that DeleteMessage must be given "the most recently
received ReceiptHandle for the message (otherwise, the request succeeds, but the message will not
be deleted)" and refuses to change the visibility through an expired handle; moto accepts any
handle the message ever had, so a worker whose message was redelivered to another could still
delete it there. Nor does moto refuse to change the visibility of a message that is no longer in
flight, which SQS answers with MessageNotInflight.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs

import httpx
import moto.sqs.models as sqs_models
from moto.core.utils import unix_time
from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from moto.sqs.exceptions import SQSException
from werkzeug.serving import run_simple

from tests.support.clock import ManualClock

ADVANCE_PATH = "/_clock/advance"


class _Offset:
    def __init__(self) -> None:
        self._seconds = 0.0
        self._lock = threading.Lock()

    def add(self, seconds: float) -> float:
        with self._lock:
            self._seconds += seconds
            return self._seconds

    def now(self, dt: datetime | None = None) -> float:
        return unix_time(dt) if dt is not None else unix_time() + self._seconds


_offset = _Offset()


def _moved_unix_time(dt: datetime | None = None) -> float:
    return _offset.now(dt)


def _moved_unix_time_millis(dt: datetime | None = None) -> float:
    return _offset.now(dt) * 1000.0


def _is_current_receipt(message: Any, receipt_handle: str) -> bool:
    return bool(message.receipt_handle == receipt_handle)


_delete_message = sqs_models.Queue.delete_message


def _delete_message_by_current_receipt(queue: Any, receipt_handle: str) -> None:
    if any(receipt_handle in m._old_receipt_handles for m in queue._messages):
        return  # SQS: "the request succeeds, but the message will not be deleted"
    _delete_message(queue, receipt_handle)


class MessageNotInflight(SQSException):
    def __init__(self) -> None:
        super().__init__("MessageNotInflight", "The message referred to isn't in flight.")


_change_message_visibility = sqs_models.SQSBackend.change_message_visibility


def _change_visibility_in_flight(
    backend: Any, queue_name: str, receipt_handle: str, visibility_timeout: int
) -> None:
    queue = backend.get_queue(queue_name)
    if any(m.receipt_handle == receipt_handle and m.visible for m in queue._messages):
        raise MessageNotInflight
    _change_message_visibility(backend, queue_name, receipt_handle, visibility_timeout)


def _with_clock_route(app: Any) -> Callable[..., Iterable[bytes]]:
    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if environ.get("PATH_INFO") != ADVANCE_PATH:
            return app(environ, start_response)  # type: ignore[no-any-return]
        query = parse_qs(environ.get("QUERY_STRING", ""))
        try:
            seconds = float(query["seconds"][0])
        except (KeyError, ValueError):
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"seconds=<number> is required\n"]
        if not seconds >= 0:
            start_response("400 Bad Request", [("Content-Type", "text/plain")])
            return [b"a clock only moves forward\n"]
        total = _offset.add(seconds)
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [f"{total}\n".encode()]

    return wsgi


def main(port: int) -> None:
    sqs_models.unix_time = _moved_unix_time  # type: ignore[attr-defined]
    sqs_models.unix_time_millis = _moved_unix_time_millis  # type: ignore[attr-defined]
    sqs_models.Message.had_receipt_handle = _is_current_receipt  # type: ignore[method-assign,assignment]
    sqs_models.Queue.delete_message = _delete_message_by_current_receipt  # type: ignore[method-assign,assignment]
    sqs_models.SQSBackend.change_message_visibility = _change_visibility_in_flight  # type: ignore[method-assign,assignment]
    app = _with_clock_route(DomainDispatcherApplication(create_backend_app))
    # threaded: a long poll must not hold up the send that ends it
    run_simple("127.0.0.1", port, app, threaded=True, request_handler=MotoRequestHandler)


class MovableClock(ManualClock):
    """The service's ManualClock and the clocked moto server's SQS clock, moved together."""

    def __init__(self, server_url: str, start: datetime | None = None) -> None:
        super().__init__(start)
        self._advance_url = f"{server_url}{ADVANCE_PATH}"

    def advance(self, seconds: float = 0, **kwargs: float) -> datetime:
        before = self.now()
        after = super().advance(seconds, **kwargs)
        moved = (after - before).total_seconds()
        httpx.post(self._advance_url, params={"seconds": moved}, timeout=5).raise_for_status()
        return after


if __name__ == "__main__":
    main(int(sys.argv[1]))
