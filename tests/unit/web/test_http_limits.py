"""Overload is logged once per interval with a count, not once per event."""

from __future__ import annotations

import logging

import pytest

from incident_response.web.http_limits import OncePerInterval


def test_overload_lines_are_held_back_and_counted(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.overload")
    logger.addFilter(OncePerInterval(interval_seconds=3600))
    try:
        with caplog.at_level(logging.WARNING, logger="test.overload"):
            for _ in range(500):
                logger.error("socket.accept() out of system resource")
                logger.warning("Exceeded concurrency limit.")
            logger.warning("something else")
            logger.warning("something else")
    finally:
        logger.filters.clear()

    messages = [r.getMessage() for r in caplog.records]
    assert messages.count("socket.accept() out of system resource") == 1
    assert messages.count("Exceeded concurrency limit.") == 1
    assert messages.count("something else") == 2


def test_after_the_interval_the_next_line_says_how_many_were_held_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    clock = [0.0]
    logger = logging.getLogger("test.overload.interval")
    logger.addFilter(OncePerInterval(interval_seconds=10, now=lambda: clock[0]))
    try:
        with caplog.at_level(logging.WARNING, logger="test.overload.interval"):
            for _ in range(7):
                logger.warning("Exceeded concurrency limit.")
            clock[0] = 11.0
            logger.warning("Exceeded concurrency limit.")
    finally:
        logger.filters.clear()

    assert [r.getMessage() for r in caplog.records] == [
        "Exceeded concurrency limit.",
        "Exceeded concurrency limit. (6 more in the last 10 s not logged)",
    ]
