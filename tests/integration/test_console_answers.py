"""Where the console answers, over HTTP: a plain form post's reply lands beside the control it
answers (not at the top of the page), the public status page's 404 is the public page's own, and
the announcements channel describes what is posted there."""

from __future__ import annotations

from collections.abc import AsyncIterator
from html.parser import HTMLParser
from pathlib import Path

import pytest

from incident_response.domain.incident import Incident
from tests.support.clock import ManualClock
from tests.support.console import ConsoleWorld, console_world


@pytest.fixture
async def world(tmp_path: Path, clock: ManualClock) -> AsyncIterator[ConsoleWorld]:
    async with console_world(tmp_path, clock) as world:
        yield world


class TextOf(HTMLParser):
    """The text inside the element with a given id or test id (None when there is none)."""

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id = element_id
        self.depth = 0
        self.found: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.depth:
            self.depth += tag not in ("input", "br", "img", "meta", "link")
        elif self.element_id in (dict(attrs).get("id"), dict(attrs).get("data-testid")):
            self.depth, self.found = 1, ""

    def handle_endtag(self, tag: str) -> None:
        if self.depth:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth and self.found is not None:
            self.found += data


def text_of(html: str, element_id: str) -> str | None:
    parser = TextOf(element_id)
    parser.feed(html)
    return None if parser.found is None else parser.found.strip()


def page_of(incident: Incident) -> str:
    return f"/console/incidents/{incident.id}"


async def test_a_plain_form_posts_reply_lands_beside_the_control_it_answers(
    world: ConsoleWorld,
) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    page = page_of(incident)

    async def post(action: str, data: dict[str, str], place: str, expected: str) -> None:
        answered = await ic.submit(page, f"{page}/{action}", data)
        assert answered.status_code == 303
        assert answered.headers["location"].endswith(f"#{place}")
        shown = (await ic.get(page)).text
        assert expected in (text_of(shown, f"reply-{place}") or "")
        assert text_of(shown, "flash") == ""  # not at the top of the page
        assert expected not in (text_of((await ic.get(page)).text, f"reply-{place}") or "")

    await post("commands", {"text": "dance"}, "command", "Unknown command `dance`")
    await post("commands", {"text": "help"}, "command", "checklist")
    await post("checklist", {"number": "2", "done": "1"}, "checklist", "Item 2 is done")
    await post("drafts", {}, "drafts", "is ready for review")
    draft_id = (await world.container.store.get(incident.id) or incident).drafts[-1].id
    await post(f"drafts/{draft_id}/reject", {"reason": "vague"}, f"draft-{draft_id}", "rejected")


async def test_a_reply_with_no_place_of_its_own_stays_at_the_top(world: ConsoleWorld) -> None:
    incident = await world.alert()
    ic = await world.signed_in(incident.ic or "")
    signed_in = await ic.get("/console")
    assert "Signed in as" in (text_of(signed_in.text, "flash") or "")


@pytest.mark.parametrize("path", ["/status/incidents/nope", "/status/anything-unknown"])
async def test_the_public_404_is_the_status_pages_own(world: ConsoleWorld, path: str) -> None:
    response = await world.browser().get(path)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert 'nav aria-label="Status page"' in response.text
    assert "Page not found" in response.text
    assert 'href="/console' not in response.text
    assert '<script src="/static/' in response.text
    assert '<script src="http' not in response.text
    assert "default-src 'self'" in response.headers["content-security-policy"]


async def test_unknown_status_json_still_answers_in_json(world: ConsoleWorld) -> None:
    browser = world.browser()
    missing = await browser.get("/status/api/v2/nope.json")
    assert missing.status_code == 404
    assert missing.json() == {"error": "Not Found"}
    assert (await browser.get("/status/")).headers["location"].endswith("/status")


async def test_the_announcements_channel_describes_what_is_posted_there(
    world: ConsoleWorld,
) -> None:
    still_open = await world.alert(title="HighLatency search", service="search")
    resolved = await world.alert(title="HighErrorRate exports", service="exports")
    browser = await world.signed_in(resolved.ic or "")
    done = await browser.submit(
        page_of(resolved), f"{page_of(resolved)}/resolve", {"confirmed": "yes"}
    )
    assert done.status_code == 303
    await world.process()
    page = await browser.get("/console/announcements", follow_redirects=True)
    assert page.status_code == 200
    purpose = text_of(page.text, "channel-purpose") or ""
    assert "when it is resolved" in purpose
    assert "New incidents are not posted here" in purpose
    messages = text_of(page.text, "conversation") or ""
    assert f"Resolved: {resolved.severity.value} HighErrorRate exports ({resolved.id})" in messages
    assert still_open.id not in messages
