"""Slow and half-sent requests against a real `serve`: they neither stop alert intake nor hold
their connections forever, and a stranger is refused before their body is read."""

from __future__ import annotations

import contextlib
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.payloads import oncall_payload
from tests.support.server import SECRET, ServeProcess, clean_env

pytestmark = pytest.mark.slow

HALF_HEAD = b"POST /webhooks/grafana-oncall HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n"


def limited(tmp_path: Path, **extra: str) -> ServeProcess:
    env = clean_env(
        tmp_path,
        INCIDENT_RESPONSE_HTTP_HEADER_TIMEOUT_SECONDS="2",
        INCIDENT_RESPONSE_HTTP_BODY_TIMEOUT_SECONDS="3",
        **extra,
    )
    return ServeProcess(tmp_path, env=env)


@contextlib.contextmanager
def connections(
    server: ServeProcess, count: int, first_bytes: bytes
) -> Iterator[list[socket.socket]]:
    socks = []
    try:
        for _ in range(count):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=5)
            sock.sendall(first_bytes)
            socks.append(sock)
        yield socks
    finally:
        for sock in socks:
            sock.close()


def closed_by_server(sock: socket.socket) -> bool:
    sock.settimeout(0.05)
    try:
        return sock.recv(4096) == b"" or True  # any answer (a 503) or EOF
    except TimeoutError:
        return False
    except OSError:
        return True


def wait_all_closed(socks: list[socket.socket], within: float) -> float:
    started = time.monotonic()
    open_socks = list(socks)
    while open_socks and time.monotonic() - started < within:
        open_socks = [s for s in open_socks if not closed_by_server(s)]
        time.sleep(0.1)
    assert not open_socks, f"{len(open_socks)} of {len(socks)} still open after {within} s"
    return time.monotonic() - started


def deliver(server: ServeProcess, group: str, secret: str = SECRET) -> tuple[int, float]:
    body = json.dumps(oncall_payload(group=group, labels={"service": f"svc-{group}"}))
    started = time.monotonic()
    response = httpx.post(
        server.base + "/webhooks/grafana-oncall",
        content=body,
        headers={"Authorization": f"Bearer {secret}", "Content-Type": "application/json"},
        timeout=10,
    )
    return response.status_code, time.monotonic() - started


def test_hundreds_of_half_sent_requests_neither_block_intake_nor_linger(tmp_path: Path) -> None:
    with limited(tmp_path) as server:
        with (
            connections(server, 300, HALF_HEAD) as heads,
            connections(
                server,
                50,
                HALF_HEAD + f"Authorization: Bearer {SECRET}\r\n\r\n".encode() + b'{"event"',
            ) as bodies,
        ):
            code, took = deliver(server, "ISLOW0001")
            assert code == 202
            assert took < 1.0

            wait_all_closed(heads, within=15)  # head deadline 2 s
            wait_all_closed(bodies, within=15)  # body deadline 3 s after the head

        assert deliver(server, "ISLOW0002")[0] == 202


def test_a_stranger_is_refused_before_their_body_is_read(tmp_path: Path) -> None:
    with (
        limited(tmp_path) as server,
        connections(server, 1, HALF_HEAD + b"Authorization: Bearer not-the-secret\r\n\r\n") as (
            sock,
        ),
    ):
        sock.settimeout(2)
        answer = sock.recv(4096)

    assert answer.startswith(b"HTTP/1.1 401")


def test_past_the_connection_cap_intake_answers_503_then_recovers(tmp_path: Path) -> None:
    with limited(tmp_path, INCIDENT_RESPONSE_HTTP_MAX_CONNECTIONS="20") as server:
        with connections(server, 30, HALF_HEAD) as heads:
            code, _ = deliver(server, "ICAP0001")
            assert code == 503
            wait_all_closed(heads, within=15)
        assert deliver(server, "ICAP0002")[0] == 202
        log = server.log()

    assert log.count("Exceeded concurrency limit") <= 2  # once per interval, not per request
