"""Signing in to the console over HTTP, on a real Container: tokens, sessions, CSRF, sign-out."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from incident_response import tokens
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world, csrf_of

ALICE = "alice@example.com"


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


async def test_signed_out_visitors_are_sent_to_sign_in_and_come_back(world: ConsoleWorld) -> None:
    browser = world.browser()
    page = await browser.get("/console/metrics?days=7")
    assert page.status_code == 303
    assert page.headers["location"] == "/console/sign-in?next=/console/metrics%3Fdays%3D7"

    form = await browser.get(page.headers["location"])
    signed = await browser.client.post(
        "/console/sign-in",
        data={
            "csrf": csrf_of(form.text),
            "token": world.token(ALICE),
            "next": "/console/metrics?days=7",
        },
    )
    assert signed.status_code == 303
    assert signed.headers["location"] == "/console/metrics?days=7"
    metrics = await browser.get("/console/metrics?days=7")
    assert metrics.status_code == 200
    assert "Alice Martin" in metrics.text


async def test_a_good_token_signs_in_with_a_safe_cookie(world: ConsoleWorld) -> None:
    browser = world.browser()
    response = await browser.sign_in(ALICE)
    assert response.status_code == 303
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("ir_session="))
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "samesite=lax" in cookie.lower()
    assert "Secure" not in cookie  # served over plain http here
    assert world.token(ALICE) not in cookie
    home = await browser.get("/console")
    assert home.status_code == 200
    assert "Signed in as Alice Martin." in home.text


async def test_the_cookie_is_secure_when_the_console_is_served_over_https(
    tmp_path: Path, clock: ManualClock
) -> None:
    async with console_world(tmp_path, clock, base_url="https://console.test") as world:
        response = await world.browser().sign_in(ALICE)
        cookie = next(
            c for c in response.headers.get_list("set-cookie") if c.startswith("ir_session=")
        )
        assert "Secure" in cookie


@pytest.mark.parametrize(
    "token",
    [
        "not-a-token",
        "ir_YWxpY2VAZXhhbXBsZS5jb20.0000000000000000000000000000000000000000",  # forged signature
        "",
    ],
)
async def test_a_bad_token_is_refused_and_signs_nobody_in(world: ConsoleWorld, token: str) -> None:
    browser = world.browser()
    form = await browser.get("/console/sign-in")
    response = await browser.client.post(
        "/console/sign-in", data={"csrf": csrf_of(form.text), "token": token}
    )
    assert response.status_code == 401
    assert "That token was not accepted" in response.text
    assert (await browser.get("/console")).status_code == 303


async def test_a_valid_token_for_someone_not_in_the_roster_is_refused(world: ConsoleWorld) -> None:
    browser = world.browser()
    form = await browser.get("/console/sign-in")
    stranger = tokens.issue(
        "mallory@example.com", world.container.token_key, issued_at=world.clock.now()
    )
    response = await browser.client.post(
        "/console/sign-in", data={"csrf": csrf_of(form.text), "token": stranger}
    )
    assert response.status_code == 401
    assert (await browser.get("/console")).status_code == 303


async def test_signing_in_without_the_forms_csrf_token_is_refused(world: ConsoleWorld) -> None:
    browser = world.browser()
    await browser.get("/console/sign-in")
    for data in ({"token": world.token(ALICE)}, {"token": world.token(ALICE), "csrf": "guess"}):
        response = await browser.client.post("/console/sign-in", data=data)
        assert response.status_code == 403
        assert "Form expired" in response.text
    assert (await browser.get("/console")).status_code == 303


async def test_after_sign_in_only_console_paths_are_followed(world: ConsoleWorld) -> None:
    for target in ("https://evil.example/", "//evil.example/x", "/status", "/console/sign-in"):
        browser = world.browser()
        form = await browser.get("/console/sign-in")
        response = await browser.client.post(
            "/console/sign-in",
            data={"csrf": csrf_of(form.text), "token": world.token(ALICE), "next": target},
        )
        assert response.headers["location"] == "/console"


async def test_sign_out_ends_the_session_and_needs_the_csrf_token(world: ConsoleWorld) -> None:
    browser = await world.signed_in(ALICE)
    refused = await browser.client.post("/console/sign-out", data={})
    assert refused.status_code == 403
    assert (await browser.get("/console")).status_code == 200

    out = await browser.submit("/console", "/console/sign-out", {})
    assert out.status_code == 303
    assert out.headers["location"] == "/console/sign-in"
    assert (await browser.get("/console")).status_code == 303


async def test_live_updates_need_a_session(world: ConsoleWorld) -> None:
    response = await world.browser().get("/console/events")
    assert response.status_code == 401


async def test_unknown_console_pages_get_an_html_404_and_the_api_keeps_json(
    world: ConsoleWorld,
) -> None:
    browser = await world.signed_in(ALICE)
    page = await browser.get("/console/no-such-page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert "Page not found" in page.text
    missing = await browser.get("/console/incidents/inc-missing")
    assert missing.status_code == 404
    assert "There is no incident inc-missing" in missing.text
    api = await browser.get("/api/incidents/inc-missing")
    assert api.status_code == 401
    assert api.json()["error"]


async def test_the_root_leads_to_the_console(world: ConsoleWorld) -> None:
    response = await world.browser().get("/")
    assert response.status_code == 303
    assert response.headers["location"] == "/console"
