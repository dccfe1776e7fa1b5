"""Postmortems are internal: a console page for signed-in people (the Markdown rendered, nothing
raw from an alert title let through), the file for download, and the Markdown for API clients."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from incident_response.domain.incident import Incident
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world, csrf_of

HOSTILE = 'Checkout <script>alert("pwned")</script> <img src=x onerror=alert(1)>'


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


async def resolved(world: ConsoleWorld, *, title: str = "HighErrorRate checkout") -> Incident:
    """An incident resolved from the console, with its postmortem filed."""
    incident = await world.alert(title=title)
    ic = await world.signed_in(incident.ic or "")
    page = f"/console/incidents/{incident.id}"
    confirm = await ic.submit(page, f"{page}/resolve", {})
    done = await ic.client.post(
        f"{page}/resolve", data={"csrf": csrf_of(confirm.text), "confirmed": "yes"}
    )
    assert done.status_code == 303
    await world.process()
    found = await world.container.store.get(incident.id)
    assert found is not None
    assert found.postmortem is not None
    return found


def path_of(incident: Incident) -> str:
    assert incident.postmortem is not None
    return urlsplit(incident.postmortem.url).path


async def test_the_postmortem_link_opens_a_console_page_with_the_rendered_draft(
    world: ConsoleWorld,
) -> None:
    incident = await resolved(world)
    assert incident.postmortem is not None
    assert incident.postmortem.url == (
        f"{world.container.base_url}/console/postmortems/{incident.postmortem.id}"
    )
    reader = await world.signed_in("alice@example.com")
    incident_page = await reader.get(f"/console/incidents/{incident.id}")
    assert f'href="{incident.postmortem.url}" data-testid="postmortem-link"' in incident_page.text

    page = await reader.get(path_of(incident))
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert page.headers["cache-control"] == "no-store"
    html = page.text
    assert f"<h1>Postmortem: {incident.title}</h1>" in html
    assert "<h2>Timeline (UTC)</h2>" in html
    assert re.search(r"<table>\s*<thead>\s*<tr>\s*<th>Time \(UTC\)</th>", html)
    assert "postmortem-key" not in html  # the file's bookkeeping line is not shown
    assert f'href="/console/incidents/{incident.id}" data-testid="postmortem-incident-link"' in html
    download = f'href="/console/postmortems/{incident.postmortem.id}/markdown"'
    assert download in html
    assert "Download Markdown" in html
    assert 'data-testid="signed-in-as"' in html  # inside the console layout


async def test_html_in_an_alert_title_is_shown_as_text_not_run(world: ConsoleWorld) -> None:
    incident = await resolved(world, title=HOSTILE)
    reader = await world.signed_in("alice@example.com")
    html = (await reader.get(path_of(incident))).text
    article = html[html.index('data-testid="postmortem"') :]
    assert "<script>alert" not in article
    assert "<img" not in article
    assert "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" in article
    assert "&lt;img src=x onerror=alert(1)&gt;" in article


async def test_signed_out_visitors_are_sent_to_sign_in_and_back(world: ConsoleWorld) -> None:
    incident = await resolved(world)
    path = path_of(incident)
    stranger = world.browser()
    for target in (path, f"{path}/markdown"):
        answer = await stranger.get(target)
        assert answer.status_code == 303
        assert answer.headers["location"] == f"/console/sign-in?next={target}"
        assert "Timeline" not in answer.text

    reader = world.browser()
    signed_in = await reader.client.post(
        "/console/sign-in",
        data={
            "csrf": csrf_of((await reader.get("/console/sign-in")).text),
            "token": world.token("alice@example.com"),
            "next": path,
        },
    )
    assert signed_in.headers["location"] == path


async def test_the_markdown_downloads_as_the_filed_file(world: ConsoleWorld) -> None:
    incident = await resolved(world)
    assert incident.postmortem is not None
    reader = await world.signed_in("alice@example.com")
    answer = await reader.get(f"{path_of(incident)}/markdown")
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="{incident.postmortem.id}.md"'
    )
    filed = await world.container.issue_tracker.read(incident.postmortem.id)
    assert answer.text == filed


@pytest.mark.parametrize(
    ("name", "says"),
    [
        ("postmortem-nothing-00000000", "There is no postmortem"),
        ("x.md", "There is no postmortem"),
        ("..%2F..%2Fincident-response.sqlite3", "There is no console page"),
    ],
)
async def test_an_unknown_postmortem_is_a_404_page(
    world: ConsoleWorld, name: str, says: str
) -> None:
    reader = await world.signed_in("alice@example.com")
    for target in (f"/console/postmortems/{name}", f"/console/postmortems/{name}/markdown"):
        answer = await reader.get(target)
        assert answer.status_code == 404
        assert answer.headers["content-type"].startswith("text/html")
        assert says in answer.text


async def test_api_clients_read_the_markdown_with_a_personal_token(world: ConsoleWorld) -> None:
    incident = await resolved(world)
    assert incident.postmortem is not None
    api = world.browser().client
    path = f"/api/postmortems/{incident.postmortem.id}"
    assert (await api.get(path)).status_code == 401
    assert (await api.get(path, headers={"Authorization": "Bearer nope"})).status_code == 401

    token = {"Authorization": f"Bearer {world.token('alice@example.com')}"}
    answer = await api.get(path, headers=token)
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "text/markdown; charset=utf-8"
    assert answer.text == await world.container.issue_tracker.read(incident.postmortem.id)
    assert (await api.get("/api/postmortems/postmortem-nope-0", headers=token)).status_code == 404


async def test_postmortems_are_no_longer_served_to_anyone(world: ConsoleWorld) -> None:
    incident = await resolved(world)
    assert incident.postmortem is not None
    anonymous = world.browser().client
    answer = await anonymous.get(f"/postmortems/{incident.postmortem.id}")
    assert answer.status_code == 404
    assert "Timeline" not in answer.text
