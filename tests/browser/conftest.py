"""Browser tests: Debian's Chromium, driven by playwright through its executable path, against a
real `serve` process. No browser is downloaded: `.ci/install-browser` installs Debian's.

Every page a test opens is watched: console errors and uncaught exceptions fail the test, and the
screenshots land in bench/screenshots/ (the README shows them).
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, expect, sync_playwright

from tests.browser.harness import CHROMIUM, LAUNCH_ARGS, UI_TIMEOUT_MS, Pages, Site
from tests.support.server import ServeProcess


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "browser: drives headless Chromium against `serve`")


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    """One Chromium for the package (each test gets its own contexts, so no state leaks).
    Package-scoped rather than session-scoped so the sync playwright loop is gone before the
    asyncio tests of other packages run."""
    if not CHROMIUM.exists():
        message = f"{CHROMIUM} is not installed: run .ci/install-browser"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    expect.set_options(timeout=UI_TIMEOUT_MS)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="package")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    with ServeProcess(tmp_path_factory.mktemp("browser-serve")) as server:
        yield Site(server)


@pytest.fixture
def pages(browser: Browser) -> Iterator[Pages]:
    opened = Pages(browser)
    try:
        yield opened
        assert opened.errors() == [], "\n".join(opened.errors())
    finally:
        opened.close()
