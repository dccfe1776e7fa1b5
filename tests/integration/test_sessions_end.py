"""Sessions and tokens end, on a real Container over HTTP: signing out ends the console session on
the server, rotating or revoking a person's tokens (as the CLI does, on its own connection to the
data dir) ends them for the running app, and tokens expire and are never good before they are
issued."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from incident_response import tokens
from incident_response.bootstrap import issue_token, revoke_tokens
from incident_response.domain.incident import Incident
from tests.support.clock import ManualClock
from tests.support.console import Browser, ConsoleWorld, console_world, csrf_of

ALICE = "alice@example.com"
BOB = "bob@example.com"


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


def session_cookie(browser: Browser) -> str:
    value = browser.client.cookies.get("ir_session")
    assert value, "the browser holds no session cookie"
    return value


def replaying(world: ConsoleWorld, cookie: str) -> httpx.AsyncClient:
    """Another client presenting a copied session cookie, as a thief or a stale tab would."""
    client = world.browser().client
    client.headers["Cookie"] = f"ir_session={cookie}"
    return client


async def api(world: ConsoleWorld, token: str) -> httpx.Response:
    return await world.browser().client.get(
        "/api/incidents", headers={"Authorization": f"Bearer {token}"}
    )


async def cli_token(
    world: ConsoleWorld, email: str, *, rotate: bool = False, lifetime: timedelta | None = None
) -> str:
    """What `incident-response token EMAIL [--rotate] [--ttl]` prints, on its own connection."""
    return await issue_token(
        world.container.settings, email, rotate=rotate, lifetime=lifetime, clock=world.clock
    )


async def test_a_cookie_replayed_after_sign_out_is_signed_out(world: ConsoleWorld) -> None:
    browser = await world.signed_in(ALICE)
    cookie = session_cookie(browser)
    assert (await replaying(world, cookie).get("/console")).status_code == 200

    out = await browser.submit("/console", "/console/sign-out", {})
    assert out.status_code == 303

    replayed = await replaying(world, cookie).get("/console")
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/console/sign-in")
    assert (await replaying(world, cookie).get("/console/events")).status_code == 401


async def test_a_form_posted_with_the_csrf_token_of_a_signed_out_session_is_refused(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    browser = await world.signed_in(incident.ic or ALICE)
    page = f"/console/incidents/{incident.id}"
    csrf = csrf_of((await browser.get(page)).text)
    cookie = session_cookie(browser)
    await browser.submit("/console", "/console/sign-out", {})

    thief = replaying(world, cookie)
    again = await thief.post("/console/sign-out", data={"csrf": csrf})
    assert again.status_code == 403
    assert "Form expired" in again.text
    signin = await thief.post(
        "/console/sign-in", data={"csrf": csrf, "token": world.token(ALICE), "next": "/console"}
    )
    assert signin.status_code == 403
    tick = await thief.post(f"{page}/checklist", data={"csrf": csrf, "number": "1", "done": "1"})
    assert tick.status_code == 303
    assert tick.headers["location"].startswith("/console/sign-in")
    stored = await world.container.store.get(incident.id)
    assert isinstance(stored, Incident)
    assert not stored.checklist[0].done


async def test_the_database_holds_no_session_id_a_browser_could_present(
    world: ConsoleWorld,
) -> None:
    browser = await world.signed_in(ALICE)
    payload = session_cookie(browser).rpartition(".")[0]
    session_id = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))["s"]

    rows = await world.container.db.fetchall("SELECT * FROM console_sessions")

    assert len(rows) == 1
    assert all(session_id not in str(value) for value in tuple(rows[0]))


async def test_signing_in_again_ends_the_session_it_replaces(world: ConsoleWorld) -> None:
    browser = await world.signed_in(ALICE)
    before = session_cookie(browser)

    again = await browser.submit(
        "/console", "/console/sign-in", {"token": world.token(BOB), "next": "/console"}
    )
    assert again.status_code == 303

    assert (await replaying(world, before).get("/console")).status_code == 303
    assert "Bob" in (await browser.get("/console")).text


async def test_signing_out_ends_only_that_session(world: ConsoleWorld) -> None:
    laptop = await world.signed_in(ALICE)
    phone = await world.signed_in(ALICE)

    await laptop.submit("/console", "/console/sign-out", {})

    assert (await laptop.get("/console")).status_code == 303
    assert (await phone.get("/console")).status_code == 200


async def test_rotating_ends_earlier_tokens_and_the_new_one_works(world: ConsoleWorld) -> None:
    old = await cli_token(world, ALICE)
    bobs = await cli_token(world, BOB)
    assert (await api(world, old)).status_code == 200

    new = await cli_token(world, ALICE, rotate=True)

    refused = await api(world, old)
    assert refused.status_code == 401
    assert refused.json()["error"] == (
        "token revoked: run `incident-response token EMAIL` for a new one"
    )
    assert (await api(world, new)).status_code == 200
    assert (await api(world, bobs)).status_code == 200


async def test_a_rotated_token_no_longer_signs_in_to_the_console(world: ConsoleWorld) -> None:
    old = await cli_token(world, ALICE)
    await cli_token(world, ALICE, rotate=True)

    browser = world.browser()
    form = await browser.get("/console/sign-in")
    response = await browser.client.post(
        "/console/sign-in", data={"csrf": csrf_of(form.text), "token": old}
    )

    assert response.status_code == 401
    assert "token revoked" in response.text
    assert (await browser.get("/console")).status_code == 303


async def test_revoking_ends_every_token_and_console_session_of_that_person(
    world: ConsoleWorld,
) -> None:
    token = await cli_token(world, ALICE)
    laptop = await world.signed_in(ALICE)
    phone = await world.signed_in(ALICE)
    bob = await world.signed_in(BOB)

    assert await revoke_tokens(world.container.settings, ALICE) == ALICE

    assert (await api(world, token)).status_code == 401
    assert "token revoked" in (await api(world, token)).json()["error"]
    for browser in (laptop, phone):
        assert (await browser.get("/console")).status_code == 303
    assert (await bob.get("/console")).status_code == 200
    fresh = await cli_token(world, ALICE)
    assert (await api(world, fresh)).status_code == 200
    again = world.browser()
    form = await again.get("/console/sign-in")
    await again.client.post("/console/sign-in", data={"csrf": csrf_of(form.text), "token": fresh})
    assert (await again.get("/console")).status_code == 200


async def test_a_token_with_a_lifetime_expires_on_time(world: ConsoleWorld) -> None:
    token = await cli_token(world, ALICE, lifetime=timedelta(minutes=30))

    world.clock.advance(minutes=29, seconds=59)
    assert (await api(world, token)).status_code == 200
    world.clock.advance(seconds=1)
    expired = await api(world, token)
    assert expired.status_code == 401
    assert expired.json()["error"] == (
        "token expired: run `incident-response token EMAIL` for a new one"
    )


async def test_a_token_issued_in_the_future_is_refused(world: ConsoleWorld) -> None:
    key = world.container.token_key
    ahead = tokens.issue(ALICE, key, issued_at=world.clock.now() + timedelta(minutes=5))
    skewed = tokens.issue(ALICE, key, issued_at=world.clock.now() + timedelta(seconds=50))

    refused = await api(world, ahead)
    assert refused.status_code == 401
    assert "issued in the future" in refused.json()["error"]
    assert (await api(world, skewed)).status_code == 200


async def test_a_token_of_the_old_format_is_refused_with_a_way_forward(
    world: ConsoleWorld,
) -> None:
    encoded = base64.urlsafe_b64encode(ALICE.encode()).decode().rstrip("=")
    mac = hmac.new(
        world.container.token_key, f"api-token:{ALICE}".encode(), hashlib.sha256
    ).hexdigest()[:40]

    refused = await api(world, f"ir_{encoded}.{mac}")

    assert refused.status_code == 401
    assert refused.json()["error"] == (
        "token of an older format, no longer accepted: "
        "run `incident-response token EMAIL` for a new one"
    )


async def test_a_session_cookie_issued_in_the_future_is_signed_out(world: ConsoleWorld) -> None:
    browser = await world.signed_in(ALICE)
    cookie = session_cookie(browser)
    world.clock.advance(minutes=-2)

    assert (await replaying(world, cookie).get("/console")).status_code == 303
