"""The composition root builds the Linear tracker from the settings, and refuses bad ones."""

from __future__ import annotations

from pathlib import Path

import pytest

from incident_response.adapters.linear.tracker import LinearIssueTracker
from incident_response.bootstrap import Overrides, build
from incident_response.config import ConfigurationError, load_settings
from incident_response.integrations import Probe
from incident_response.ports import IssueTracker
from incident_response.services.postmortem_copy import PostmortemWithCopy
from tests.fakes.linear import FakeLinear
from tests.integration.linear.conftest import LABELS, PROJECT, TEAM_ID
from tests.support.clock import ManualClock
from tests.unit.commands.world import write_roster


def linear_settings(data_dir: Path, linear: FakeLinear, **more: str) -> dict[str, str]:
    return {
        "INCIDENT_RESPONSE_DATA_DIR": str(data_dir),
        "LINEAR_API_KEY": linear.api_key,
        "LINEAR_TEAM_ID": TEAM_ID,
        "LINEAR_API_URL": linear.api_url,
        **more,
    }


async def test_configured_linear_is_where_postmortems_go(
    tmp_path: Path, linear: FakeLinear
) -> None:
    write_roster(tmp_path)
    chosen: list[IssueTracker] = []

    def seen(tracker: IssueTracker) -> IssueTracker:
        chosen.append(tracker)
        return tracker

    settings = load_settings(
        linear_settings(
            tmp_path, linear, LINEAR_PROJECT_ID=PROJECT, LINEAR_LABEL_IDS=" , ".join(LABELS)
        )
    )
    app = await build(
        settings,
        base_url="http://incident-response.test",
        clock=ManualClock(),
        overrides=Overrides(issue_tracker=seen),
    )
    try:
        [filing] = chosen
        assert isinstance(filing, PostmortemWithCopy)
        tracker = filing.tracker
        assert isinstance(tracker, LinearIssueTracker)
        assert isinstance(tracker, Probe)  # `config check --probe` calls it
        assert await tracker.probe() == "team 'ENG' (Engineering) reachable as Alice Martin"
        filed = await filing.file_postmortem(key="inc-1", title="PM", body="b")
        [copy] = await app.issue_tracker.list()
    finally:
        await app.aclose()

    # the Markdown copy the console and /api/postmortems show opens with the Linear link
    assert copy.key == "inc-1"
    assert f"Filed in Linear: {filed.url}" in copy.path.read_text()

    [issue] = linear.issues.values()
    assert filed.url == issue["url"]
    assert issue["project"]["id"] == PROJECT
    assert issue["labelIds"] == list(LABELS)
    assert {c.headers["Authorization"] for c in linear.calls} == {linear.api_key}  # no "Bearer"


async def test_a_postmortem_filed_in_linear_is_read_by_the_id_the_incident_records(
    tmp_path: Path, linear: FakeLinear
) -> None:
    """The incident records Linear's URL with the copy's id: `GET /api/postmortems/{id}`, the
    console page and an agent asking for the filed postmortem all read the copy by that id."""
    write_roster(tmp_path)
    chosen: list[IssueTracker] = []

    def seen(tracker: IssueTracker) -> IssueTracker:
        chosen.append(tracker)
        return tracker

    settings = load_settings(linear_settings(tmp_path, linear))
    app = await build(settings, base_url="http://t", overrides=Overrides(issue_tracker=seen))
    try:
        [filing] = chosen
        filed = await filing.file_postmortem(key="inc-1", title="PM", body="What happened.")
        found = await filing.find_postmortem("inc-1")  # as a resolution resumed after a crash
        text = await app.issue_tracker.read(filed.id)
    finally:
        await app.aclose()

    [issue] = linear.issues.values()
    assert filed.url == issue["url"]
    assert found == filed
    assert text is not None
    assert "What happened." in text
    assert f"Filed in Linear: {issue['url']}" in text


async def test_a_label_name_in_linear_label_ids_stops_start_up_before_anything_opens(
    tmp_path: Path, linear: FakeLinear
) -> None:
    environ = linear_settings(tmp_path, linear, LINEAR_LABEL_IDS=f"{LABELS[0]},postmortem")

    with pytest.raises(ConfigurationError, match=r"LINEAR_LABEL_IDS.*'postmortem' is not a label"):
        load_settings(environ)

    assert linear.calls == []
